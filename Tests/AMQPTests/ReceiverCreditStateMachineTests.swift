//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of the receiver's credit window: credit is only ever returned for settled deliveries.
@Suite struct ReceiverCreditStateMachineTests {
    @Test func grantsTheWindowOnAttach() {
        var machine = ReceiverCreditStateMachine(window: 10)
        #expect(machine.attached() == 10)
        #expect(machine.credit == 10)
    }

    @Test func doesNotTopUpWhileDeliveriesAreUnsettled() {
        var machine = ReceiverCreditStateMachine(window: 10)
        _ = machine.attached()
        for _ in 0..<10 {
            let hadCredit = machine.received()
            #expect(hadCredit)
        }
        #expect(machine.credit == 0)
        #expect(machine.unsettled == 10)
        // The peer sends an eleventh without credit: counted, reported as a violation.
        let hadCredit = machine.received()
        #expect(!hadCredit)
    }

    @Test func topsUpInHalfWindowBatchesAsDeliveriesAreSettled() {
        var machine = ReceiverCreditStateMachine(window: 10)
        _ = machine.attached()
        for _ in 0..<6 { _ = machine.received() }
        #expect(machine.settled() == 0)  // credit 4, unsettled 5: deficit 1
        #expect(machine.settled() == 0)  // deficit 2
        #expect(machine.settled() == 0)
        #expect(machine.settled() == 0)
        #expect(machine.settled() == 5)  // deficit reached half the window
        #expect(machine.credit == 9)
        #expect(machine.credit + machine.unsettled <= machine.window)
    }

    @Test func topsUpImmediatelyWhenCreditRunsOut() {
        var machine = ReceiverCreditStateMachine(window: 4)
        _ = machine.attached()
        for _ in 0..<4 { _ = machine.received() }
        // Credit 0, unsettled 3: the deficit (1) is below half the window, but a link with no credit stalls.
        #expect(machine.settled() == 1)
        #expect(machine.credit == 1)
    }

    @Test func windowOfOneReturnsCreditPerMessage() {
        var machine = ReceiverCreditStateMachine(window: 1)
        _ = machine.attached()
        _ = machine.received()
        #expect(machine.settled() == 1)
        #expect(machine.credit == 1)
    }

    @Test func reattachForgetsDeliveriesOfTheOldAttachment() {
        var machine = ReceiverCreditStateMachine(window: 8)
        _ = machine.attached()
        for _ in 0..<8 { _ = machine.received() }
        machine.detached()
        #expect(machine.settled() == 0)
        #expect(machine.attached() == 8)
        #expect(machine.unsettled == 0)
    }

    @Test func neverExceedsTheWindowOverALongRun() {
        var machine = ReceiverCreditStateMachine(window: 7)
        _ = machine.attached()
        var inHand = 0
        for step in 0..<1000 {
            if machine.credit > 0 && (step % 3 != 0 || inHand == 0) {
                _ = machine.received()
                inHand += 1
            } else if inHand > 0 {
                _ = machine.settled()
                inHand -= 1
            }
            #expect(machine.credit + machine.unsettled <= 7)
            #expect(machine.unsettled == inHand)
        }
    }
}
