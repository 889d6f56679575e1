//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization
import Testing

@testable import AMQP

/// What a server serving consumers needs from the listener: the consumer's credit as it grants it, link admission,
/// and its connections closing with it. One process, loopback, our own client as the consumer.
@Suite(.timeLimit(.minutes(2)))
struct ListenerCreditAndCloseTests {
    /// The first consuming link a client attaches.
    static func firstConsumer(_ listener: AMQPListener) async -> AMQPSender? {
        for await link in listener.links {
            if case .consuming(let sender, _) = link { return sender }
        }
        return nil
    }

    @Test func theConsumersCreditReachesTheServerAndSendsUseItUp() async throws {
        try await ListenerHardeningTests.withListener { engine, listener in
            let connection = engine.makeConnection(try ListenerHardeningTests.client(listener))
            try await connection.open()
            async let accepted = Self.firstConsumer(listener)
            let receiver = try await connection.openReceiver(address: "anything", credit: 3)
            let sender = try #require(await accepted)
            let reports = Collector<AMQPSenderCredit>()
            sender.observeCredit { reports.append($0) }
            try await waitUntil("the client's credit of 3 arrived") { reports.all.last?.available == 3 }
            #expect(sender.credit.remaining(afterSending: 0) == 3)
            for index in 0..<2 {
                try await sender.enqueue(AMQPMessage(body: .data([UInt8(index)]))) { _ in }
            }
            // The link took both and the credit they used is gone (our client tops up only on settlement).
            try await waitUntil("two messages taken") { reports.all.last?.taken == 2 }
            #expect(reports.all.last?.available == 1)
            #expect(sender.credit.remaining(afterSending: 2) == 1)
            // Settling them tops the client's credit up again: the server hears it.
            var iterator = receiver.deliveries.makeAsyncIterator()
            for _ in 0..<2 { try await iterator.next()?.accept() }
            try await waitUntil("the credit came back") { reports.all.last?.available == 3 }
            await connection.close()
        }
    }

    @Test func linkAdmissionRefusesWithItsCondition() async throws {
        let refused = AMQPCondition(name: "amqp:not-found", description: "no such thing here")
        try await ListenerHardeningTests.withListener({ configuration in
            configuration.linkAdmission = AMQPLinkAdmission { direction, address, peer in
                #expect(peer.user == ListenerHardeningTests.user)
                return direction == .consuming && address == "forbidden" ? refused : nil
            }
        }) { engine, listener in
            let connection = engine.makeConnection(try ListenerHardeningTests.client(listener))
            try await connection.open()
            do {
                _ = try await connection.openReceiver(address: "forbidden", credit: 1)
                Issue.record("the attach should have been refused")
            } catch let error as AMQPError {
                #expect(error.condition == refused, "\(error)")
            }
            // Another address on the same connection is served.
            async let accepted = Self.firstConsumer(listener)
            _ = try await connection.openReceiver(address: "allowed", credit: 1)
            #expect(await accepted?.address == "allowed")
            #expect(listener.statistics.linksRefused == 1)
            await connection.close()
        }
    }

    @Test func closingTheListenerClosesItsConnections() async throws {
        let engine = AMQPEngine(logger: Loopback.logger)
        defer { Task { await engine.shutdown() } }
        var configuration = AMQPListenerConfiguration(host: "127.0.0.1", port: 0)
        configuration.authenticator = .fixed(username: ListenerHardeningTests.user, password: ListenerHardeningTests.password)
        let listener = try await engine.listen(configuration)
        let connection = engine.makeConnection(try ListenerHardeningTests.client(listener))
        try await connection.open()
        async let accepted = Self.firstConsumer(listener)
        _ = try await connection.openReceiver(address: "q", credit: 1)
        let sender = try #require(await accepted)
        await listener.close()
        // The server side's link ends and the client sees its connection closed by the peer.
        await sender.waitClosed()
        try await waitUntil("the client's connection ended") {
            if case .open = connection.state { return false }
            return true
        }
        await connection.close()
        await engine.shutdown()
    }
}
