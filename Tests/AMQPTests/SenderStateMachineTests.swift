//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of the sender: queued until credit, in flight until the disposition, unsettled on loss.
@Suite struct SenderStateMachineTests {
    @Test func waitsForCreditThenTracksUntilDisposition() {
        var machine = SenderStateMachine<String>()
        let a = machine.enqueue("a")
        let b = machine.enqueue("b")
        #expect(machine.transmit(credit: 5).isEmpty)  // not attached yet
        machine.attached()
        let sent = machine.transmit(credit: 1)
        #expect(sent.map(\.item) == ["a"])
        #expect(machine.queuedCount == 1)
        #expect(machine.remoteSettled(tag: a) == "a")
        #expect(machine.remoteSettled(tag: a) == nil)  // a second disposition is ignored
        #expect(machine.transmit(credit: 3).map(\.item) == ["b"])
        #expect(machine.remoteSettled(tag: b) == "b")
        #expect(machine.inFlight.isEmpty)
    }

    @Test func lossReportsInFlightAndKeepsQueued() {
        var machine = SenderStateMachine<Int>()
        machine.attached()
        for value in 0..<5 { _ = machine.enqueue(value) }
        let sent = machine.transmit(credit: 3)
        let lost = machine.connectionLost()
        #expect(Set(lost) == [0, 1, 2])
        #expect(machine.queuedCount == 2)
        // A late disposition for a lost delivery finds nothing: it was already reported unsettled.
        #expect(machine.remoteSettled(tag: sent[0].tag) == nil)
        #expect(machine.transmit(credit: 10).isEmpty)  // detached
        machine.attached()
        #expect(machine.transmit(credit: 10).map(\.item) == [3, 4])
    }

    @Test func closeReturnsBothKinds() {
        var machine = SenderStateMachine<Int>()
        machine.attached()
        for value in 0..<4 { _ = machine.enqueue(value) }
        _ = machine.transmit(credit: 1)
        let (inFlight, neverSent) = machine.closed()
        #expect(inFlight == [0])
        #expect(neverSent == [1, 2, 3])
    }

    @Test func longQueuesStayInOrder() {
        var machine = SenderStateMachine<Int>()
        machine.attached()
        var sent: [Int] = []
        for value in 0..<5000 {
            _ = machine.enqueue(value)
            if value % 7 == 0 {
                for queued in machine.transmit(credit: 5) {
                    sent.append(queued.item)
                    _ = machine.remoteSettled(tag: queued.tag)
                }
            }
        }
        while machine.queuedCount > 0 {
            for queued in machine.transmit(credit: 100) {
                sent.append(queued.item)
                _ = machine.remoteSettled(tag: queued.tag)
            }
        }
        #expect(sent == Array(0..<5000))
    }
}
