//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Where a connection is, as callers see it.
enum ConnectionStatus: Sendable {
    case connecting
    case open
    case reconnecting(after: AMQPError)
    /// Finished for good: nil after a requested close, the error otherwise.
    case closed(AMQPError?)
}

/// A connection's lifecycle as callers see it: who waits for it to open or to be finished for good, and its status.
/// Generic over the waiters so that transcripts can use plain values; `ConnectionShared` keeps it under a lock with
/// continuations as waiters and performs what it returns.
struct ConnectionLifecycleStateMachine<OpenWaiter, CloseWaiter> {
    /// Where the connection is.
    typealias Status = ConnectionStatus

    /// Who to wake when the connection is finished, and with what.
    struct Finish {
        var openWaiters: [OpenWaiter]
        var openFailure: AMQPError
        var closeWaiters: [CloseWaiter]
    }

    private(set) var status: Status = .connecting
    /// How many times the connection opened (1 + reconnects).
    private(set) var opens = 0
    private var openWaiters: [OpenWaiter] = []
    private var closeWaiters: [CloseWaiter] = []

    init() {}

    /// Open arrived: returns who waited for it.
    mutating func opened() -> [OpenWaiter] {
        self.status = .open
        self.opens += 1
        defer { self.openWaiters.removeAll() }
        return self.openWaiters
    }

    /// Lost; it will reconnect. Who waits for the first Open keeps waiting.
    mutating func reconnecting(after error: AMQPError) {
        self.status = .reconnecting(after: error)
    }

    /// Finished for good.
    mutating func finished(error: AMQPError?) -> Finish {
        self.status = .closed(error)
        defer {
            self.openWaiters.removeAll()
            self.closeWaiters.removeAll()
        }
        return Finish(
            openWaiters: self.openWaiters,
            openFailure: error ?? AMQPError(.closed, "the connection was closed before it opened"),
            closeWaiters: self.closeWaiters
        )
    }

    /// Parks `waiter` until the first Open, or returns what to resume it with at once: success once it opened
    /// (even if it is reconnecting now), the error once it is finished.
    mutating func waitOpen(_ waiter: OpenWaiter) -> Result<Void, AMQPError>? {
        switch self.status {
        case .open: return .success(())
        case .closed(let error): return .failure(error ?? AMQPError(.closed, "the connection is closed"))
        case .connecting, .reconnecting:
            if self.opens > 0 { return .success(()) }
            self.openWaiters.append(waiter)
            return nil
        }
    }

    /// Parks `waiter` until the connection is finished; false when it already is (resume it at once).
    mutating func waitClosed(_ waiter: CloseWaiter) -> Bool {
        if case .closed = self.status { return false }
        self.closeWaiters.append(waiter)
        return true
    }
}
