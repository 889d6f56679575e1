//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Simulator
import Testing

/// Transcripts of a simulated instance's consumer groups: each group a queue, at-least-once, redelivery with
/// delivery-count, competing consumers, bounded retention.
@Suite struct ConsumerGroupQueuesTests {
    let start = ContinuousClock.now

    func message(_ id: String) -> SimulatedMessage {
        SimulatedMessage(topic: "/pk/dev/user/update", messageId: id, generateTime: 1, payload: Array("{}".utf8))
    }

    func credit(_ available: Int, taken: Int = 0) -> AMQPSenderCredit {
        AMQPSenderCredit(available: available, taken: taken, drain: false)
    }

    /// `send G cN mID nCOUNT aATTEMPT` (the messageId, not the queue's id) or `drained G cN`.
    func render(_ actions: [ConsumerGroupQueues.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .send(let group, let consumer, _, let message, let count, let attempt):
                "send \(group) c\(consumer) \(message.messageId) n\(count) a\(attempt)"
            case .drained(let group, let consumer): "drained \(group) c\(consumer)"
            }
        }
    }

    @Test func everyGroupGetsItsOwnCopyAndHoldsItUntilAConsumerComes() {
        var queues = ConsumerGroupQueues()
        #expect(queues.publish(self.message("m1"), to: ["cg-a", "cg-b"], now: self.start).isEmpty)
        #expect(queues.counters(of: "cg-a")?.waiting == 1)
        #expect(queues.counters(of: "cg-b")?.waiting == 1)
        queues.consumerAttached(group: "cg-a", 1)
        #expect(self.render(queues.creditChanged(group: "cg-a", 1, self.credit(10), now: self.start)) == ["send cg-a c1 m1 n0 a1"])
        #expect(queues.counters(of: "cg-b")?.waiting == 1)
    }

    @Test func anUnacceptedMessageIsRedeliveredAfterTheAckTimeoutWithItsDeliveryCount() {
        var queues = ConsumerGroupQueues(ackTimeout: .seconds(2))
        queues.consumerAttached(group: "cg", 1)
        _ = queues.creditChanged(group: "cg", 1, self.credit(10), now: self.start)
        let first = queues.publish(self.message("m1"), to: ["cg"], now: self.start)
        #expect(self.render(first) == ["send cg c1 m1 n0 a1"])
        #expect(queues.tick(now: self.start.advanced(by: .seconds(1))).isEmpty)
        // Past the ack timeout: out again, to the only consumer, counted as a delivery.
        #expect(self.render(queues.tick(now: self.start.advanced(by: .seconds(2)))) == ["send cg c1 m1 n1 a2"])
        #expect(queues.counters(of: "cg")?.redelivered == 1)
        // The late accept of the first send still settles it; the second outcome then changes nothing.
        _ = queues.outcome(group: "cg", id: 1, attempt: 1, .disposition(.accepted), now: self.start.advanced(by: .seconds(3)))
        #expect(queues.counters(of: "cg")?.accepted == 1)
        #expect(queues.counters(of: "cg")?.unsettled == 0)
    }

    @Test func releasedAndModifiedComeBackAndCompetingConsumersShare() {
        var queues = ConsumerGroupQueues()
        queues.consumerAttached(group: "cg", 1)
        queues.consumerAttached(group: "cg", 2)
        _ = queues.creditChanged(group: "cg", 1, self.credit(1), now: self.start)
        _ = queues.creditChanged(group: "cg", 2, self.credit(1), now: self.start)
        #expect(self.render(queues.publish(self.message("m1"), to: ["cg"], now: self.start)) == ["send cg c1 m1 n0 a1"])
        #expect(self.render(queues.publish(self.message("m2"), to: ["cg"], now: self.start)) == ["send cg c2 m2 n0 a2"])
        // Released: not a failed delivery (count stays 0); it waits for credit, which consumer 1 grants again.
        #expect(queues.outcome(group: "cg", id: 1, attempt: 1, .disposition(.released), now: self.start).isEmpty)
        #expect(self.render(queues.creditChanged(group: "cg", 1, self.credit(1, taken: 1), now: self.start)) == ["send cg c1 m1 n0 a3"])
        // modified{delivery-failed}: counted.
        #expect(
            queues.outcome(group: "cg", id: 2, attempt: 2, .disposition(.modified(deliveryFailed: true, undeliverableHere: false)), now: self.start).isEmpty)
        #expect(self.render(queues.creditChanged(group: "cg", 2, self.credit(1, taken: 1), now: self.start)) == ["send cg c2 m2 n1 a4"])
        #expect(queues.counters(of: "cg")?.redelivered == 2)
    }

    @Test func aRejectedMessageIsDroppedNotRedelivered() {
        var queues = ConsumerGroupQueues()
        queues.consumerAttached(group: "cg", 1)
        _ = queues.creditChanged(group: "cg", 1, self.credit(5), now: self.start)
        _ = queues.publish(self.message("m1"), to: ["cg"], now: self.start)
        #expect(queues.outcome(group: "cg", id: 1, attempt: 1, .disposition(.rejected(nil)), now: self.start).isEmpty)
        #expect(queues.counters(of: "cg")?.rejected == 1)
        #expect(queues.tick(now: self.start.advanced(by: .seconds(60))).isEmpty)
    }

    @Test func retentionBoundsTheBacklogByCountAndAge() {
        var queues = ConsumerGroupQueues(retention: .init(maxAge: .seconds(60), maxCount: 2))
        for index in 1...3 {
            _ = queues.publish(self.message("m\(index)"), to: ["cg"], now: self.start.advanced(by: .seconds(index)))
        }
        #expect(queues.counters(of: "cg")?.waiting == 2)
        #expect(queues.counters(of: "cg")?.expired == 1)
        // m2 and m3 are older than a minute at +63 s.
        _ = queues.tick(now: self.start.advanced(by: .seconds(63) + .milliseconds(1)))
        #expect(queues.counters(of: "cg")?.waiting == 0)
        #expect(queues.counters(of: "cg")?.expired == 3)
        // What is left for a consumer that comes back: nothing of the expired ones.
        queues.consumerAttached(group: "cg", 1)
        #expect(queues.creditChanged(group: "cg", 1, self.credit(10), now: self.start.advanced(by: .seconds(64))).isEmpty)
    }
}

/// A backlog far larger than the dispatch window: retention drops the oldest, a consumer that comes gets the rest
/// oldest first.
@Suite struct ConsumerGroupQueuesBacklogTests {
    @Test func aLargeBacklogKeepsTheNewestAndDeliversOldestFirst() {
        let start = ContinuousClock.now
        var queues = ConsumerGroupQueues(retention: .init(maxAge: .seconds(3600), maxCount: 3000))
        for index in 1...5000 {
            let message = SimulatedMessage(topic: "/t", messageId: "m\(index)", generateTime: 0, payload: [])
            #expect(queues.publish(message, to: ["cg"], now: start).isEmpty)
        }
        #expect(queues.counters(of: "cg")?.waiting == 3000)
        #expect(queues.counters(of: "cg")?.expired == 2000)
        queues.consumerAttached(group: "cg", 1)
        let sends = queues.creditChanged(group: "cg", 1, AMQPSenderCredit(available: 3, taken: 0, drain: false), now: start)
        let ids = sends.compactMap { action -> String? in
            if case .send(_, _, _, let message, _, _) = action { return message.messageId }
            return nil
        }
        #expect(ids == ["m2001", "m2002", "m2003"])
    }

    @Test func theBacklogExpiresByAgeFromItsFront() {
        let start = ContinuousClock.now
        var queues = ConsumerGroupQueues(retention: .init(maxAge: .seconds(60), maxCount: 100_000))
        for index in 1...2500 {
            let message = SimulatedMessage(topic: "/t", messageId: "m\(index)", generateTime: 0, payload: [])
            _ = queues.publish(message, to: ["cg"], now: start.advanced(by: .milliseconds(index * 10)))
        }
        // At +70 s everything published before +10 s is over a minute old: m1…m999.
        _ = queues.tick(now: start.advanced(by: .seconds(70)))
        #expect(queues.counters(of: "cg")?.expired == 999)
        #expect(queues.counters(of: "cg")?.waiting == 1501)
    }
}
