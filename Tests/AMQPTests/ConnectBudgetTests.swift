//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import AMQP

/// The shared connect budget (the platform's 100 connects per minute per consumer group): the window's
/// transcript, the connection state machine's deferral, and connections of one engine sharing a budget.
@Suite struct ConnectBudgetTests {
    @Test func theWindowAdmitsTheLimitThenSaysWhenTheOldestLeaves() {
        var window = ConnectRateWindow(limit: 3, period: .seconds(60))
        let start = ContinuousClock.now
        #expect(window.request(at: start) == .connect)
        #expect(window.request(at: start + .seconds(10)) == .connect)
        #expect(window.request(at: start + .seconds(20)) == .connect)
        // Full: the first attempt leaves the window at start + 60 s.
        #expect(window.request(at: start + .seconds(30)) == .wait(.seconds(30)))
        #expect(window.request(at: start + .seconds(59)) == .wait(.seconds(1)))
        #expect(window.deferred == 2)
        // The first attempt is out; one slot frees, the next waits for the second attempt to leave.
        #expect(window.request(at: start + .seconds(61)) == .connect)
        #expect(window.request(at: start + .seconds(62)) == .wait(.seconds(8)))
        // Long after, the window is empty again.
        #expect(window.request(at: start + .seconds(600)) == .connect)
        #expect(window.attempts.count == 1)
    }

    @Test func aZeroLimitStillAdmitsOneAttempt() {
        var window = ConnectRateWindow(limit: 0, period: .seconds(1))
        let start = ContinuousClock.now
        #expect(window.request(at: start) == .connect)
        #expect(window.request(at: start) == .wait(.seconds(1)))
    }

    @Test func aDeferredAttemptWaitsWithoutCountingAFailure() {
        var machine = ConnectionStateMachine(
            policy: ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0)
        )
        #expect(machine.start() == .connect)
        #expect(machine.connectDeferred(for: .seconds(5)) == .deferConnect(after: .seconds(5)))
        #expect(machine.state == .waitingToReconnect(attempt: 1))
        #expect(machine.reconnectTimerFired() == .connect)
        #expect(machine.state == .connecting(attempt: 1))
        // The first real failure still waits the first retry's delay, not a longer one.
        let refused = AMQPError(.connectionRefused, "refused")
        #expect(machine.transportClosed(error: refused) == .scheduleReconnect(after: .milliseconds(200)))
        // Closing while deferred finishes at once.
        _ = machine.reconnectTimerFired()
        _ = machine.connectDeferred(for: .seconds(5))
        #expect(machine.close() == .finish(error: nil))
    }

    @Test func aDeferralOutsideAnAttemptIsIgnored() {
        var machine = ConnectionStateMachine(policy: ReconnectPolicy())
        #expect(machine.connectDeferred(for: .seconds(1)) == .none)
        _ = machine.start()
        _ = machine.opened()
        #expect(machine.connectDeferred(for: .seconds(1)) == .none)
        #expect(machine.state == .open)
    }

    @Test("connections sharing a budget of 2 per minute: the third waits for the window; closing it ends the wait")
    func connectionsShareOneBudget() async throws {
        try await Loopback.run { setup in
            // A window far longer than the test: however slow the machine, the third attempt falls inside it.
            let budget = AMQPConnectBudget(limit: 2, per: .seconds(60))
            let url = "amqp://\(Loopback.user):\(Loopback.password)@127.0.0.1:\(setup.listener.port)"
            var configuration = AMQPConnectionConfiguration(endpoint: try AMQPEndpoint(url: url))
            configuration.reconnect = .never
            configuration.connectBudget = budget
            let first = setup.engine.makeConnection(configuration)
            let second = setup.engine.makeConnection(configuration)
            try await first.open()
            try await second.open()
            #expect(budget.deferredAttempts == 0)

            let third = setup.engine.makeConnection(configuration)
            let opening = Task { try await third.open() }
            var waited = 0
            while budget.deferredAttempts == 0, waited < 200 {
                try await Task.sleep(for: .milliseconds(50))
                waited += 1
            }
            #expect(budget.deferredAttempts == 1, "the third attempt waits for the window instead of connecting")
            if case .open = third.state { Issue.record("the third connection opened beyond the budget") }
            // Closing a connection that waits for the budget ends it at once, without an attempt.
            await third.close()
            let result = await opening.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(budget.deferredAttempts == 1)
            await first.close()
            await second.close()
        }
    }

    @Test func theDescriptionNamesTheLimit() {
        var configuration = AMQPConnectionConfiguration(endpoint: try! AMQPEndpoint(url: "amqp://u:secret@h:5672"))
        configuration.connectBudget = AMQPConnectBudget()
        #expect("\(configuration)".contains("AMQPConnectBudget(100 per 60.0 seconds)"))
        #expect(!"\(configuration)".contains("secret"))
    }
}
