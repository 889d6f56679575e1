//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of the hand-over machines between the proactor thread and Swift tasks, with names for waiters
/// where the links park continuations: nothing handed over is lost or handed twice, every waiter is woken exactly
/// once, and the end of a link reaches whoever still waits.
@Suite struct HandOverStateMachineTests {
    typealias Receiver = ReceiverHandOverStateMachine<Int, String, String>
    typealias Window = SenderWindowStateMachine<String, String, String>
    typealias Connection = ConnectionLifecycleStateMachine<String, String>
    typealias Listener = ListenerLifecycleStateMachine<String, String>

    /// Whether an optional of a type that is not Equatable is nil.
    static func isNone<Value>(_ value: Value?) -> Bool { value == nil }

    static func batch(_ take: Receiver.Take?) -> [Int]? {
        if case .batch(let deliveries) = take { return deliveries }
        return nil
    }

    static func isEnd(_ take: Receiver.Take?) -> Bool {
        if case .end = take { return true }
        return false
    }

    static func failure(_ take: Receiver.Take?) -> AMQPError? {
        if case .failure(let error) = take { return error }
        return nil
    }

    // MARK: - Receiver

    @Test func deliveriesWithoutAWaitingConsumerAreBufferedAndTakenAsOneBatch() {
        var machine = Receiver()
        let step1 = machine.take()
        #expect(Self.isNone(step1))
        let step2 = machine.push([1, 2])
        #expect(step2 == nil)
        let step3 = machine.push([3])
        #expect(step3 == nil)
        #expect(machine.bufferedCount == 3)
        let step4 = machine.take()
        #expect(Self.batch(step4) == [1, 2, 3])
        let step5 = machine.take()
        #expect(Self.isNone(step5), "a batch is handed over once")
    }

    @Test func aWaitingConsumerGetsTheNextBatchDirectly() {
        var machine = Receiver()
        let step6 = machine.take()
        #expect(Self.isNone(step6))
        machine.park("consumer")
        let step7 = machine.push([7])
        #expect(step7 == "consumer")
        #expect(machine.bufferedCount == 0, "handed to the consumer, not buffered as well")
        let step8 = machine.push([8])
        #expect(step8 == nil, "the consumer was woken once; the next batch waits for it")
        let step9 = machine.take()
        #expect(Self.batch(step9) == [8])
    }

    @Test func bufferedDeliveriesComeBeforeTheEnd() {
        var machine = Receiver()
        _ = machine.push([1])
        let finish = machine.finish(error: AMQPError(.transport, "lost"))
        #expect(Self.isNone(finish?.consumer), "nobody waited")
        let step10 = machine.take()
        #expect(Self.batch(step10) == [1])
        let step11 = machine.take()
        #expect(Self.failure(step11)?.code == .transport)
        let step12 = machine.take()
        #expect(Self.failure(step12)?.code == .transport, "the end stays")
    }

    @Test func theEndReachesTheWaitingConsumerOnceAndOnlyTheFirstEndCounts() {
        var machine = Receiver()
        machine.park("consumer")
        let finish = machine.finish(error: nil)
        #expect(finish?.consumer?.0 == "consumer")
        #expect(Self.isEnd(finish?.consumer?.1))
        let step13 = machine.finish(error: AMQPError(.transport, "late"))
        #expect(Self.isNone(step13))
        let step14 = machine.take()
        #expect(Self.isEnd(step14), "a requested close stays a requested close")
    }

    @Test func aCancelledConsumerIsResumedOnceAndNotHandedDeliveries() {
        var machine = Receiver()
        machine.park("consumer")
        let step15 = machine.cancelWaiter()
        #expect(step15 == "consumer")
        let step16 = machine.cancelWaiter()
        #expect(step16 == nil)
        let step17 = machine.push([5])
        #expect(step17 == nil)
        let step18 = machine.take()
        #expect(Self.batch(step18) == [5])
    }

    @Test func firstAttachWaitersAndReattachments() {
        var machine = Receiver()
        let step19 = machine.waitAttached("a")
        #expect(step19 == nil)
        let step20 = machine.waitAttached("b")
        #expect(step20 == nil)
        let step21 = machine.attached()
        #expect(step21 == ["a", "b"])
        #expect(machine.reattachments == 0)
        let step22 = machine.waitAttached("c")
        #expect((try? step22?.get()) != nil, "attached: at once")
        let step23 = machine.attached()
        #expect(step23.isEmpty)
        #expect(machine.reattachments == 1)
        machine.staleSettlement()
        #expect(machine.staleSettlements == 1)
    }

    @Test func theEndFailsWhoWaitsForTheFirstAttach() throws {
        var machine = Receiver()
        let step24 = machine.waitAttached("a")
        #expect(step24 == nil)
        let step25 = machine.finish(error: nil)
        let finish = try #require(step25)
        #expect(finish.attachWaiters == ["a"])
        #expect(finish.attachError.code == .closed)
        guard case .failure(let error) = machine.waitAttached("late") else {
            Issue.record("a link that ended never attaches")
            return
        }
        #expect(error.code == .closed)
    }

    // MARK: - Sender window

    @Test func aFullWindowParksProducersUntilTheLowWaterMark() {
        var window = Window(capacity: 8)
        #expect(window.lowWaterMark == 6)
        for _ in 0..<8 {
            guard case .acquired = window.acquire() else {
                Issue.record("a slot below capacity")
                return
            }
        }
        guard case .full = window.acquire() else {
            Issue.record("the ninth finds the window full")
            return
        }
        let step26 = window.park("p1")
        #expect(step26 == nil)
        let step27 = window.park("p2")
        #expect(step27 == nil)
        let step28 = window.release()
        #expect(step28.isEmpty, "7 in flight: above the low-water mark")
        let step29 = window.release()
        #expect(step29 == ["p1", "p2"], "6 in flight: both woken, once")
        let step30 = window.release()
        #expect(step30.isEmpty)
        #expect(window.inFlight == 5)
        // A producer that parks after the window drained is sent back to try again at once.
        let step31 = window.park("p3")
        #expect((try? step31?.get()) != nil)
    }

    @Test func theEndFailsProducersAndAttachWaitersAndWakesFinishWaiters() throws {
        var window = Window(capacity: 1)
        guard case .acquired = window.acquire() else {
            Issue.record("the first slot")
            return
        }
        let step32 = window.park("producer")
        #expect(step32 == nil)
        let step33 = window.waitAttached("attach")
        #expect(step33 == nil)
        let step34 = window.waitFinished("finish")
        #expect(step34)
        let step35 = window.finish(error: AMQPError(.linkDetached, "detached"))
        let finish = try #require(step35)
        #expect(finish.producers == ["producer"] && finish.attachWaiters == ["attach"] && finish.finishWaiters == ["finish"])
        #expect(finish.failure.code == .linkDetached)
        let step36 = window.finish(error: nil)
        #expect(Self.isNone(step36), "only the first end counts")
        guard case .failed(let error) = window.acquire() else {
            Issue.record("no slot after the end")
            return
        }
        #expect(error.code == .linkDetached)
        let step37 = window.waitFinished("late")
        #expect(!step37, "already finished: resume at once")
    }

    @Test func aRequestedCloseFailsSendersWithClosed() throws {
        var window = Window(capacity: 2)
        let step38 = window.finish(error: nil)
        let finish = try #require(step38)
        #expect(finish.failure.code == .closed)
        guard case .failure(let error) = window.park("late") else {
            Issue.record("a closed window parks nobody")
            return
        }
        #expect(error.code == .closed)
    }

    // MARK: - Connection

    @Test func openWaitersAreWokenByOpenAndAReconnectDoesNotMakeThemWaitAgain() {
        var connection = Connection()
        let step39 = connection.waitOpen("a")
        #expect(step39 == nil)
        let step40 = connection.opened()
        #expect(step40 == ["a"])
        #expect(connection.opens == 1)
        connection.reconnecting(after: AMQPError(.transport, "lost"))
        let step41 = connection.waitOpen("b")
        #expect((try? step41?.get()) != nil, "it opened once: waiting for Open is over")
        let step42 = connection.opened()
        #expect(step42.isEmpty)
        #expect(connection.opens == 2)
    }

    @Test func finishingBeforeOpenFailsOpenWaitersAndWakesCloseWaiters() {
        var connection = Connection()
        let step43 = connection.waitOpen("open")
        #expect(step43 == nil)
        let step44 = connection.waitClosed("close")
        #expect(step44)
        let finish = connection.finished(error: nil)
        #expect(finish.openWaiters == ["open"] && finish.closeWaiters == ["close"])
        #expect(finish.openFailure.code == .closed)
        guard case .failure = connection.waitOpen("late") else {
            Issue.record("a finished connection never opens")
            return
        }
        let step45 = connection.waitClosed("late")
        #expect(!step45)
    }

    // MARK: - Listener

    @Test func listenWaitersGetThePortOrTheReasonItNeverListened() {
        var listener = Listener()
        let step46 = listener.waitListening("a")
        #expect(step46 == nil)
        let step47 = listener.listening(port: 5671)
        #expect(step47 == ["a"])
        #expect(listener.port == 5671)
        let step48 = listener.waitListening("b")
        #expect((try? step48?.get()) != nil)

        var failed = Listener()
        let step49 = failed.waitListening("a")
        #expect(step49 == nil)
        let step50 = failed.waitClosed("c")
        #expect(step50)
        let close = failed.closed(error: AMQPError(.connectionRefused, "address in use"))
        #expect(close.listenWaiters == ["a"] && close.closeWaiters == ["c"])
        #expect(close.listenFailure.code == .connectionRefused)
        guard case .failure(let error) = failed.waitListening("late") else {
            Issue.record("a closed listener never listens")
            return
        }
        #expect(error.code == .connectionRefused)
        let step51 = failed.waitClosed("late")
        #expect(!step51)
    }
}
