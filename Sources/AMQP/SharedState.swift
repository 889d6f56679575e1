//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

// The hand-over points between the proactor thread and Swift tasks. Each keeps a value-type state machine
// (StateMachines/) under a lock, with continuations as its waiters, and resumes what the machine returns after
// leaving the lock; the rules themselves live, and are tested by transcript, in the machines.

/// The hand-over between a receiving link on the proactor thread and the task iterating its deliveries.
final class ReceiverShared: Sendable {
    private typealias Machine = ReceiverHandOverStateMachine<
        AMQPDelivery, CheckedContinuation<[AMQPDelivery], any Error>, CheckedContinuation<Void, any Error>
    >

    /// The credit window (prefetch): at most this many deliveries are unsettled at once.
    let window: Int
    /// Whether our source terminus asks for a durable node (RabbitMQ: a durable queue).
    let durableTerminus: Bool
    /// Whether each delivery is decoded into `AMQPDelivery.message` (false: the application reads `encoded`).
    let decodesMessages: Bool
    private let machine = Mutex(Machine())

    init(window: Int, durableTerminus: Bool = false, decodesMessages: Bool = true) {
        self.window = window
        self.durableTerminus = durableTerminus
        self.decodesMessages = decodesMessages
    }

    /// Proactor thread: new deliveries.
    func push(_ deliveries: [AMQPDelivery]) {
        self.machine.withLock { $0.push(deliveries) }?.resume(returning: deliveries)
    }

    /// Proactor thread: the link attached (again).
    func markAttached() {
        for waiter in self.machine.withLock({ $0.attached() }) { waiter.resume() }
    }

    /// Proactor thread: a settlement arrived for a delivery whose attachment is gone; the peer redelivers it.
    func countStaleSettlement() {
        self.machine.withLock { $0.staleSettlement() }
    }

    /// How many settlements were dropped because their connection had been lost (the peer redelivers those).
    var staleSettlements: Int { self.machine.withLock { $0.staleSettlements } }

    /// Deliveries handed over and not yet taken by the consumer.
    var bufferedCount: Int { self.machine.withLock { $0.bufferedCount } }

    /// The link ended: `error` nil for a requested close.
    func finish(error: AMQPError?) {
        guard let finish = self.machine.withLock({ $0.finish(error: error) }) else { return }
        if let (consumer, take) = finish.consumer { consumer.resume(with: Self.result(take)) }
        for waiter in finish.attachWaiters { waiter.resume(throwing: finish.attachError) }
    }

    /// Consumer: the next batch; empty at the end of the link; throws the link's error.
    func nextBatch() async throws -> [AMQPDelivery] {
        if let ready = self.machine.withLock({ $0.take() }) { return try Self.result(ready).get() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[AMQPDelivery], any Error>) in
                let immediate: Result<[AMQPDelivery], any Error>? = self.machine.withLock { machine in
                    if let ready = machine.take() { return Self.result(ready) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    machine.park(continuation)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            self.machine.withLock { $0.cancelWaiter() }?.resume(throwing: CancellationError())
        }
    }

    /// Waits until the link attached the first time, or throws why it could not.
    func waitAttached() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if let immediate = self.machine.withLock({ $0.waitAttached(continuation) }) {
                continuation.resume(with: immediate.mapError { $0 as any Error })
            }
        }
    }

    private static func result(_ take: Machine.Take) -> Result<[AMQPDelivery], any Error> {
        switch take {
        case .batch(let deliveries): .success(deliveries)
        case .end: .success([])
        case .failure(let error): .failure(error)
        }
    }
}

/// The hand-over for a sending link: a window of messages in flight that makes `send` wait instead of queueing
/// without bound, the peer's credit, and who waits for the link's first attach and its end.
final class SenderShared: Sendable {
    private typealias Machine = SenderWindowStateMachine<
        CheckedContinuation<Void, any Error>, CheckedContinuation<Void, any Error>, CheckedContinuation<Void, Never>
    >

    private struct State {
        var machine: Machine
        var creditObserver: (@Sendable (AMQPSenderCredit) -> Void)?
    }

    /// The most messages in flight at once.
    let capacity: Int
    /// Whether our target terminus asks for a durable node (RabbitMQ: a durable queue).
    let durableTerminus: Bool
    private let state: Mutex<State>

    init(capacity: Int, durableTerminus: Bool = false) {
        self.capacity = capacity
        self.durableTerminus = durableTerminus
        self.state = Mutex(State(machine: Machine(capacity: capacity)))
    }

    /// Takes a slot in the window, waiting while it is full (woken at the window's low-water mark).
    func acquire() async throws {
        while true {
            switch self.state.withLock({ $0.machine.acquire() }) {
            case .acquired: return
            case .failed(let error): throw error
            case .full: break
            }
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if let immediate = self.state.withLock({ $0.machine.park(continuation) }) {
                    continuation.resume(with: immediate.mapError { $0 as any Error })
                }
            }
        }
    }

    /// Takes a slot if one is free, without waiting; throws `overloaded` when the window is full, the link's end
    /// when it ended.
    func tryAcquire() throws(AMQPError) {
        switch self.state.withLock({ $0.machine.acquire() }) {
        case .acquired: return
        case .failed(let error): throw error
        case .full:
            throw AMQPError(
                .overloaded,
                "the send window of \(self.capacity) messages is full — wait for outcomes (or use enqueue, which waits)"
            )
        }
    }

    /// Gives a slot back (its message completed); wakes the waiting producers at the low-water mark.
    func release() {
        for producer in self.state.withLock({ $0.machine.release() }) { producer.resume() }
    }

    /// Messages queued or awaiting their disposition.
    var inFlight: Int { self.state.withLock { $0.machine.inFlight } }

    /// The peer's latest credit, as the link reported it.
    var credit: AMQPSenderCredit { self.state.withLock { $0.machine.credit } }

    /// Proactor thread: the credit changed; the observer (if any) hears it on this thread.
    func reportCredit(_ credit: AMQPSenderCredit) {
        let observer = self.state.withLock { state in
            state.machine.credit = credit
            return state.creditObserver
        }
        observer?(credit)
    }

    /// Sets who hears credit changes, and tells it the current credit at once.
    func observeCredit(_ observer: @escaping @Sendable (AMQPSenderCredit) -> Void) {
        let current = self.state.withLock { state in
            state.creditObserver = observer
            return state.machine.credit
        }
        observer(current)
    }

    /// Proactor thread: the link attached (again).
    func markAttached() {
        for waiter in self.state.withLock({ $0.machine.attached() }) { waiter.resume() }
    }

    /// The link ended; waiting senders fail.
    func finish(error: AMQPError?) {
        guard let finish = self.state.withLock({ $0.machine.finish(error: error) }) else { return }
        for waiter in finish.producers + finish.attachWaiters { waiter.resume(throwing: finish.failure) }
        for waiter in finish.finishWaiters { waiter.resume() }
    }

    /// Waits until the link ended.
    func waitFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !self.state.withLock({ $0.machine.waitFinished(continuation) }) { continuation.resume() }
        }
    }

    /// Waits until the link attached the first time, or throws why it could not.
    func waitAttached() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if let immediate = self.state.withLock({ $0.machine.waitAttached(continuation) }) {
                continuation.resume(with: immediate.mapError { $0 as any Error })
            }
        }
    }
}

/// The hand-over for a connection's lifecycle: who waits for it to open or close, and its status.
final class ConnectionShared: Sendable {
    private typealias Machine = ConnectionLifecycleStateMachine<CheckedContinuation<Void, any Error>, CheckedContinuation<Void, Never>>

    private let machine = Mutex(Machine())

    /// The current status.
    var status: ConnectionStatus { self.machine.withLock { $0.status } }

    /// How many times the connection opened (1 + reconnects).
    var opens: Int { self.machine.withLock { $0.opens } }

    /// Proactor thread: Open arrived.
    func opened() {
        for waiter in self.machine.withLock({ $0.opened() }) { waiter.resume() }
    }

    /// Proactor thread: lost, will reconnect.
    func reconnecting(after error: AMQPError) {
        self.machine.withLock { $0.reconnecting(after: error) }
    }

    /// Proactor thread: finished for good.
    func finished(error: AMQPError?) {
        let finish = self.machine.withLock { $0.finished(error: error) }
        for waiter in finish.openWaiters { waiter.resume(throwing: finish.openFailure) }
        for waiter in finish.closeWaiters { waiter.resume() }
    }

    /// Waits for the first Open, or throws why the connection gave up.
    func waitOpen() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if let immediate = self.machine.withLock({ $0.waitOpen(continuation) }) {
                continuation.resume(with: immediate.mapError { $0 as any Error })
            }
        }
    }

    /// Waits until the connection is finished for good.
    func waitClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !self.machine.withLock({ $0.waitClosed(continuation) }) { continuation.resume() }
        }
    }
}

/// The hand-over for a listener: its bound port, what it counted, and who waits for it.
final class ListenerShared: Sendable {
    private typealias Machine = ListenerLifecycleStateMachine<CheckedContinuation<Void, any Error>, CheckedContinuation<Void, Never>>

    private let machine = Mutex(Machine())

    /// The bound port.
    var port: Int { self.machine.withLock { $0.port } }

    /// What the listener accepted and refused so far.
    var statistics: AMQPListenerStatistics { self.machine.withLock { $0.statistics } }

    /// Proactor thread: counts something (the listener's connections keep counting after it closed).
    func count(_ update: (inout AMQPListenerStatistics) -> Void) {
        self.machine.withLock { update(&$0.statistics) }
    }

    /// Proactor thread: bound.
    func listening(port: Int) {
        for waiter in self.machine.withLock({ $0.listening(port: port) }) { waiter.resume() }
    }

    /// Proactor thread: closed, with the error if it never listened or failed.
    func closed(error: AMQPError?) {
        let close = self.machine.withLock { $0.closed(error: error) }
        for waiter in close.listenWaiters { waiter.resume(throwing: close.listenFailure) }
        for waiter in close.closeWaiters { waiter.resume() }
    }

    /// Waits until it listens, or throws why it could not.
    func waitListening() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if let immediate = self.machine.withLock({ $0.waitListening(continuation) }) {
                continuation.resume(with: immediate.mapError { $0 as any Error })
            }
        }
    }

    /// Waits until it closed.
    func waitClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !self.machine.withLock({ $0.waitClosed(continuation) }) { continuation.resume() }
        }
    }
}
