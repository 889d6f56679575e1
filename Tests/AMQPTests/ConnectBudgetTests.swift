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

    @Test("connections sharing a budget of 2 per 1.5 s: the third waits for the window, then opens")
    func connectionsShareOneBudget() async throws {
        try await Loopback.run { setup in
            let budget = AMQPConnectBudget(limit: 2, per: .milliseconds(1500))
            let url = "amqp://\(Loopback.user):\(Loopback.password)@127.0.0.1:\(setup.listener.port)"
            var configuration = AMQPConnectionConfiguration(endpoint: try AMQPEndpoint(url: url))
            configuration.reconnect = .never
            configuration.connectBudget = budget
            let clock = ContinuousClock()
            let start = clock.now
            var connections: [AMQPConnection] = []
            var openedAfter: [Duration] = []
            for _ in 0..<3 {
                let connection = setup.engine.makeConnection(configuration)
                try await connection.open()
                openedAfter.append(clock.now - start)
                connections.append(connection)
            }
            #expect(budget.deferredAttempts >= 1)
            // The budget, not the machine's speed, holds the third back: it cannot open before the first
            // attempt left the 1.5 s window.
            #expect(openedAfter[2] >= .milliseconds(1400), "opened after \(openedAfter)")
            for connection in connections { await connection.close() }
        }
    }

    @Test func theDescriptionNamesTheLimit() {
        var configuration = AMQPConnectionConfiguration(endpoint: try! AMQPEndpoint(url: "amqp://u:secret@h:5672"))
        configuration.connectBudget = AMQPConnectBudget()
        #expect("\(configuration)".contains("AMQPConnectBudget(100 per 60.0 seconds)"))
        #expect(!"\(configuration)".contains("secret"))
    }
}
