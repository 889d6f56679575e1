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

/// Transcripts of the platform's connection rules a listener can enforce (the instance simulator's): one link per
/// connection, an idle-time-out range at Open, a link within the attach deadline.
@Suite struct ServerConnectionPlatformRulesTests {
    private let platform = ServerConnectionStateMachine.Policy(
        requiresLogin: true,
        maxSessions: 4,
        maxLinksPerSession: 4,
        maxLinksPerConnection: 1,
        idleTimeoutRange: 30_000...300_000,
        requiresTimelyAttach: true
    )

    private func opened(idleTimeout: Int = 60_000) -> ServerConnectionStateMachine {
        var machine = ServerConnectionStateMachine(policy: self.platform)
        machine.loggedIn(user: "client|…|", mechanism: "PLAIN")
        #expect(machine.remoteOpened(idleTimeout: idleTimeout) == .open(user: "client|…|"))
        return machine
    }

    @Test func aSecondLinkIsRefusedOnAnySessionUntilTheFirstDetaches() {
        var machine = self.opened()
        #expect(machine.sessionBegan(1) == .accept)
        #expect(machine.sessionBegan(2) == .accept)
        #expect(machine.linkAttached(on: 1) == .accept)
        guard case .refuse(let sameSession) = machine.linkAttached(on: 1), case .refuse(let otherSession) = machine.linkAttached(on: 2)
        else {
            Issue.record("a second link must be refused")
            return
        }
        #expect(sameSession.name == AMQPCondition.resourceLimitExceeded)
        #expect(otherSession.description.contains("one receiver link per connection"))
        machine.linkDetached(on: 1)
        #expect(machine.linkAttached(on: 2) == .accept)
    }

    @Test func theIdleTimeoutMustBeInRange() {
        for (announced, accepted) in [(0, false), (29_999, false), (30_000, true), (60_000, true), (300_000, true), (300_001, false)] {
            var machine = ServerConnectionStateMachine(policy: self.platform)
            machine.loggedIn(user: "u", mechanism: "PLAIN")
            let action = machine.remoteOpened(idleTimeout: announced)
            if accepted {
                #expect(action == .open(user: "u"), "idle-time-out \(announced)")
            } else {
                guard case .refuse(let condition) = action else {
                    Issue.record("idle-time-out \(announced) must be refused")
                    continue
                }
                #expect(condition.name == "amqp:invalid-field")
                #expect(condition.description.contains("between 30000 and 300000 ms"))
                #expect(machine.sessionBegan(1) == .ignore)
            }
        }
    }

    @Test func aLoginFailureIsReportedBeforeTheIdleTimeout() {
        var machine = ServerConnectionStateMachine(policy: self.platform)
        #expect(machine.remoteOpened(idleTimeout: 0) == .refuse(ServerConnectionStateMachine.loginRequired))
    }

    @Test func noLinkBeforeTheAttachDeadlineClosesTheConnection() {
        var machine = self.opened()
        #expect(machine.sessionBegan(1) == .accept)
        guard case .close(let condition) = machine.attachTimerFired(after: .seconds(15)) else {
            Issue.record("expected a close")
            return
        }
        #expect(condition.description.contains("no link was attached within 15"))
        #expect(machine.state == .refusing)
        #expect(machine.linkAttached(on: 1) == .ignore)
    }

    @Test func aServedLinkMeetsTheAttachDeadlineEvenAfterItDetaches() {
        var machine = self.opened()
        #expect(machine.sessionBegan(1) == .accept)
        #expect(machine.linkAttached(on: 1) == .accept)
        machine.linkServed()
        machine.linkDetached(on: 1)
        #expect(machine.attachTimerFired(after: .seconds(15)) == .none)
        #expect(machine.state == .open)
    }

    @Test func withoutTheRuleTheDeadlineDoesNothing() {
        var machine = ServerConnectionStateMachine(policy: .init(requiresLogin: false, maxSessions: 1, maxLinksPerSession: 1))
        #expect(machine.remoteOpened() == .open(user: nil))
        #expect(machine.attachTimerFired(after: .seconds(1)) == .none)
    }
}
