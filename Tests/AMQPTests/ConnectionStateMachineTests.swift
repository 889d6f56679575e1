//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of the connection lifecycle: each step is an input and the action the machine must return.
@Suite struct ConnectionStateMachineTests {
    private let refused = AMQPError(.connectionRefused, "refused")
    private let denied = AMQPError(.authentication, "denied")

    private func policy(retryInitial: Bool = true, maximumAttempts: Int? = nil) -> ReconnectPolicy {
        ReconnectPolicy(
            initialDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0,
            maximumAttempts: maximumAttempts, retryInitialConnect: retryInitial)
    }

    @Test func connectsOpensAndClosesCleanly() {
        var machine = ConnectionStateMachine(policy: self.policy())
        #expect(machine.start() == .connect)
        #expect(machine.state == .connecting(attempt: 1))
        #expect(machine.opened() == .reportOpened)
        #expect(machine.state == .open)
        #expect(machine.close() == .closeTransport)
        #expect(machine.state == .closing)
        #expect(machine.transportClosed(error: nil) == .finish(error: nil))
        #expect(machine.state == .closed)
    }

    @Test func lostConnectionBacksOffExponentiallyAndResetsAfterOpen() {
        var machine = ConnectionStateMachine(policy: self.policy())
        _ = machine.start()
        _ = machine.opened()
        #expect(machine.transportClosed(error: self.refused) == .scheduleReconnect(after: .milliseconds(100)))
        #expect(machine.state == .waitingToReconnect(attempt: 1))
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.transportClosed(error: self.refused) == .scheduleReconnect(after: .milliseconds(200)))
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.transportClosed(error: self.refused) == .scheduleReconnect(after: .milliseconds(400)))
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.opened() == .reportOpened)
        // After a successful open the next loss starts from the initial delay again.
        #expect(machine.transportClosed(error: self.refused) == .scheduleReconnect(after: .milliseconds(100)))
    }

    @Test func backoffIsCapped() {
        var machine = ConnectionStateMachine(policy: self.policy())
        _ = machine.start()
        _ = machine.opened()
        var last: ConnectionStateMachine.Action = .none
        for _ in 0..<10 {
            last = machine.transportClosed(error: self.refused)
            _ = machine.reconnectTimerFired()
        }
        #expect(last == .scheduleReconnect(after: .seconds(1)))
    }

    @Test func authenticationFailureIsNotRetried() {
        var machine = ConnectionStateMachine(policy: self.policy())
        _ = machine.start()
        _ = machine.opened()
        #expect(machine.transportClosed(error: self.denied) == .finish(error: self.denied))
        #expect(machine.state == .closed)
    }

    @Test func firstAttemptFailsFastWhenThePolicySaysSo() {
        var machine = ConnectionStateMachine(policy: self.policy(retryInitial: false))
        _ = machine.start()
        #expect(machine.transportClosed(error: self.refused) == .finish(error: self.refused))
    }

    @Test func firstAttemptIsRetriedByDefault() {
        var machine = ConnectionStateMachine(policy: self.policy())
        _ = machine.start()
        #expect(machine.transportClosed(error: self.refused) == .scheduleReconnect(after: .milliseconds(200)))
    }

    @Test func givesUpAfterMaximumAttempts() {
        var machine = ConnectionStateMachine(policy: self.policy(maximumAttempts: 2))
        _ = machine.start()
        _ = machine.opened()
        #expect(machine.transportClosed(error: self.refused) == .scheduleReconnect(after: .milliseconds(100)))
        _ = machine.reconnectTimerFired()
        #expect(machine.transportClosed(error: self.refused) == .scheduleReconnect(after: .milliseconds(200)))
        _ = machine.reconnectTimerFired()
        #expect(machine.transportClosed(error: self.refused) == .finish(error: self.refused))
    }

    @Test func connectTimeoutClosesTheTransport() {
        var machine = ConnectionStateMachine(policy: self.policy())
        _ = machine.start()
        #expect(machine.connectTimedOut() == .closeTransport)
        let timeout = AMQPError(.timeout, "slow")
        #expect(machine.transportClosed(error: timeout) == .scheduleReconnect(after: .milliseconds(200)))
        // A timer for an attempt that already ended does nothing.
        #expect(machine.connectTimedOut() == .none)
    }

    @Test func closeWhileWaitingFinishesAtOnce() {
        var machine = ConnectionStateMachine(policy: self.policy())
        _ = machine.start()
        _ = machine.opened()
        _ = machine.transportClosed(error: self.refused)
        #expect(machine.close() == .finish(error: nil))
        #expect(machine.reconnectTimerFired() == .none)
    }

    @Test func policyDisabledFinishesOnLoss() {
        var machine = ConnectionStateMachine(policy: .never)
        _ = machine.start()
        _ = machine.opened()
        #expect(machine.transportClosed(error: self.refused) == .finish(error: self.refused))
    }
}

/// The backoff formula on its own: growth, cap and jitter bounds.
@Suite struct ReconnectPolicyTests {
    @Test func jitterStaysWithinItsFraction() {
        let policy = ReconnectPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(60), jitter: 0.5)
        #expect(policy.delay(forAttempt: 1, random: 0) == .seconds(1))
        #expect(policy.delay(forAttempt: 1, random: 0.999_999_999) > .milliseconds(499))
        #expect(policy.delay(forAttempt: 1, random: 0.5) == .milliseconds(750))
        #expect(policy.delay(forAttempt: 3, random: 0) == .seconds(4))
        #expect(policy.delay(forAttempt: 40, random: 0) == .seconds(60))
    }
}
