//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Who waits for a link's first attach, shared by both link kinds' hand-over machines. Generic over the waiter
/// so transcripts can use plain values where the links park continuations.
struct FirstAttachWaiters<Waiter> {
    /// Whether the link attached at least once.
    private(set) var isAttached = false
    private var waiters: [Waiter] = []

    /// The link attached: returns the waiters to resume.
    mutating func attached() -> [Waiter] {
        self.isAttached = true
        return self.takeWaiters()
    }

    /// Removes and returns every waiter (to fail them when the link ends).
    mutating func takeWaiters() -> [Waiter] {
        defer { self.waiters.removeAll() }
        return self.waiters
    }

    /// Parks `waiter`, or returns what to resume it with at once: success if attached, the end if the link
    /// already finished (`finished` is nil while it runs, `.some(nil)` after a requested close).
    mutating func wait(_ waiter: Waiter, finished: AMQPError??) -> Result<Void, AMQPError>? {
        if self.isAttached { return .success(()) }
        if case .some(let error) = finished {
            return .failure(error ?? AMQPError(.closed, "the link was closed before it attached"))
        }
        self.waiters.append(waiter)
        return nil
    }
}
