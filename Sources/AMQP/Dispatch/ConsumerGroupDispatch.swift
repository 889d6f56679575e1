//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// ``ConsumerGroupDispatchCore`` holding the messages too: a send carries its message, and a message is forgotten
/// once the group settled it. The rules (credit, redelivery, `delivery-count`, drain, max-message-size, stop) are
/// the core's, unchanged; see there.
///
/// It serves every endpoint that stands in for the platform where a few hundred messages a second is plenty (the
/// instance simulator's consumer groups). The bridge's `listener` sink uses the core directly and keeps each
/// message once for all its groups.
public struct ConsumerGroupDispatch<Message: Sendable>: Sendable {
    /// Identifies a message within the group (assigned by the caller, unique).
    public typealias MessageID = ConsumerGroupDispatchCore.MessageID
    /// Identifies a consumer link (assigned by the caller, unique).
    public typealias ConsumerID = ConsumerGroupDispatchCore.ConsumerID
    /// How the group is done with a message.
    public typealias Settlement = ConsumerGroupDispatchCore.Settlement
    /// What became of one send.
    public typealias SendOutcome = ConsumerGroupDispatchCore.SendOutcome

    /// What the caller must do.
    public enum Action: Sendable {
        /// Send `message` to `consumer`; report its outcome with `outcome(of:attempt:_:)` and this `attempt`.
        case send(consumer: ConsumerID, id: MessageID, message: Message, deliveryCount: UInt32, attempt: UInt64)
        /// The group is done with the message: settle it upstream as `outcome` says.
        case settle(id: MessageID, Settlement)
        /// The consumer asked to drain and there is nothing to send: use up its credit.
        case drained(consumer: ConsumerID)
    }

    private var core: ConsumerGroupDispatchCore
    /// Every message the group holds (waiting or in flight), by ID.
    private var messages: [MessageID: Message] = [:]

    /// Creates an empty group.
    public init(ackTimeout: Duration, maxOutstanding: Int = 1000) {
        self.core = ConsumerGroupDispatchCore(ackTimeout: ackTimeout, maxOutstanding: maxOutstanding)
    }

    /// How long a consumer has to settle a message before it goes to another.
    public var ackTimeout: Duration { self.core.ackTimeout }
    /// The most sends one consumer may have without an outcome, whatever credit it grants.
    public var maxOutstanding: Int { self.core.maxOutstanding }
    /// Whether `stop()` was called.
    public var isStopped: Bool { self.core.isStopped }
    /// Messages waiting for a consumer with credit.
    public var waitingCount: Int { self.core.waitingCount }
    /// Messages sent and not settled yet.
    public var inFlightCount: Int { self.core.inFlightCount }
    /// Consumers attached.
    public var consumerCount: Int { self.core.consumerCount }

    // MARK: - Events (see ConsumerGroupDispatchCore)

    /// A message of the merged stream for this group. `size` is its size in bytes as sent, for the consumers'
    /// max-message-size (0: it fits every consumer).
    public mutating func offer(_ message: Message, id: MessageID, size: Int = 0, now: ContinuousClock.Instant) -> [Action] {
        if !self.core.isStopped { self.messages[id] = message }
        return self.translate(self.core.offer(id: id, size: size, now: now))
    }

    /// A consumer attached; `maxMessageSize` is the max-message-size its link announced (nil or 0: no limit).
    public mutating func consumerAttached(_ consumer: ConsumerID, maxMessageSize: Int? = nil) {
        self.core.consumerAttached(consumer, maxMessageSize: maxMessageSize)
    }

    /// The consumer's link reported its credit.
    public mutating func creditChanged(_ consumer: ConsumerID, _ credit: AMQPSenderCredit, now: ContinuousClock.Instant) -> [Action] {
        self.translate(self.core.creditChanged(consumer, credit, now: now))
    }

    /// The consumer detached or its connection closed.
    public mutating func consumerDetached(_ consumer: ConsumerID, now: ContinuousClock.Instant) -> [Action] {
        self.translate(self.core.consumerDetached(consumer, now: now))
    }

    /// The outcome of a send.
    public mutating func outcome(of id: MessageID, attempt: UInt64, _ outcome: SendOutcome, now: ContinuousClock.Instant) -> [Action] {
        self.translate(self.core.outcome(of: id, attempt: attempt, outcome, now: now))
    }

    /// The clock moved: ack timeouts and messages too large for every consumer.
    public mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        self.translate(self.core.tick(now: now))
    }

    /// Stops dispatching: waiting messages are abandoned; messages in flight still settle on their outcomes.
    public mutating func stop() -> [Action] {
        self.translate(self.core.stop())
    }

    /// The stop deadline passed: everything still in flight is abandoned.
    public mutating func abandonInFlight() -> [Action] {
        self.translate(self.core.abandonInFlight())
    }

    /// Bounds what the group retains (see the core); returns the dropped messages' IDs, oldest first.
    public mutating func expireWaiting(offeredBefore cutoff: ContinuousClock.Instant?, keepingAtMost maxCount: Int) -> [MessageID] {
        let dropped = self.core.expireWaiting(offeredBefore: cutoff, keepingAtMost: maxCount)
        for id in dropped { self.messages.removeValue(forKey: id) }
        return dropped
    }

    /// The core's actions with the messages attached; a settled message is forgotten.
    private mutating func translate(_ actions: [ConsumerGroupDispatchCore.Action]) -> [Action] {
        actions.compactMap { action in
            switch action {
            case .send(let consumer, let id, let deliveryCount, let attempt):
                guard let message = self.messages[id] else { return nil }
                return .send(consumer: consumer, id: id, message: message, deliveryCount: deliveryCount, attempt: attempt)
            case .settle(let id, let settlement):
                self.messages.removeValue(forKey: id)
                return .settle(id: id, settlement)
            case .drained(let consumer):
                return .drained(consumer: consumer)
            }
        }
    }
}
