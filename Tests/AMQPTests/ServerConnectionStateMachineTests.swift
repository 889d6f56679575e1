//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of a listener's connection: each step is an event from Proton and the action the machine must
/// return. A client gets a session only after logging in (when required) and opening in time.
@Suite struct ServerConnectionStateMachineTests {
    private let policy = ServerConnectionStateMachine.Policy(requiresLogin: true, maxSessions: 2, maxLinksPerSession: 2)
    private let limit = AMQPCondition(name: AMQPCondition.resourceLimitExceeded, description: "limit")

    @Test func aClientThatLoggedInOpensAndGetsSessionsAndLinks() {
        var machine = ServerConnectionStateMachine(policy: self.policy)
        machine.loggedIn(user: "backend", mechanism: "PLAIN")
        #expect(machine.remoteOpened() == .open(user: "backend"))
        #expect(machine.state == .open)
        #expect(machine.sessionBegan(1) == .accept)
        #expect(machine.linkAttached(on: 1) == .accept)
        #expect(machine.linkAttached(on: 1) == .accept)
        // The handshake deadline after Open changes nothing.
        #expect(machine.handshakeTimerFired() == .none)
        #expect(machine.state == .open)
    }

    @Test func aClientThatSkippedSASLIsRefusedAndItsPipelinedFramesAreIgnored() {
        var machine = ServerConnectionStateMachine(policy: self.policy)
        guard case .refuse(let condition) = machine.remoteOpened() else {
            Issue.record("expected a refusal")
            return
        }
        #expect(condition.name == AMQPCondition.unauthorizedAccess)
        #expect(condition.description.contains("requires SASL authentication"))
        #expect(machine.state == .refusing)
        // Begin and Attach that came with the Open get no answer at all.
        #expect(machine.sessionBegan(1) == .ignore)
        #expect(machine.linkAttached(on: 1) == .ignore)
        #expect(machine.remoteOpened() == .none)
    }

    @Test func withoutAnAuthenticatorSkippingSASLIsAllowed() {
        var machine = ServerConnectionStateMachine(
            policy: .init(requiresLogin: false, maxSessions: 1, maxLinksPerSession: 1)
        )
        #expect(machine.remoteOpened() == .open(user: nil))
    }

    @Test func aFailedOrRefusedLoginNeverOpens() {
        var failed = ServerConnectionStateMachine(policy: self.policy)
        failed.loginFailed()
        #expect(failed.remoteOpened() == .refuse(ServerConnectionStateMachine.loginRequired))

        let insecure = AMQPCondition(name: AMQPCondition.unauthorizedAccess, description: "use TLS")
        var refused = ServerConnectionStateMachine(policy: self.policy)
        refused.loginRefused(insecure)
        #expect(refused.remoteOpened() == .refuse(insecure))
        #expect(refused.sessionBegan(1) == .ignore)
    }

    @Test func aConnectionOverALimitIsToldWhyAtOpenButOnlyAfterLoggingIn() {
        var machine = ServerConnectionStateMachine(policy: self.policy, admissionRefusal: self.limit)
        machine.loggedIn(user: "backend", mechanism: "PLAIN")
        #expect(machine.remoteOpened() == .refuse(self.limit))

        // Not logged in: the login comes first, so an unauthenticated client learns nothing of the load.
        var anonymous = ServerConnectionStateMachine(policy: self.policy, admissionRefusal: self.limit)
        #expect(anonymous.remoteOpened() == .refuse(ServerConnectionStateMachine.loginRequired))
    }

    @Test func theHandshakeDeadlineClosesAClientThatNeverOpened() {
        var machine = ServerConnectionStateMachine(policy: self.policy)
        #expect(machine.handshakeTimerFired() == .closeTransport)
        #expect(machine.state == .closed)
        // A login or Open that arrives too late changes nothing.
        machine.loggedIn(user: "late", mechanism: "PLAIN")
        #expect(machine.remoteOpened() == .none)
        #expect(machine.handshakeTimerFired() == .none)
    }

    @Test func sessionsAndLinksAreCountedAgainstTheirLimitsAndFreedWhenTheyEnd() {
        var machine = ServerConnectionStateMachine(policy: self.policy)
        machine.loggedIn(user: "u", mechanism: "PLAIN")
        _ = machine.remoteOpened()
        #expect(machine.sessionBegan(1) == .accept)
        #expect(machine.sessionBegan(2) == .accept)
        guard case .refuse(let sessionRefusal) = machine.sessionBegan(3) else {
            Issue.record("expected the third session to be refused")
            return
        }
        #expect(sessionRefusal.name == AMQPCondition.resourceLimitExceeded)
        #expect(sessionRefusal.description.contains("2 sessions"))
        #expect(machine.sessionCount == 2)

        #expect(machine.linkAttached(on: 1) == .accept)
        #expect(machine.linkAttached(on: 1) == .accept)
        guard case .refuse(let linkRefusal) = machine.linkAttached(on: 1) else {
            Issue.record("expected the third link to be refused")
            return
        }
        #expect(linkRefusal.description.contains("2 links"))
        // Another session has its own count; a detach makes room again.
        #expect(machine.linkAttached(on: 2) == .accept)
        machine.linkDetached(on: 1)
        #expect(machine.linkAttached(on: 1) == .accept)
        // Repeated attach and detach never leaks a slot.
        for _ in 0..<1000 {
            machine.linkDetached(on: 1)
            #expect(machine.linkAttached(on: 1) == .accept)
        }
        // A link on a session we never accepted is ignored; an ended session makes room for a new one.
        #expect(machine.linkAttached(on: 3) == .ignore)
        machine.sessionEnded(1)
        #expect(machine.sessionBegan(3) == .accept)
        #expect(machine.linkAttached(on: 3) == .accept)
    }

    @Test func theTransportClosingEndsEverything() {
        var machine = ServerConnectionStateMachine(policy: self.policy)
        machine.loggedIn(user: "u", mechanism: "PLAIN")
        _ = machine.remoteOpened()
        _ = machine.sessionBegan(1)
        machine.transportClosed()
        #expect(machine.state == .closed)
        #expect(machine.sessionCount == 0)
        #expect(machine.sessionBegan(2) == .ignore)
        #expect(machine.handshakeTimerFired() == .none)
    }
}
