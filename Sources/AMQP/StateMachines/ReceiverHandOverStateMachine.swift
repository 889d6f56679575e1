//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The hand-over between a receiving link on the proactor thread and the task iterating its deliveries. The
/// proactor thread pushes whole batches (one per proactor event batch), so a busy link wakes the consumer once per
/// batch rather than once per message. At most one consumer waits at a time.
///
/// Generic over the delivery and the waiters so that transcripts can use plain values; `ReceiverShared` keeps it
/// under a lock with continuations as waiters and performs what it returns.
struct ReceiverHandOverStateMachine<Delivery, BatchWaiter, AttachWaiter> {
    /// What a consumer asking for the next batch gets.
    enum Take {
        /// Deliveries, in arrival order.
        case batch([Delivery])
        /// The link was closed as requested: no more deliveries.
        case end
        /// The link failed.
        case failure(AMQPError)
    }

    /// What to do when the link ends.
    struct Finish {
        /// The waiting consumer and what it gets (only when nothing is buffered; buffered deliveries come first).
        var consumer: (BatchWaiter, Take)?
        /// Who waited for the first attach, and the error they get.
        var attachWaiters: [AttachWaiter]
        var attachError: AMQPError
    }

    private var buffer: [Delivery] = []
    private var waiter: BatchWaiter?
    /// nil while the link runs; `.some(nil)` after a requested close; `.some(error)` after a failure.
    private(set) var finished: AMQPError?? = .none
    private var attach = FirstAttachWaiters<AttachWaiter>()
    /// Settlements dropped because their attachment was gone (the peer redelivers those).
    private(set) var staleSettlements = 0
    /// Attaches after the first (reconnects).
    private(set) var reattachments = 0

    init() {}

    /// Deliveries handed over and not yet taken.
    var bufferedCount: Int { self.buffer.count }

    /// Proactor thread: new deliveries. Returns the waiting consumer to hand them to directly, or nil when they
    /// were buffered.
    mutating func push(_ deliveries: [Delivery]) -> BatchWaiter? {
        if let waiter = self.waiter {
            self.waiter = nil
            return waiter
        }
        self.buffer.append(contentsOf: deliveries)
        return nil
    }

    /// Proactor thread: the link attached (again). Returns who waited for the first attach.
    mutating func attached() -> [AttachWaiter] {
        if self.attach.isAttached { self.reattachments += 1 }
        return self.attach.attached()
    }

    /// Proactor thread: a settlement arrived for a delivery whose attachment is gone.
    mutating func staleSettlement() {
        self.staleSettlements += 1
    }

    /// The link ended (`error` nil for a requested close); only the first end counts.
    mutating func finish(error: AMQPError?) -> Finish? {
        if case .some = self.finished { return nil }
        self.finished = .some(error)
        var consumer: (BatchWaiter, Take)?
        if self.buffer.isEmpty, let waiter = self.waiter {
            self.waiter = nil
            consumer = (waiter, error.map(Take.failure) ?? .end)
        }
        return Finish(
            consumer: consumer,
            attachWaiters: self.attach.takeWaiters(),
            attachError: error ?? AMQPError(.closed, "the link was closed before it attached")
        )
    }

    /// Consumer: what is ready now (buffered deliveries before the end), or nil when it must wait.
    mutating func take() -> Take? {
        if !self.buffer.isEmpty {
            defer { self.buffer.removeAll(keepingCapacity: true) }
            return .batch(self.buffer)
        }
        switch self.finished {
        case .some(.some(let error)): return .failure(error)
        case .some(.none): return .end
        case .none: return nil
        }
    }

    /// Consumer: parks `waiter` until deliveries or the end arrive (call after `take` returned nil, under the
    /// same lock).
    mutating func park(_ waiter: BatchWaiter) {
        precondition(self.waiter == nil, "one consumer at a time")
        self.waiter = waiter
    }

    /// The waiting consumer gave up (its task was cancelled): returns it to resume, if it still waits.
    mutating func cancelWaiter() -> BatchWaiter? {
        defer { self.waiter = nil }
        return self.waiter
    }

    /// Parks `waiter` until the first attach, or returns what to resume it with at once.
    mutating func waitAttached(_ waiter: AttachWaiter) -> Result<Void, AMQPError>? {
        self.attach.wait(waiter, finished: self.finished)
    }
}
