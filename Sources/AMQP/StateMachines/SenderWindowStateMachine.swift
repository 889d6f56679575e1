//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The window of a sending link: at most `capacity` messages in flight (queued or awaiting their disposition), so
/// `send` waits instead of queueing without bound. A producer that found the window full is woken only once it
/// drained to its low-water mark: one wake-up per batch of completions instead of one per message (each wake-up is
/// a thread switch). Also who waits for the first attach and for the end, and the peer's latest credit.
///
/// Generic over the waiters so that transcripts can use plain values; `SenderShared` keeps it under a lock with
/// continuations as waiters and performs what it returns.
struct SenderWindowStateMachine<Producer, AttachWaiter, FinishWaiter> {
    /// What a producer asking for a slot gets.
    enum Acquire {
        /// A slot is its own.
        case acquired
        /// The window is full: park (`park`) and try again when woken.
        case full
        /// The link ended.
        case failed(AMQPError)
    }

    /// Who to wake when the link ends, and with what.
    struct Finish {
        var producers: [Producer]
        var attachWaiters: [AttachWaiter]
        var finishWaiters: [FinishWaiter]
        var failure: AMQPError
    }

    /// The most messages in flight at once.
    let capacity: Int
    /// Messages queued or awaiting their disposition.
    private(set) var inFlight = 0
    /// The peer's latest credit, as the link reported it.
    var credit = AMQPSenderCredit(available: 0, taken: 0, drain: false)
    private var producers: [Producer] = []
    private var attach = FirstAttachWaiters<AttachWaiter>()
    private var finished: AMQPError?? = .none
    private var finishWaiters: [FinishWaiter] = []

    /// Creates a window of at least one message.
    init(capacity: Int) {
        precondition(capacity > 0, "a send window must be positive")
        self.capacity = capacity
    }

    /// Where a full window must drain to before waiting producers are woken.
    var lowWaterMark: Int { self.capacity - max(1, self.capacity / 4) }

    /// Whether the link ended.
    var isFinished: Bool {
        if case .some = self.finished { return true }
        return false
    }

    private var closedError: AMQPError? {
        guard case .some(let error) = self.finished else { return nil }
        return error ?? AMQPError(.closed, "the sender is closed")
    }

    /// A producer asks for a slot.
    mutating func acquire() -> Acquire {
        if let error = self.closedError { return .failed(error) }
        guard self.inFlight < self.capacity else { return .full }
        self.inFlight += 1
        return .acquired
    }

    /// Parks a producer that found the window full, or returns what to resume it with at once: success when the
    /// window already drained to the low-water mark (it then asks again), the end if the link finished.
    mutating func park(_ producer: Producer) -> Result<Void, AMQPError>? {
        if let error = self.closedError { return .failure(error) }
        if self.inFlight <= self.lowWaterMark { return .success(()) }
        self.producers.append(producer)
        return nil
    }

    /// A message completed and gives its slot back; returns the producers to wake (at the low-water mark).
    mutating func release() -> [Producer] {
        self.inFlight -= 1
        guard !self.producers.isEmpty, self.inFlight <= self.lowWaterMark else { return [] }
        defer { self.producers.removeAll() }
        return self.producers
    }

    /// Proactor thread: the link attached (again); returns who waited for the first attach.
    mutating func attached() -> [AttachWaiter] {
        self.attach.attached()
    }

    /// The link ended (`error` nil for a requested close); only the first end counts.
    mutating func finish(error: AMQPError?) -> Finish? {
        if self.isFinished { return nil }
        self.finished = .some(error)
        defer {
            self.producers.removeAll()
            self.finishWaiters.removeAll()
        }
        return Finish(
            producers: self.producers,
            attachWaiters: self.attach.takeWaiters(),
            finishWaiters: self.finishWaiters,
            failure: error ?? AMQPError(.closed, "the sender is closed")
        )
    }

    /// Parks `waiter` until the link ends; false when it already has (resume it at once).
    mutating func waitFinished(_ waiter: FinishWaiter) -> Bool {
        if self.isFinished { return false }
        self.finishWaiters.append(waiter)
        return true
    }

    /// Parks `waiter` until the first attach, or returns what to resume it with at once.
    mutating func waitAttached(_ waiter: AttachWaiter) -> Result<Void, AMQPError>? {
        self.attach.wait(waiter, finished: self.finished)
    }
}
