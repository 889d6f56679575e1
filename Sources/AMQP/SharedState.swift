//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// The hand-over point between a receiving link on the proactor thread and the task iterating its deliveries.
/// The proactor thread pushes whole batches (one per proactor event batch), so a busy link wakes the consumer
/// once per batch rather than once per message.
final class ReceiverShared: Sendable {
    private struct State {
        var buffer: [AMQPDelivery] = []
        var waiter: CheckedContinuation<[AMQPDelivery], any Error>?
        var finished: AMQPError?? = .none
        var attach = FirstAttach()
        var staleSettlements = 0
        var reattachments = 0
    }

    /// The credit window (prefetch): at most this many deliveries are unsettled at once.
    let window: Int
    /// Whether our source terminus asks for a durable node (RabbitMQ: a durable queue).
    let durableTerminus: Bool
    private let state = Mutex(State())

    init(window: Int, durableTerminus: Bool = false) {
        self.window = window
        self.durableTerminus = durableTerminus
    }

    /// Proactor thread: new deliveries.
    func push(_ deliveries: [AMQPDelivery]) {
        let waiter = self.state.withLock { state -> CheckedContinuation<[AMQPDelivery], any Error>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffer.append(contentsOf: deliveries)
            return nil
        }
        waiter?.resume(returning: deliveries)
    }

    /// Proactor thread: the link attached (again).
    func markAttached() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            if state.attach.isAttached { state.reattachments += 1 }
            return state.attach.attached()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Proactor thread: a settlement arrived for a delivery whose attachment is gone; the peer redelivers it.
    func countStaleSettlement() {
        self.state.withLock { $0.staleSettlements += 1 }
    }

    /// How many settlements were dropped because their connection had been lost (the peer redelivers those).
    var staleSettlements: Int { self.state.withLock { $0.staleSettlements } }

    /// Deliveries handed over and not yet taken by the consumer.
    var bufferedCount: Int { self.state.withLock { $0.buffer.count } }

    /// The link ended: `error` nil for a requested close.
    func finish(error: AMQPError?) {
        let (waiter, attachWaiters) = self.state.withLock {
            state -> (CheckedContinuation<[AMQPDelivery], any Error>?, [CheckedContinuation<Void, any Error>]) in
            if case .some = state.finished { return (nil, []) }
            state.finished = .some(error)
            let waiter = state.buffer.isEmpty ? state.waiter : nil
            if waiter != nil { state.waiter = nil }
            return (waiter, state.attach.takeWaiters())
        }
        if let error {
            waiter?.resume(throwing: error)
        } else {
            waiter?.resume(returning: [])
        }
        let attachError = error ?? AMQPError(.closed, "the link was closed before it attached")
        for attachWaiter in attachWaiters { attachWaiter.resume(throwing: attachError) }
    }

    /// Consumer: the next batch; empty at the end of the link; throws the link's error.
    func nextBatch() async throws -> [AMQPDelivery] {
        let ready: Result<[AMQPDelivery], any Error>? = self.state.withLock { state in
            if !state.buffer.isEmpty {
                defer { state.buffer.removeAll(keepingCapacity: true) }
                return .success(state.buffer)
            }
            switch state.finished {
            case .some(.some(let error)): return .failure(error)
            case .some(.none): return .success([])
            case .none: return nil
            }
        }
        if let ready { return try ready.get() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[AMQPDelivery], any Error>) in
                let immediate: Result<[AMQPDelivery], any Error>? = self.state.withLock { state in
                    if !state.buffer.isEmpty {
                        defer { state.buffer.removeAll(keepingCapacity: true) }
                        return .success(state.buffer)
                    }
                    switch state.finished {
                    case .some(.some(let error)): return .failure(error)
                    case .some(.none): return .success([])
                    case .none:
                        if Task.isCancelled { return .failure(CancellationError()) }
                        state.waiter = continuation
                        return nil
                    }
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<[AMQPDelivery], any Error>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Waits until the link attached the first time, or throws why it could not.
    func waitAttached() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let immediate = self.state.withLock { $0.attach.wait(continuation, finished: $0.finished) }
            if let immediate { continuation.resume(with: immediate) }
        }
    }
}

/// The hand-over point for a sending link: a window of messages in flight (queued or awaiting their
/// disposition) that makes `send` wait instead of queueing without bound.
final class SenderShared: Sendable {
    private struct State {
        var inFlight = 0
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var attach = FirstAttach()
        var finished: AMQPError?? = .none
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
        var credit = AMQPSenderCredit(available: 0, taken: 0, drain: false)
        var creditObserver: (@Sendable (AMQPSenderCredit) -> Void)?
    }

    /// The most messages in flight at once.
    let capacity: Int
    /// Whether our target terminus asks for a durable node (RabbitMQ: a durable queue).
    let durableTerminus: Bool
    private let state = Mutex(State())

    init(capacity: Int, durableTerminus: Bool = false) {
        self.capacity = capacity
        self.durableTerminus = durableTerminus
    }

    /// Takes a slot in the window, waiting while it is full. A waiting caller is woken only once the window has
    /// drained to its low-water mark, so a producer that outpaces the peer is woken once per batch of
    /// completions instead of once per message (each wake-up is a thread switch).
    func acquire() async throws {
        while true {
            let acquired: Bool = try self.state.withLock { state in
                if case .some(let error) = state.finished {
                    throw error ?? AMQPError(.closed, "the sender is closed")
                }
                guard state.inFlight < self.capacity else { return false }
                state.inFlight += 1
                return true
            }
            if acquired { return }
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = self.state.withLock { state in
                    if case .some(let error) = state.finished {
                        return .failure(error ?? AMQPError(.closed, "the sender is closed"))
                    }
                    if state.inFlight <= self.lowWaterMark { return .success(()) }
                    state.waiters.append(continuation)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        }
    }

    /// Where a full window must drain to before waiting producers are woken.
    private var lowWaterMark: Int { self.capacity - max(1, self.capacity / 4) }

    /// Gives a slot back (its message completed); wakes the waiting producers at the low-water mark.
    func release() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.inFlight -= 1
            guard !state.waiters.isEmpty, state.inFlight <= self.lowWaterMark else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Messages queued or awaiting their disposition.
    var inFlight: Int { self.state.withLock { $0.inFlight } }

    /// The peer's latest credit, as the link reported it.
    var credit: AMQPSenderCredit { self.state.withLock { $0.credit } }

    /// Proactor thread: the credit changed; the observer (if any) hears it on this thread.
    func reportCredit(_ credit: AMQPSenderCredit) {
        let observer = self.state.withLock { state in
            state.credit = credit
            return state.creditObserver
        }
        observer?(credit)
    }

    /// Sets who hears credit changes, and tells it the current credit at once.
    func observeCredit(_ observer: @escaping @Sendable (AMQPSenderCredit) -> Void) {
        let current = self.state.withLock { state in
            state.creditObserver = observer
            return state.credit
        }
        observer(current)
    }

    /// Proactor thread: the link attached (again).
    func markAttached() {
        let waiters = self.state.withLock { $0.attach.attached() }
        for waiter in waiters { waiter.resume() }
    }

    /// The link ended; waiting senders fail.
    func finish(error: AMQPError?) {
        let (waiters, attachWaiters, finishWaiters) = self.state.withLock {
            state -> ([CheckedContinuation<Void, any Error>], [CheckedContinuation<Void, any Error>], [CheckedContinuation<Void, Never>]) in
            if case .some = state.finished { return ([], [], []) }
            state.finished = .some(error)
            defer {
                state.waiters.removeAll()
                state.finishWaiters.removeAll()
            }
            return (state.waiters, state.attach.takeWaiters(), state.finishWaiters)
        }
        let failure = error ?? AMQPError(.closed, "the sender is closed")
        for waiter in waiters + attachWaiters { waiter.resume(throwing: failure) }
        for waiter in finishWaiters { waiter.resume() }
    }

    /// Waits until the link ended.
    func waitFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.state.withLock { state -> Bool in
                if case .some = state.finished { return true }
                state.finishWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Waits until the link attached the first time, or throws why it could not.
    func waitAttached() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let immediate = self.state.withLock { $0.attach.wait(continuation, finished: $0.finished) }
            if let immediate { continuation.resume(with: immediate) }
        }
    }
}

/// The hand-over point for a connection's lifecycle: who waits for it to open or close, and its status.
final class ConnectionShared: Sendable {
    /// Where the connection is, as callers see it.
    enum Status: Sendable {
        case connecting
        case open
        case reconnecting(after: AMQPError)
        case closed(AMQPError?)
    }

    private struct State {
        var status: Status = .connecting
        var openWaiters: [CheckedContinuation<Void, any Error>] = []
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var opens = 0
    }

    private let state = Mutex(State())

    /// The current status.
    var status: Status { self.state.withLock { $0.status } }
    /// How many times the connection opened (1 + reconnects).
    var opens: Int { self.state.withLock { $0.opens } }

    /// Proactor thread: Open arrived.
    func opened() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.status = .open
            state.opens += 1
            defer { state.openWaiters.removeAll() }
            return state.openWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Proactor thread: lost, will reconnect.
    func reconnecting(after error: AMQPError) {
        self.state.withLock { $0.status = .reconnecting(after: error) }
    }

    /// Proactor thread: finished for good.
    func finished(error: AMQPError?) {
        let (openWaiters, closeWaiters) = self.state.withLock {
            state -> ([CheckedContinuation<Void, any Error>], [CheckedContinuation<Void, Never>]) in
            state.status = .closed(error)
            defer {
                state.openWaiters.removeAll()
                state.closeWaiters.removeAll()
            }
            return (state.openWaiters, state.closeWaiters)
        }
        let failure = error ?? AMQPError(.closed, "the connection was closed before it opened")
        for waiter in openWaiters { waiter.resume(throwing: failure) }
        for waiter in closeWaiters { waiter.resume() }
    }

    /// Waits for the first Open, or throws why the connection gave up.
    func waitOpen() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let immediate: Result<Void, any Error>? = self.state.withLock { state in
                switch state.status {
                case .open: return .success(())
                case .closed(let error):
                    return .failure(error ?? AMQPError(.closed, "the connection is closed"))
                case .connecting, .reconnecting:
                    if state.opens > 0 { return .success(()) }
                    state.openWaiters.append(continuation)
                    return nil
                }
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    /// Waits until the connection is finished for good.
    func waitClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.state.withLock { state -> Bool in
                if case .closed = state.status { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// The hand-over point for a listener: its bound port and who waits for it.
final class ListenerShared: Sendable {
    private struct State {
        var port = 0
        var listening = false
        var finished: AMQPError?? = .none
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var statistics = AMQPListenerStatistics()
    }

    private let state = Mutex(State())

    /// The bound port.
    var port: Int { self.state.withLock { $0.port } }

    /// What the listener accepted and refused so far.
    var statistics: AMQPListenerStatistics { self.state.withLock { $0.statistics } }

    /// Proactor thread: counts something (the listener's connections keep counting after it closed).
    func count(_ update: (inout AMQPListenerStatistics) -> Void) {
        self.state.withLock { update(&$0.statistics) }
    }

    /// Proactor thread: bound.
    func listening(port: Int) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.port = port
            state.listening = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Proactor thread: closed, with the error if it never listened or failed.
    func closed(error: AMQPError?) {
        let (waiters, closeWaiters) = self.state.withLock {
            state -> ([CheckedContinuation<Void, any Error>], [CheckedContinuation<Void, Never>]) in
            state.finished = .some(error)
            defer {
                state.waiters.removeAll()
                state.closeWaiters.removeAll()
            }
            return (state.waiters, state.closeWaiters)
        }
        for waiter in waiters { waiter.resume(throwing: error ?? AMQPError(.closed, "the listener closed")) }
        for waiter in closeWaiters { waiter.resume() }
    }

    func waitListening() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let immediate: Result<Void, any Error>? = self.state.withLock { state in
                if state.listening { return .success(()) }
                if case .some(let error) = state.finished {
                    return .failure(error ?? AMQPError(.closed, "the listener closed"))
                }
                state.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    func waitClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.state.withLock { state -> Bool in
                if case .some = state.finished { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// Who waits for a link's first attach, shared by both link kinds (kept inside each one's lock).
struct FirstAttach {
    private(set) var isAttached = false
    private var waiters: [CheckedContinuation<Void, any Error>] = []

    /// The link attached: returns the waiters to resume.
    mutating func attached() -> [CheckedContinuation<Void, any Error>] {
        self.isAttached = true
        return self.takeWaiters()
    }

    /// Removes and returns every waiter (to fail them when the link ends).
    mutating func takeWaiters() -> [CheckedContinuation<Void, any Error>] {
        defer { self.waiters.removeAll() }
        return self.waiters
    }

    /// Parks `continuation`, or returns what to resume it with at once: success if attached, the end if the
    /// link already finished.
    mutating func wait(
        _ continuation: CheckedContinuation<Void, any Error>,
        finished: AMQPError??
    ) -> Result<Void, any Error>? {
        if self.isAttached { return .success(()) }
        if case .some(let error) = finished {
            return .failure(error ?? AMQPError(.closed, "the link was closed before it attached"))
        }
        self.waiters.append(continuation)
        return nil
    }
}
