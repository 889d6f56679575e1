//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of a receiving link's attach: a source means attached, a null source means attached unless a
/// detach follows, and the peer sending anything settles the question.
@Suite struct ReceiverAttachStateMachineTests {
    @Test func aSourceMeansAttached() {
        var machine = ReceiverAttachStateMachine()
        #expect(machine.remoteAttached(hasSource: true) == .markAttached)
        #expect(machine.state == .attached)
        // Later transfers, flows or a stray timer change nothing.
        #expect(machine.peerActed() == .none)
        #expect(machine.graceExpired() == .none)
    }

    @Test func aNullSourceThenATransferOrFlowMeansAttached() {
        var machine = ReceiverAttachStateMachine()
        #expect(machine.remoteAttached(hasSource: false) == .startGraceTimer)
        #expect(machine.state == .awaitingConfirmation)
        #expect(machine.peerActed() == .markAttachedWithNullSource)
        #expect(machine.state == .attached)
        // Reported once: more transfers and the timer (if it fires anyway) do nothing.
        #expect(machine.peerActed() == .none)
        #expect(machine.graceExpired() == .none)
    }

    @Test func aNullSourceAndSilenceMeansAttachedAfterTheGracePeriod() {
        var machine = ReceiverAttachStateMachine()
        #expect(machine.remoteAttached(hasSource: false) == .startGraceTimer)
        #expect(machine.graceExpired() == .markAttachedWithNullSource)
        #expect(machine.state == .attached)
    }

    @Test func aNullSourceThenADetachIsARefusal() {
        var machine = ReceiverAttachStateMachine()
        #expect(machine.remoteAttached(hasSource: false) == .startGraceTimer)
        machine.detached()
        #expect(machine.state == .detached)
        // The timer of that attachment may still fire: it must not report the link attached.
        #expect(machine.graceExpired() == .none)
        #expect(machine.peerActed() == .none)
    }

    @Test func eachAttachmentIsDecidedAfresh() {
        var machine = ReceiverAttachStateMachine()
        #expect(machine.remoteAttached(hasSource: true) == .markAttached)
        machine.detached()  // the connection dropped; a reconnect attaches again
        #expect(machine.remoteAttached(hasSource: false) == .startGraceTimer)
        #expect(machine.peerActed() == .markAttachedWithNullSource)
        machine.detached()
        #expect(machine.remoteAttached(hasSource: true) == .markAttached)
    }

    @Test func theGracePeriodIsShortEnoughNotToHoldUpAnAttach() {
        #expect(ReceiverAttachStateMachine.gracePeriod <= .seconds(1))
        #expect(ReceiverAttachStateMachine.gracePeriod >= .milliseconds(200))
    }
}
