//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A listener's lifecycle: its bound port, who waits for it to listen or to close, and what it counted.
/// Generic over the waiters so that transcripts can use plain values; `ListenerShared` keeps it under a lock.
struct ListenerLifecycleStateMachine<ListenWaiter, CloseWaiter> {
    /// Who to wake when the listener closes, and with what.
    struct Close {
        var listenWaiters: [ListenWaiter]
        var listenFailure: AMQPError
        var closeWaiters: [CloseWaiter]
    }

    /// The bound port (0 until it listens).
    private(set) var port = 0
    private(set) var isListening = false
    private var finished: AMQPError?? = .none
    private var listenWaiters: [ListenWaiter] = []
    private var closeWaiters: [CloseWaiter] = []
    /// What the listener accepted and refused (its connections keep counting after it closed).
    var statistics = AMQPListenerStatistics()

    init() {}

    /// Bound: returns who waited for it.
    mutating func listening(port: Int) -> [ListenWaiter] {
        self.port = port
        self.isListening = true
        defer { self.listenWaiters.removeAll() }
        return self.listenWaiters
    }

    /// Closed, with the error if it never listened or failed.
    mutating func closed(error: AMQPError?) -> Close {
        self.finished = .some(error)
        defer {
            self.listenWaiters.removeAll()
            self.closeWaiters.removeAll()
        }
        return Close(
            listenWaiters: self.listenWaiters,
            listenFailure: error ?? AMQPError(.closed, "the listener closed"),
            closeWaiters: self.closeWaiters
        )
    }

    /// Parks `waiter` until it listens, or returns what to resume it with at once.
    mutating func waitListening(_ waiter: ListenWaiter) -> Result<Void, AMQPError>? {
        if self.isListening { return .success(()) }
        if case .some(let error) = self.finished { return .failure(error ?? AMQPError(.closed, "the listener closed")) }
        self.listenWaiters.append(waiter)
        return nil
    }

    /// Parks `waiter` until it closes; false when it already has (resume it at once).
    mutating func waitClosed(_ waiter: CloseWaiter) -> Bool {
        if case .some = self.finished { return false }
        self.closeWaiters.append(waiter)
        return true
    }
}
