//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of one consumer group: dispatch only against credit, settle on the accepting consumer's accept,
/// redelivery with delivery-count per AMQP 1.0 §3.4, drain, stop.
@Suite struct ConsumerGroupDispatchTests {
    typealias Dispatch = ConsumerGroupDispatch<String>
    let start = ContinuousClock.now

    func credit(_ available: Int, taken: Int = 0, drain: Bool = false) -> AMQPSenderCredit {
        AMQPSenderCredit(available: available, taken: taken, drain: drain)
    }

    /// The actions as short strings: `send c1 m1 n0 a1`, `settle m1 confirmed`, `drained c1`.
    func render(_ actions: [Dispatch.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .send(let consumer, let id, _, let count, let attempt): "send c\(consumer) m\(id) n\(count) a\(attempt)"
            case .settle(let id, let outcome): "settle m\(id) \(outcome)"
            case .drained(let consumer): "drained c\(consumer)"
            }
        }
    }

    @Test func theCoreDispatchesMessageIDsAndTheWrapperAddsTheMessages() {
        var core = ConsumerGroupDispatchCore(ackTimeout: .seconds(30))
        core.consumerAttached(7)
        _ = core.creditChanged(7, self.credit(1), now: self.start)
        #expect(core.offer(id: 1, size: 10, now: self.start) == [.send(consumer: 7, id: 1, deliveryCount: 0, attempt: 1)])
        #expect(core.offer(id: 2, now: self.start).isEmpty)
        #expect(core.outcome(of: 1, attempt: 1, .disposition(.released), now: self.start).isEmpty)
        // The released one goes first once there is credit: it has waited longest.
        #expect(
            core.creditChanged(7, self.credit(2, taken: 1), now: self.start) == [
                .send(consumer: 7, id: 1, deliveryCount: 0, attempt: 2), .send(consumer: 7, id: 2, deliveryCount: 0, attempt: 3),
            ]
        )
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(7)
        _ = group.creditChanged(7, self.credit(1), now: self.start)
        guard case .send(_, _, let message, _, _) = group.offer("payload", id: 1, now: self.start).first else {
            Issue.record("no send")
            return
        }
        #expect(message == "payload")
    }

    @Test func aGroupWithoutConsumersHoldsItsMessages() {
        var group = Dispatch(ackTimeout: .seconds(30))
        #expect(group.offer("a", id: 1, now: self.start).isEmpty)
        #expect(group.offer("b", id: 2, now: self.start).isEmpty)
        #expect(group.waitingCount == 2)
        group.consumerAttached(1)
        // Attached but no credit yet: still nothing.
        #expect(group.waitingCount == 2)
        #expect(self.render(group.creditChanged(1, self.credit(5), now: self.start)) == ["send c1 m1 n0 a1", "send c1 m2 n0 a2"])
        #expect(group.inFlightCount == 2)
    }

    @Test func aConsumerWithCreditOneHoldsAtMostOne() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        _ = group.creditChanged(1, self.credit(1), now: self.start)
        #expect(self.render(group.offer("a", id: 1, now: self.start)) == ["send c1 m1 n0 a1"])
        #expect(group.offer("b", id: 2, now: self.start).isEmpty)
        // The link took the first message and reports credit 0; the old report no longer counts.
        #expect(group.creditChanged(1, self.credit(0, taken: 1), now: self.start).isEmpty)
        // Accepting settles upstream; the next message waits for the flow(1) of the official sample.
        #expect(self.render(group.outcome(of: 1, attempt: 1, .disposition(.accepted), now: self.start)) == ["settle m1 confirmed"])
        #expect(self.render(group.creditChanged(1, self.credit(1, taken: 1), now: self.start)) == ["send c1 m2 n0 a2"])
    }

    @Test func aStaleCreditReportDoesNotOverfill() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        _ = group.creditChanged(1, self.credit(2), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        _ = group.offer("b", id: 2, now: self.start)
        // A report made before the link took the two sends: 2 available, 0 taken → nothing left for us.
        #expect(group.creditChanged(1, self.credit(2, taken: 0), now: self.start).isEmpty)
        #expect(group.offer("c", id: 3, now: self.start).isEmpty)
    }

    @Test func competingConsumersShareInTurn() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        group.consumerAttached(2)
        _ = group.creditChanged(1, self.credit(10), now: self.start)
        _ = group.creditChanged(2, self.credit(10), now: self.start)
        let sends = (1...4).flatMap { self.render(group.offer("m", id: UInt64($0), now: self.start)) }
        #expect(sends == ["send c1 m1 n0 a1", "send c2 m2 n0 a2", "send c1 m3 n0 a3", "send c2 m4 n0 a4"])
    }

    @Test func releasedGoesToAnotherWithoutCountingModifiedFailedCounts() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        _ = group.creditChanged(1, self.credit(1), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        group.consumerAttached(2)
        _ = group.creditChanged(2, self.credit(5), now: self.start)
        #expect(self.render(group.outcome(of: 1, attempt: 1, .disposition(.released), now: self.start)) == ["send c2 m1 n0 a2"])
        let modified = group.outcome(of: 1, attempt: 2, .disposition(.modified(deliveryFailed: true, undeliverableHere: false)), now: self.start)
        #expect(self.render(modified) == ["send c2 m1 n1 a3"])
    }

    @Test func undeliverableHereAvoidsThatConsumerForGood() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        _ = group.creditChanged(1, self.credit(5), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        let back = group.outcome(of: 1, attempt: 1, .disposition(.modified(deliveryFailed: false, undeliverableHere: true)), now: self.start)
        // Consumer 1 still has credit but may not have it: it waits for another consumer.
        #expect(back.isEmpty)
        #expect(group.waitingCount == 1)
        // Other messages still go to consumer 1.
        #expect(self.render(group.offer("b", id: 2, now: self.start)) == ["send c1 m2 n0 a2"])
        group.consumerAttached(2)
        #expect(self.render(group.creditChanged(2, self.credit(1), now: self.start)) == ["send c2 m1 n0 a3"])
    }

    @Test func rejectedIsRefusedWithTheConsumersReason() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        _ = group.creditChanged(1, self.credit(5), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        let condition = AMQPCondition(name: "amqp:precondition-failed", description: "bad payload")
        let actions = group.outcome(of: 1, attempt: 1, .disposition(.rejected(condition)), now: self.start)
        #expect(self.render(actions) == ["settle m1 refused(\"the consumer rejected the message (amqp:precondition-failed: bad payload)\")"])
    }

    @Test func aDetachedConsumersUnsettledMessagesGoToTheOthersCounted() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        group.consumerAttached(2)
        _ = group.creditChanged(1, self.credit(1), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        _ = group.offer("b", id: 2, now: self.start)
        #expect(group.consumerDetached(1, now: self.start).isEmpty)
        // The link reports the message unsettled; the survivor gets it once it grants credit, count 1.
        #expect(group.outcome(of: 1, attempt: 1, .disposition(.unsettled), now: self.start).isEmpty)
        #expect(self.render(group.creditChanged(2, self.credit(2), now: self.start)) == ["send c2 m1 n1 a2", "send c2 m2 n0 a3"])
    }

    @Test func aMessageThatNeverLeftComesBackUncounted() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        group.consumerAttached(2)
        _ = group.creditChanged(1, self.credit(1), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        _ = group.creditChanged(2, self.credit(1), now: self.start)
        #expect(self.render(group.outcome(of: 1, attempt: 1, .notSent, now: self.start)) == ["send c2 m1 n0 a2"])
    }

    @Test func anAckTimeoutMovesTheMessagePreferringAnotherConsumer() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        group.consumerAttached(2)
        _ = group.creditChanged(1, self.credit(5), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        #expect(group.tick(now: self.start.advanced(by: .seconds(29))).isEmpty)
        // Consumer 1 has credit and is first in turn, but it timed out on the message.
        _ = group.creditChanged(2, self.credit(5), now: self.start)
        #expect(self.render(group.tick(now: self.start.advanced(by: .seconds(30)))) == ["send c2 m1 n1 a2"])
        // The first consumer's late accept still settles it (a backend has it); the second's outcome is then moot.
        #expect(self.render(group.outcome(of: 1, attempt: 1, .disposition(.accepted), now: self.start)) == ["settle m1 confirmed"])
        #expect(group.outcome(of: 1, attempt: 2, .disposition(.accepted), now: self.start).isEmpty)
        #expect(group.inFlightCount == 0)
    }

    @Test func anAckTimeoutWithOneConsumerGoesBackToIt() {
        var group = Dispatch(ackTimeout: .seconds(1))
        group.consumerAttached(1)
        _ = group.creditChanged(1, self.credit(5), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        #expect(self.render(group.tick(now: self.start.advanced(by: .seconds(1)))) == ["send c1 m1 n1 a2"])
        // A late release of the first attempt is ignored: the second attempt decides.
        #expect(group.outcome(of: 1, attempt: 1, .disposition(.released), now: self.start).isEmpty)
        #expect(group.inFlightCount == 1)
    }

    @Test func aConsumerThatNeverSettlesHoldsAtMostTheLimitWhateverItsCredit() {
        var group = Dispatch(ackTimeout: .seconds(1), maxOutstanding: 2)
        group.consumerAttached(1)
        _ = group.creditChanged(1, self.credit(100), now: self.start)
        let sends = (1...3).flatMap { self.render(group.offer("m", id: UInt64($0), now: self.start)) }
        #expect(sends == ["send c1 m1 n0 a1", "send c1 m2 n0 a2"])
        // Both time out; the link still holds them, so nothing more goes to this consumer…
        #expect(group.tick(now: self.start.advanced(by: .seconds(1))).isEmpty)
        #expect(group.waitingCount == 3)
        // …until an outcome for one of them frees a place (a late release: the message is waiting anyway).
        #expect(self.render(group.outcome(of: 1, attempt: 1, .disposition(.released), now: self.start)) == ["send c1 m1 n1 a3"])
    }

    @Test func drainIsHonoured() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        _ = group.offer("a", id: 1, now: self.start)
        // Drain with credit 3 and one message: it goes out, then the rest of the credit is used up.
        #expect(self.render(group.creditChanged(1, self.credit(3, drain: true), now: self.start)) == ["send c1 m1 n0 a1", "drained c1"])
        // Drain with credit fully used: nothing to say.
        var full = Dispatch(ackTimeout: .seconds(30))
        full.consumerAttached(1)
        _ = full.offer("a", id: 1, now: self.start)
        #expect(self.render(full.creditChanged(1, self.credit(1, drain: true), now: self.start)) == ["send c1 m1 n0 a1"])
    }

    @Test func stopAbandonsWaitingAndLaterInFlight() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        _ = group.creditChanged(1, self.credit(1), now: self.start)
        _ = group.offer("a", id: 1, now: self.start)
        _ = group.offer("b", id: 2, now: self.start)
        #expect(self.render(group.stop()) == ["settle m2 abandoned"])
        #expect(self.render(group.offer("c", id: 3, now: self.start)) == ["settle m3 abandoned"])
        // In flight still settles on its outcome…
        #expect(self.render(group.outcome(of: 1, attempt: 1, .disposition(.accepted), now: self.start)) == ["settle m1 confirmed"])
        // …and what never answers is abandoned at the deadline; a release after stop is abandoned too.
        var other = Dispatch(ackTimeout: .seconds(30))
        other.consumerAttached(1)
        _ = other.creditChanged(1, self.credit(2), now: self.start)
        _ = other.offer("a", id: 1, now: self.start)
        _ = other.offer("b", id: 2, now: self.start)
        _ = other.stop()
        #expect(self.render(other.outcome(of: 1, attempt: 1, .disposition(.released), now: self.start)) == ["settle m1 abandoned"])
        #expect(self.render(other.abandonInFlight()) == ["settle m2 abandoned"])
    }

    // MARK: - The consumer's max-message-size (AMQP 1.0 §2.7.3)

    @Test func aMessageGoesOnlyToAConsumerWhoseMaxMessageSizeAllowsIt() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1, maxMessageSize: 100)
        group.consumerAttached(2)
        _ = group.creditChanged(1, self.credit(10), now: self.start)
        _ = group.creditChanged(2, self.credit(10), now: self.start)
        // In turn c1, c2, c1…, but the 500-byte messages skip c1; exactly 100 bytes is allowed.
        let sizes = [50, 500, 500, 100, 500]
        let sends = sizes.enumerated().flatMap { index, size in
            self.render(group.offer("m", id: UInt64(index + 1), size: size, now: self.start))
        }
        #expect(sends == ["send c1 m1 n0 a1", "send c2 m2 n0 a2", "send c2 m3 n0 a3", "send c1 m4 n0 a4", "send c2 m5 n0 a5"])
        // A limit of 0 is no limit (the AMQP default).
        group.consumerAttached(3, maxMessageSize: 0)
        _ = group.creditChanged(3, self.credit(10), now: self.start)
        _ = group.consumerDetached(2, now: self.start)
        #expect(self.render(group.offer("m", id: 6, size: 10_000, now: self.start)) == ["send c3 m6 n0 a6"])
    }

    @Test func aMessageTooLargeForEveryConsumerIsRefusedAfterTheAckTimeout() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1, maxMessageSize: 100)
        _ = group.creditChanged(1, self.credit(10), now: self.start)
        #expect(group.offer("big", id: 1, size: 500, now: self.start).isEmpty)
        // It does not hold the group: smaller messages pass it.
        #expect(self.render(group.offer("small", id: 2, size: 10, now: self.start)) == ["send c1 m2 n0 a1"])
        #expect(self.render(group.outcome(of: 2, attempt: 1, .disposition(.accepted), now: self.start)) == ["settle m2 confirmed"])
        // The first tick marks it; it is refused once it was too large for every consumer for the ack timeout.
        #expect(group.tick(now: self.start.advanced(by: .seconds(1))).isEmpty)
        #expect(group.tick(now: self.start.advanced(by: .seconds(30))).isEmpty)
        #expect(
            self.render(group.tick(now: self.start.advanced(by: .seconds(31)))) == [
                "settle m1 refused(\"the message is 500 bytes, larger than the max-message-size of every consumer attached "
                    + "(the largest allows 100 bytes) for 30.0 seconds\")"
            ]
        )
        #expect(group.waitingCount == 0)
    }

    @Test func aTooLargeMessageWaitsForAConsumerThatTakesIt() {
        var group = Dispatch(ackTimeout: .seconds(30))
        // No consumer at all: held, whatever its size and however long.
        #expect(group.offer("big", id: 1, size: 500, now: self.start).isEmpty)
        #expect(group.tick(now: self.start.advanced(by: .seconds(1))).isEmpty)
        #expect(group.tick(now: self.start.advanced(by: .seconds(100))).isEmpty)
        // A small consumer starts the clock…
        group.consumerAttached(1, maxMessageSize: 100)
        _ = group.creditChanged(1, self.credit(10), now: self.start)
        #expect(group.tick(now: self.start.advanced(by: .seconds(101))).isEmpty)
        // …which stops when it leaves, and starts afresh with the next small one.
        _ = group.consumerDetached(1, now: self.start)
        #expect(group.tick(now: self.start.advanced(by: .seconds(120))).isEmpty)
        group.consumerAttached(2, maxMessageSize: 200)
        _ = group.creditChanged(2, self.credit(10), now: self.start)
        #expect(group.tick(now: self.start.advanced(by: .seconds(121))).isEmpty)
        #expect(group.tick(now: self.start.advanced(by: .seconds(150))).isEmpty)
        // A consumer that takes it attaches within the grace: it gets the message.
        group.consumerAttached(3, maxMessageSize: 1000)
        #expect(self.render(group.creditChanged(3, self.credit(1), now: self.start)) == ["send c3 m1 n0 a1"])
        #expect(group.tick(now: self.start.advanced(by: .seconds(200))).isEmpty)
    }

    @Test func aRedeliveryThatGrewPastTheLimitGoesElsewhereUncounted() {
        var group = Dispatch(ackTimeout: .seconds(30))
        group.consumerAttached(1, maxMessageSize: 100)
        _ = group.creditChanged(1, self.credit(10), now: self.start)
        _ = group.offer("a", id: 1, size: 100, now: self.start)
        // Sent at 100 bytes; the link reports the encoding for this attempt at 110 (a redelivery's header).
        #expect(group.outcome(of: 1, attempt: 1, .tooLarge(size: 110), now: self.start).isEmpty)
        group.consumerAttached(2)
        #expect(self.render(group.creditChanged(2, self.credit(1), now: self.start)) == ["send c2 m1 n0 a2"])
    }
}

/// The retention bound the instance simulator puts on a group's backlog.
@Suite struct ConsumerGroupDispatchRetentionTests {
    let start = ContinuousClock.now

    @Test func oldAndExcessWaitingMessagesAreDroppedButNeverThoseInFlight() {
        var group = ConsumerGroupDispatch<String>(ackTimeout: .seconds(30))
        group.consumerAttached(1)
        _ = group.creditChanged(1, AMQPSenderCredit(available: 1, taken: 0, drain: false), now: self.start)
        _ = group.offer("in flight", id: 1, now: self.start)
        _ = group.offer("old", id: 2, now: self.start)
        _ = group.offer("newer", id: 3, now: self.start.advanced(by: .seconds(10)))
        _ = group.offer("newest", id: 4, now: self.start.advanced(by: .seconds(20)))
        // Age: waiting messages offered before +5 s go (m2); m1 is in flight and stays.
        #expect(group.expireWaiting(offeredBefore: self.start.advanced(by: .seconds(5)), keepingAtMost: 10) == [2])
        #expect(group.inFlightCount == 1)
        // Count: three held, two allowed: the oldest waiting one goes.
        #expect(group.expireWaiting(offeredBefore: self.start, keepingAtMost: 2) == [3])
        #expect(group.waitingCount == 1)
        // The consumer still settles its message.
        let settled = group.outcome(of: 1, attempt: 1, .disposition(.accepted), now: self.start)
        #expect(settled.contains { if case .settle(1, .confirmed) = $0 { true } else { false } })
    }
}
