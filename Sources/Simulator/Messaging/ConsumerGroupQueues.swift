//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP

/// The consumer groups of one simulated instance as queues (reference §1.7–1.8): every message routed to a group
/// waits there until one of the group's consumers accepts it. Within a group the bridge's own rules apply
/// (`ConsumerGroupDispatch`: competing consumers, credit, redelivery after the ack timeout and on released /
/// modified / a lost link, with delivery-count). On top of that a group retains a bounded backlog: waiting
/// messages older than `Retention.maxAge`, or beyond `Retention.maxCount`, are dropped, as the platform drops
/// messages after its retention.
///
/// A group's backlog can be large (a group nobody consumes yet, for hours), while the dispatch keeps its messages
/// in plain arrays sized for a window. So at most `window` messages of a group are in its dispatch (waiting for
/// credit or unsettled); the rest wait here, in arrival order, where retention drops from the front at O(1) per
/// message, and move into the dispatch as it makes room.
///
/// A value type with no I/O: every event returns the actions to perform, so the rules are tested as transcripts.
public struct ConsumerGroupQueues: Sendable {
    /// How much one group keeps for consumers that are away or slow.
    public struct Retention: Sendable, Hashable {
        /// Waiting messages older than this are dropped. Default: 24 h, the platform's 1 day.
        public var maxAge: Duration
        /// The most messages one group holds (waiting and unsettled); the oldest waiting ones are dropped beyond
        /// it. The platform keeps 100 million; a simulator on a laptop keeps far fewer. Default: 100,000.
        public var maxCount: Int

        /// Creates a retention; see each property for its default.
        public init(maxAge: Duration = .seconds(86_400), maxCount: Int = 100_000) {
            self.maxAge = maxAge
            self.maxCount = maxCount
        }
    }

    /// What the caller must do.
    public enum Action: Sendable, Equatable {
        /// Send `message` to `consumer` of `group`; report the outcome with `outcome(group:id:attempt:_:now:)`.
        case send(group: String, consumer: UInt64, id: UInt64, message: SimulatedMessage, deliveryCount: UInt32, attempt: UInt64)
        /// The consumer asked to drain and there is nothing to send: use up its credit.
        case drained(group: String, consumer: UInt64)
    }

    /// What one group did, counted since it was created.
    public struct GroupCounters: Sendable, Hashable {
        /// Messages routed to the group.
        public var enqueued = 0
        /// Messages a consumer accepted.
        public var accepted = 0
        /// Messages a consumer rejected (dropped, as a terminal outcome: the platform has no dead letter).
        public var rejected = 0
        /// Sends of a message that had been sent before (ack timeout, released, modified, lost link).
        public var redelivered = 0
        /// Messages dropped by the retention.
        public var expired = 0
        /// Messages waiting for a consumer with credit.
        public var waiting = 0
        /// Messages sent and not settled.
        public var unsettled = 0
        /// Consumers attached now.
        public var consumers = 0
    }

    private struct Queued: Sendable {
        var id: UInt64
        var message: SimulatedMessage
        var offeredAt: ContinuousClock.Instant
    }

    private struct Group: Sendable {
        var dispatch: ConsumerGroupDispatch<SimulatedMessage>
        var counters = GroupCounters()
        /// Messages sent at least once and not finished: a further send is a redelivery.
        var sentOnce: Set<UInt64> = []
        /// Messages not yet in the dispatch, oldest first, from `head` on (the prefix is consumed).
        var backlog: [Queued] = []
        var head = 0

        var backlogCount: Int { self.backlog.count - self.head }
        var held: Int { self.backlogCount + self.dispatch.waitingCount + self.dispatch.inFlightCount }

        /// Drops the consumed prefix once it is most of the array (amortised O(1) per message).
        mutating func compact() {
            if self.head > 1024, self.head * 2 > self.backlog.count {
                self.backlog.removeFirst(self.head)
                self.head = 0
            }
        }
    }

    /// The most messages of one group in its dispatch at once (waiting for credit or unsettled).
    public static let window = 1000

    /// How long a consumer has to accept a message before it is redelivered.
    public let ackTimeout: Duration
    /// What each group retains.
    public let retention: Retention
    private var groups: [String: Group] = [:]
    private var nextID: UInt64 = 1

    /// Creates queues with no group.
    public init(ackTimeout: Duration = .seconds(30), retention: Retention = Retention()) {
        self.ackTimeout = ackTimeout
        self.retention = retention
    }

    /// The groups, sorted.
    public var groupIDs: [String] { self.groups.keys.sorted() }

    /// A group's counters, nil for a group that does not exist.
    public func counters(of group: String) -> GroupCounters? {
        guard let entry = self.groups[group] else { return nil }
        var counters = entry.counters
        counters.waiting = entry.dispatch.waitingCount + entry.backlogCount
        counters.unsettled = entry.dispatch.inFlightCount
        counters.consumers = entry.dispatch.consumerCount
        return counters
    }

    /// Makes sure `group` exists (a group created through the OpenAPI starts empty: it gets only what is routed to
    /// it from now on).
    public mutating func ensureGroup(_ group: String) {
        if self.groups[group] == nil {
            self.groups[group] = Group(dispatch: ConsumerGroupDispatch(ackTimeout: self.ackTimeout, maxOutstanding: 1000))
        }
    }

    /// Routes `message` to each of `groups` (groups that do not exist are created).
    public mutating func publish(_ message: SimulatedMessage, to groups: [String], now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        for name in Set(groups).sorted() {
            self.ensureGroup(name)
            let id = self.nextID
            self.nextID += 1
            self.groups[name]!.counters.enqueued += 1
            self.groups[name]!.backlog.append(Queued(id: id, message: message, offeredAt: now))
            // The count bound holds at every publish: the oldest waiting messages go, first those in the dispatch
            // (they came before the backlog), then the backlog's front.
            if self.groups[name]!.held > self.retention.maxCount {
                let room = self.retention.maxCount - self.groups[name]!.backlogCount
                let dropped = self.groups[name]!.dispatch.expireWaiting(offeredBefore: nil, keepingAtMost: max(0, room))
                self.groups[name]!.counters.expired += dropped.count
                for id in dropped { self.groups[name]!.sentOnce.remove(id) }
                while self.groups[name]!.held > self.retention.maxCount, self.groups[name]!.backlogCount > 0 {
                    self.groups[name]!.head += 1
                    self.groups[name]!.counters.expired += 1
                }
            }
            actions += self.feed(name, now: now)
        }
        return actions
    }

    /// Moves backlog into the dispatch while it has room, oldest first.
    private mutating func feed(_ name: String, now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        while self.groups[name]!.backlogCount > 0,
            self.groups[name]!.dispatch.waitingCount + self.groups[name]!.dispatch.inFlightCount < Self.window
        {
            let next = self.groups[name]!.backlog[self.groups[name]!.head]
            self.groups[name]!.head += 1
            actions += self.translate(name, self.groups[name]!.dispatch.offer(next.message, id: next.id, now: now))
        }
        self.groups[name]!.compact()
        return actions
    }

    /// A consumer of `group` attached (it gets nothing until it grants credit).
    public mutating func consumerAttached(group: String, _ consumer: UInt64) {
        self.ensureGroup(group)
        self.groups[group]!.dispatch.consumerAttached(consumer)
    }

    /// A consumer's link reported its credit.
    public mutating func creditChanged(group: String, _ consumer: UInt64, _ credit: AMQPSenderCredit, now: ContinuousClock.Instant) -> [Action] {
        guard self.groups[group] != nil else { return [] }
        return self.translate(group, self.groups[group]!.dispatch.creditChanged(consumer, credit, now: now)) + self.feed(group, now: now)
    }

    /// A consumer detached or its connection closed.
    public mutating func consumerDetached(group: String, _ consumer: UInt64, now: ContinuousClock.Instant) -> [Action] {
        guard self.groups[group] != nil else { return [] }
        return self.translate(group, self.groups[group]!.dispatch.consumerDetached(consumer, now: now))
    }

    /// The outcome of a send.
    public mutating func outcome(
        group: String,
        id: UInt64,
        attempt: UInt64,
        _ outcome: ConsumerGroupDispatch<SimulatedMessage>.SendOutcome,
        now: ContinuousClock.Instant
    ) -> [Action] {
        guard self.groups[group] != nil else { return [] }
        return self.translate(group, self.groups[group]!.dispatch.outcome(of: id, attempt: attempt, outcome, now: now))
            + self.feed(group, now: now)
    }

    /// The clock moved: unaccepted messages past the ack timeout go out again; the retention drops old ones (in the
    /// backlog by when they were published; in the dispatch window, where they spend at most `window` sends, by
    /// when they entered it).
    public mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        let cutoff = now.advanced(by: .zero - self.retention.maxAge)
        for name in self.groups.keys.sorted() {
            while self.groups[name]!.backlogCount > 0, self.groups[name]!.backlog[self.groups[name]!.head].offeredAt < cutoff {
                self.groups[name]!.head += 1
                self.groups[name]!.counters.expired += 1
            }
            let dropped = self.groups[name]!.dispatch.expireWaiting(offeredBefore: cutoff, keepingAtMost: Self.window)
            self.groups[name]!.counters.expired += dropped.count
            for id in dropped { self.groups[name]!.sentOnce.remove(id) }
            actions += self.translate(name, self.groups[name]!.dispatch.tick(now: now))
            actions += self.feed(name, now: now)
        }
        return actions
    }

    private mutating func translate(_ group: String, _ actions: [ConsumerGroupDispatch<SimulatedMessage>.Action]) -> [Action] {
        var result: [Action] = []
        for action in actions {
            switch action {
            case .send(let consumer, let id, let message, let deliveryCount, let attempt):
                if !self.groups[group]!.sentOnce.insert(id).inserted { self.groups[group]!.counters.redelivered += 1 }
                result.append(.send(group: group, consumer: consumer, id: id, message: message, deliveryCount: deliveryCount, attempt: attempt))
            case .drained(let consumer):
                result.append(.drained(group: group, consumer: consumer))
            case .settle(let id, let settlement):
                self.groups[group]!.sentOnce.remove(id)
                switch settlement {
                case .confirmed: self.groups[group]!.counters.accepted += 1
                case .refused: self.groups[group]!.counters.rejected += 1
                case .abandoned: break
                }
            }
        }
        return result
    }
}
