//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One consumer group's share of the merged stream, as the platform serves a group (reference §1.7): competing
/// consumers, each sent only as many messages as the credit it granted; a message settles upstream when the
/// consumer that got it accepted it; everything else comes back and goes out again.
///
/// A value type with no I/O over message IDs: the caller keeps the messages, and every event returns the actions to
/// perform (send message N to a consumer, settle it, tell a draining consumer there is no more), so the rules are
/// tested as transcripts. Not generic on purpose: it runs once or more per message on the bridge's hot path, and a
/// generic type used from another module runs unspecialised (a metadata lookup per collection it touches).
/// ``ConsumerGroupDispatch`` wraps it for callers that want the dispatch to hold the messages too.
///
/// Redelivery and `delivery-count` (AMQP 1.0 §3.4 and §3.2.1): a message comes back after the ack timeout, when its
/// consumer detaches or disconnects with it unsettled, or on `released` / `modified`. The count goes up after an ack
/// timeout, a lost link or `modified{delivery-failed}`, not after `released` (nor for a message that never left
/// us). `modified{undeliverable-here}` keeps the message from that consumer for good; after an ack timeout the
/// message prefers the other consumers but may return to the same one when it is alone. `rejected` refuses the
/// message with the consumer's reason (→ the dead letter).
///
/// A consumer's own `max-message-size` (AMQP 1.0 §2.7.3: the sender must not send it anything larger) is honoured:
/// a message goes only to a consumer whose limit allows it. One that is larger than the limit of every consumer
/// attached waits like any other (a consumer that takes it may attach); when that lasted the ack timeout, the
/// message is refused with a reason that says so (→ the dead letter) instead of holding a place for ever. A group
/// with no consumer at all holds every message, whatever its size.
public struct ConsumerGroupDispatchCore: Sendable {
    /// Identifies a message within the group (assigned by the caller, unique).
    public typealias MessageID = UInt64
    /// Identifies a consumer link (assigned by the caller, unique).
    public typealias ConsumerID = UInt64

    /// What the caller must do.
    public enum Action: Sendable, Hashable {
        /// Send message `id` to `consumer` with this `delivery-count`; report its outcome with
        /// `outcome(of:attempt:_:now:)` and this `attempt`.
        case send(consumer: ConsumerID, id: MessageID, deliveryCount: UInt32, attempt: UInt64)
        /// The group is done with the message: settle it upstream as `outcome` says.
        case settle(id: MessageID, Settlement)
        /// The consumer asked to drain and there is nothing to send: use up its credit.
        case drained(consumer: ConsumerID)
    }

    /// How the group is done with a message.
    public enum Settlement: Sendable, Hashable {
        /// A consumer accepted it.
        case confirmed
        /// A consumer rejected it, or no consumer may take it, for the reason given (the caller dead-letters it).
        case refused(String)
        /// The group stopped before a consumer accepted it: it stays unsettled where it came from.
        case abandoned
    }

    /// What became of one send.
    public enum SendOutcome: Sendable, Equatable {
        /// The consumer's disposition.
        case disposition(AMQPOutcome)
        /// The message never left (its link closed first): it comes back without counting as a delivery.
        case notSent
        /// The message never left because its encoding for this attempt is `size` bytes, over the consumer's
        /// max-message-size (a redelivery's header can make it larger than offered): it comes back uncounted,
        /// with that size, and goes to a consumer whose limit allows it.
        case tooLarge(size: Int)
    }

    private struct Entry: Sendable {
        var id: MessageID
        var deliveryCount: UInt32
        /// Its size in bytes as sent, compared with the consumers' max-message-size (0: fits every consumer).
        var size: Int
        /// When it was offered (retention counts from here).
        var offeredAt: ContinuousClock.Instant
        /// Since when it has been larger than every attached consumer's max-message-size (checked at `tick`).
        var tooLargeSince: ContinuousClock.Instant?
        /// Consumers it must never go to again (`undeliverable-here`).
        var never: Set<ConsumerID> = []
        /// Consumers it timed out on: tried last.
        var timedOutOn: Set<ConsumerID> = []
    }

    private struct Delivery: Sendable {
        var entry: Entry
        var consumer: ConsumerID
        var attempt: UInt64
        var deadline: ContinuousClock.Instant
    }

    private struct Consumer: Sendable {
        /// Messages handed to the consumer's link, all time (the other side of `AMQPSenderCredit.taken`).
        var sent = 0
        /// Sends whose outcome has not arrived, current or timed out: the link holds each until then.
        var outstanding = 0
        var credit = AMQPSenderCredit(available: 0, taken: 0, drain: false)
        /// The largest message its link takes (its `max-message-size`), nil for no limit.
        var maxMessageSize: Int?

        /// Whether a message of `size` bytes may go to it.
        func fits(_ size: Int) -> Bool {
            guard let limit = self.maxMessageSize else { return true }
            return size <= limit
        }

        /// What it may get now: its credit, but never more than `limit` outstanding sends (a consumer that never
        /// settles while granting more credit would otherwise make its link hold every message).
        func remaining(limit: Int) -> Int {
            min(self.credit.remaining(afterSending: self.sent), limit - self.outstanding)
        }
    }

    /// How long a consumer has to settle a message before it goes to another.
    public let ackTimeout: Duration
    /// The most sends one consumer may have without an outcome, whatever credit it grants.
    public let maxOutstanding: Int
    /// The consumer of each send whose outcome has not arrived, by attempt.
    private var attempts: [UInt64: ConsumerID] = [:]
    /// Messages waiting for a consumer, oldest first. Bounded by the caller's window (1,000 by default) and empty
    /// while the consumers have credit, so plain array operations do. (Not a swift-collections Deque: the AMQP
    /// module builds with swift-log alone, also in the sanitizer package of scripts/lib/sanitize.sh.)
    private var waiting: [Entry] = []
    private var inFlight: [MessageID: Delivery] = [:]
    /// Consumers in the order they are offered messages (rotated for fairness).
    private var order: [ConsumerID] = []
    private var consumers: [ConsumerID: Consumer] = [:]
    private var nextAttempt: UInt64 = 1
    /// Whether a waiting message carries a `tooLargeSince` mark (so `tick` looks even when no consumer has a limit).
    private var hasTooLargeMarks = false
    /// Whether `stop()` was called.
    public private(set) var isStopped = false

    /// Creates an empty group.
    public init(ackTimeout: Duration, maxOutstanding: Int = 1000) {
        self.ackTimeout = ackTimeout
        self.maxOutstanding = max(1, maxOutstanding)
    }

    /// Messages waiting for a consumer with credit.
    public var waitingCount: Int { self.waiting.count }
    /// Messages sent and not settled yet.
    public var inFlightCount: Int { self.inFlight.count }
    /// Consumers attached.
    public var consumerCount: Int { self.consumers.count }

    // MARK: - Events

    /// A message of the merged stream for this group. `size` is its size in bytes as sent, for the consumers'
    /// max-message-size (0: it fits every consumer).
    public mutating func offer(id: MessageID, size: Int = 0, now: ContinuousClock.Instant) -> [Action] {
        if self.isStopped { return [.settle(id: id, .abandoned)] }
        self.waiting.append(Entry(id: id, deliveryCount: 0, size: size, offeredAt: now))
        return self.dispatch(now: now)
    }

    /// A consumer attached (it has no credit until it reports some). `maxMessageSize` is the max-message-size its
    /// link announced (nil or 0: no limit); nothing larger is sent to it.
    public mutating func consumerAttached(_ consumer: ConsumerID, maxMessageSize: Int? = nil) {
        guard self.consumers[consumer] == nil else { return }
        self.consumers[consumer] = Consumer(maxMessageSize: maxMessageSize.flatMap { $0 > 0 ? $0 : nil })
        self.order.append(consumer)
    }

    /// The consumer's link reported its credit.
    public mutating func creditChanged(_ consumer: ConsumerID, _ credit: AMQPSenderCredit, now: ContinuousClock.Instant) -> [Action] {
        guard self.consumers[consumer] != nil else { return [] }
        self.consumers[consumer]!.credit = credit
        var actions = self.dispatch(now: now)
        if credit.drain, let state = self.consumers[consumer], state.remaining(limit: self.maxOutstanding) > 0, !self.isStopped {
            // Everything this consumer could take went out above; the rest of its credit is to be used up.
            actions.append(.drained(consumer: consumer))
        }
        return actions
    }

    /// The consumer detached or its connection closed. Its unsettled messages come back through their outcomes
    /// (the link reports each `.unsettled`); from now on it gets nothing.
    public mutating func consumerDetached(_ consumer: ConsumerID, now: ContinuousClock.Instant) -> [Action] {
        self.consumers.removeValue(forKey: consumer)
        self.order.removeAll { $0 == consumer }
        return self.dispatch(now: now)
    }

    /// The outcome of a send.
    public mutating func outcome(of id: MessageID, attempt: UInt64, _ outcome: SendOutcome, now: ContinuousClock.Instant) -> [Action] {
        if let consumer = self.attempts.removeValue(forKey: attempt) {
            self.consumers[consumer]?.outstanding -= 1
        }
        guard let delivery = self.inFlight[id], delivery.attempt == attempt else {
            return self.lateOutcome(of: id, outcome, now: now)
        }
        self.inFlight.removeValue(forKey: id)
        var entry = delivery.entry
        switch outcome {
        case .disposition(.accepted):
            return [.settle(id: id, .confirmed)] + self.dispatch(now: now)
        case .disposition(.rejected(let condition)):
            let reason = condition.map { "\($0.name)\($0.description.isEmpty ? "" : ": \($0.description)")" } ?? "no reason given"
            return [.settle(id: id, .refused("the consumer rejected the message (\(reason))"))] + self.dispatch(now: now)
        case .disposition(.released), .notSent:
            break
        case .tooLarge(let size):
            entry.size = max(entry.size, size)
        case .disposition(.modified(let deliveryFailed, let undeliverableHere)):
            if deliveryFailed { entry.deliveryCount &+= 1 }
            if undeliverableHere { entry.never.insert(delivery.consumer) }
        case .disposition(.unsettled):
            entry.deliveryCount &+= 1
        }
        return self.requeue(entry, now: now)
    }

    /// The clock moved: messages past their ack timeout go to another consumer; messages that have been larger
    /// than every consumer's max-message-size for the ack timeout are refused.
    public mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        let refused = self.refuseTooLarge(now: now)
        let expired = self.inFlight.values.filter { $0.deadline <= now }.sorted { $0.entry.id < $1.entry.id }
        guard !expired.isEmpty else { return refused }
        let entries = expired.map { delivery in
            self.inFlight.removeValue(forKey: delivery.entry.id)
            var entry = delivery.entry
            entry.deliveryCount &+= 1
            entry.timedOutOn.insert(delivery.consumer)
            return entry
        }
        self.waiting.insert(contentsOf: entries, at: 0)
        return refused + self.dispatch(now: now)
    }

    /// Stops dispatching: waiting messages are abandoned (they stay unsettled upstream); messages in flight still
    /// settle when their outcomes arrive.
    public mutating func stop() -> [Action] {
        self.isStopped = true
        let abandoned = self.waiting.map { Action.settle(id: $0.id, .abandoned) }
        self.waiting.removeAll()
        return abandoned
    }

    /// The stop deadline passed: everything still in flight is abandoned.
    public mutating func abandonInFlight() -> [Action] {
        let ids = self.inFlight.keys.sorted()
        self.inFlight.removeAll()
        self.attempts.removeAll()
        return ids.map { .settle(id: $0, .abandoned) }
    }

    /// Bounds what the group retains, as the platform bounds a consumer group's backlog: waiting messages offered
    /// before `cutoff` (if given) are dropped, then the oldest waiting ones until at most `maxCount` are held
    /// (waiting and in flight). Messages in flight are never dropped: their consumer may still accept them.
    ///
    /// - Returns: the dropped messages' IDs, oldest first.
    public mutating func expireWaiting(offeredBefore cutoff: ContinuousClock.Instant?, keepingAtMost maxCount: Int) -> [MessageID] {
        var dropped: [Entry] = []
        if let cutoff {
            dropped = self.waiting.filter { $0.offeredAt < cutoff }
            if !dropped.isEmpty { self.waiting.removeAll { $0.offeredAt < cutoff } }
        }
        let excess = self.waiting.count + self.inFlight.count - max(0, maxCount)
        if excess > 0 {
            let oldest = self.waiting.sorted { ($0.offeredAt, $0.id) < ($1.offeredAt, $1.id) }.prefix(excess)
            let ids = Set(oldest.map(\.id))
            dropped += oldest
            self.waiting.removeAll { ids.contains($0.id) }
        }
        return dropped.sorted { ($0.offeredAt, $0.id) < ($1.offeredAt, $1.id) }.map(\.id)
    }

    // MARK: - Dispatch

    /// An outcome for a send that is no longer current (the message went to another consumer after a timeout).
    /// An accept still means a backend has the message, so it settles it at once; anything else is ignored, the
    /// current send decides.
    private mutating func lateOutcome(of id: MessageID, _ outcome: SendOutcome, now: ContinuousClock.Instant) -> [Action] {
        // Its consumer has one outstanding send less, which may let it take another message.
        guard outcome == .disposition(.accepted) else { return self.dispatch(now: now) }
        if self.inFlight.removeValue(forKey: id) != nil { return [.settle(id: id, .confirmed)] + self.dispatch(now: now) }
        if let index = self.waiting.firstIndex(where: { $0.id == id }) {
            self.waiting.remove(at: index)
            return [.settle(id: id, .confirmed)] + self.dispatch(now: now)
        }
        return self.dispatch(now: now)
    }

    private mutating func requeue(_ entry: Entry, now: ContinuousClock.Instant) -> [Action] {
        if self.isStopped { return [.settle(id: entry.id, .abandoned)] }
        // A message that came back goes out before new ones: it has waited longest.
        self.waiting.insert(entry, at: 0)
        return self.dispatch(now: now)
    }

    private mutating func dispatch(now: ContinuousClock.Instant) -> [Action] {
        guard !self.isStopped, !self.waiting.isEmpty else { return [] }
        var actions: [Action] = []
        var index = 0
        while index < self.waiting.count {
            guard let consumer = self.pickConsumer(for: self.waiting[index]) else {
                index += 1
                // Nobody has credit at all: the rest waits too.
                if !self.order.contains(where: { self.consumers[$0]!.remaining(limit: self.maxOutstanding) > 0 }) { break }
                continue
            }
            let entry = self.waiting.remove(at: index)
            self.consumers[consumer]!.sent += 1
            self.consumers[consumer]!.outstanding += 1
            let attempt = self.nextAttempt
            self.nextAttempt &+= 1
            self.attempts[attempt] = consumer
            self.inFlight[entry.id] = Delivery(
                entry: entry,
                consumer: consumer,
                attempt: attempt,
                deadline: now.advanced(by: self.ackTimeout)
            )
            actions.append(.send(consumer: consumer, id: entry.id, deliveryCount: entry.deliveryCount, attempt: attempt))
            // Rotate: the next message tries the next consumer first.
            if self.order.count > 1, let position = self.order.firstIndex(of: consumer) {
                self.order.append(self.order.remove(at: position))
            }
        }
        return actions
    }

    /// The first consumer in turn with credit that may have `entry`; one it timed out on only when no other can.
    private func pickConsumer(for entry: Entry) -> ConsumerID? {
        var fallback: ConsumerID?
        for consumer in self.order {
            let state = self.consumers[consumer]!
            guard state.remaining(limit: self.maxOutstanding) > 0, state.fits(entry.size), !entry.never.contains(consumer) else {
                continue
            }
            if !entry.timedOutOn.contains(consumer) { return consumer }
            if fallback == nil { fallback = consumer }
        }
        return fallback
    }

    /// The largest max-message-size among the consumers attached when every one of them has a limit; nil when one
    /// has none, or when no consumer is attached (a group without consumers holds everything).
    private var largestConsumerLimit: Int? {
        guard !self.consumers.isEmpty else { return nil }
        var largest = 0
        for consumer in self.consumers.values {
            guard let limit = consumer.maxMessageSize else { return nil }
            largest = max(largest, limit)
        }
        return largest
    }

    /// Marks waiting messages no attached consumer may take for their size, and refuses those marked for the ack
    /// timeout: no consumer that takes them attached meanwhile, so holding them would only hold a place.
    private mutating func refuseTooLarge(now: ContinuousClock.Instant) -> [Action] {
        let largest = self.largestConsumerLimit
        guard largest != nil || self.hasTooLargeMarks else { return [] }
        var refused: [Action] = []
        var marks = false
        var index = 0
        while index < self.waiting.count {
            guard let largest, self.waiting[index].size > largest else {
                self.waiting[index].tooLargeSince = nil
                index += 1
                continue
            }
            let since = self.waiting[index].tooLargeSince ?? now
            guard since.advanced(by: self.ackTimeout) <= now else {
                self.waiting[index].tooLargeSince = since
                marks = true
                index += 1
                continue
            }
            let entry = self.waiting.remove(at: index)
            refused.append(
                .settle(
                    id: entry.id,
                    .refused(
                        "the message is \(entry.size) bytes, larger than the max-message-size of every consumer attached "
                            + "(the largest allows \(largest) bytes) for \(self.ackTimeout)"
                    )
                )
            )
        }
        self.hasTooLargeMarks = marks
        return refused
    }
}
