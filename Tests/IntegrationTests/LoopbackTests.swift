//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Testing

extension IntegrationSuites {
    /// Our client against our own listener, in one process: both link directions, every disposition as the
    /// sender's outcome, the credit window as a hard bound, and TLS with a CA made for the test. Needs no external
    /// peer, so it runs under plain `swift test` too.
    @Suite("Loopback: our client and our listener", .serialized, .timeLimit(.minutes(2)))
    struct LoopbackTests {
        static let user = "backend-user"
        static let password = "loopback-pw-7f3a"

        /// A plain-TCP listener on a free loopback port that allows exactly `user`/`password`.
        static func listen(_ engine: AMQPEngine, tls: AMQPListenerConfiguration.TLS? = nil) async throws -> AMQPListener {
            try await engine.listen(
                AMQPListenerConfiguration(
                    host: "127.0.0.1",
                    port: 0,
                    authenticator: .fixed(username: Self.user, password: Self.password),
                    tls: tls
                )
            )
        }

        /// A client of `listener` that logs in as `user` and fails fast.
        static func connect(_ engine: AMQPEngine, to listener: AMQPListener) async throws -> AMQPConnection {
            let url = "amqp://\(Self.user):\(Self.password)@127.0.0.1:\(listener.port)"
            let connection = engine.makeConnection(try AMQPTestSupport.failFast(url))
            try await connection.open()
            return connection
        }

        @Test("a client publishes: the listener receives every message intact and the sender sees accepted")
        func clientPublishesToTheListener() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await Self.listen(engine)
                let connection = try await Self.connect(engine, to: listener)
                let sender = try await connection.openSender(address: "telemetry/in", window: 8)
                guard case .publishing(let receiver, let peer) = try await listener.nextLink() else {
                    Issue.record("expected a publishing link")
                    return
                }
                #expect(peer.user == Self.user)
                #expect(receiver.address == "telemetry/in")

                let count = 40
                let received = Collector<AMQPMessage>()
                let consumer = Task {
                    for try await delivery in receiver.deliveries {
                        received.append(delivery.message)
                        delivery.accept()
                        if received.count == count { break }
                    }
                }
                let prefix = AMQPTestSupport.uniqueName("up")
                var sent: [AMQPMessage] = []
                for index in 1...count {
                    let message = AMQPTestSupport.platformMessage(id: "\(prefix)-\(index)", body: "{\"n\":\(index)}")
                    sent.append(message)
                    let outcome = try await sender.send(message)
                    #expect(outcome == .accepted, "message \(index)")
                }
                try await withTimeout(.seconds(10), "the listener received \(count) messages") {
                    try await consumer.value
                }
                // Order and content both survive: the codec round-trips every section we set.
                #expect(received.all == sent)
                await connection.close()
                await listener.close()
            }
        }

        @Test("a client consumes: what the listener sends arrives in order and the listener sees accepted")
        func clientConsumesFromTheListener() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await Self.listen(engine)
                let connection = try await Self.connect(engine, to: listener)
                let receiver = try await connection.openReceiver(address: "commands/out", credit: 5)
                guard case .consuming(let sender, let peer) = try await listener.nextLink() else {
                    Issue.record("expected a consuming link")
                    return
                }
                #expect(peer.user == Self.user)
                #expect(sender.address == "commands/out")

                let count = 30
                let prefix = AMQPTestSupport.uniqueName("down")
                let messages = (1...count).map {
                    AMQPTestSupport.platformMessage(id: "\(prefix)-\($0)", body: "cmd \($0)")
                }
                let producer = Task {
                    var outcomes: [AMQPOutcome] = []
                    for message in messages { outcomes.append(try await sender.send(message)) }
                    return outcomes
                }
                var received: [AMQPMessage] = []
                for try await delivery in receiver.deliveries {
                    received.append(delivery.message)
                    delivery.accept()
                    if received.count == count { break }
                }
                let outcomes = try await withTimeout(.seconds(10), "the listener's sends complete") {
                    try await producer.value
                }
                #expect(received == messages)
                #expect(outcomes == Array(repeating: .accepted, count: count))
                await connection.close()
                await listener.close()
            }
        }

        /// How the receiving side settles, and the outcome the sending side must then report.
        static let dispositions: [(id: String, disposition: AMQPDisposition, outcome: AMQPOutcome)] = [
            ("accept", .accepted, .accepted),
            ("release", .released, .released),
            (
                "reject",
                .rejected(AMQPCondition(name: "iotbridge:test-invalid", description: "rejected by the loopback test")),
                .rejected(AMQPCondition(name: "iotbridge:test-invalid", description: "rejected by the loopback test"))
            ),
            (
                "modify",
                .modified(deliveryFailed: true, undeliverableHere: true),
                .modified(deliveryFailed: true, undeliverableHere: true)
            ),
        ]

        /// Settles each delivery of `receiver` as `dispositions` says for its messageId, `count` times.
        static func settleByID(_ receiver: AMQPReceiver, count: Int) -> Task<Int, any Error> {
            Task {
                var settled = 0
                for try await delivery in receiver.deliveries {
                    let id = delivery.message.platformID
                    guard let entry = Self.dispositions.first(where: { $0.id == id }) else {
                        throw IntegrationTestError("unexpected message \(id ?? "nil")")
                    }
                    delivery.settle(entry.disposition)
                    settled += 1
                    if settled == count { break }
                }
                return settled
            }
        }

        @Test("the listener's dispositions reach our client sender as its outcomes")
        func listenerDispositionsReachTheClientSender() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await Self.listen(engine)
                let connection = try await Self.connect(engine, to: listener)
                let sender = try await connection.openSender(address: "dispositions")
                guard case .publishing(let receiver, _) = try await listener.nextLink() else {
                    Issue.record("expected a publishing link")
                    return
                }
                let settler = Self.settleByID(receiver, count: Self.dispositions.count)
                for entry in Self.dispositions {
                    let outcome = try await sender.send(AMQPTestSupport.platformMessage(id: entry.id, body: entry.id))
                    #expect(outcome == entry.outcome, "disposition \(entry.id)")
                }
                #expect(try await settler.value == Self.dispositions.count)
                await connection.close()
                await listener.close()
            }
        }

        @Test("our client receiver's dispositions reach the listener's sender as its outcomes")
        func clientDispositionsReachTheListenerSender() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await Self.listen(engine)
                let connection = try await Self.connect(engine, to: listener)
                let receiver = try await connection.openReceiver(address: "dispositions", credit: 10)
                guard case .consuming(let sender, _) = try await listener.nextLink() else {
                    Issue.record("expected a consuming link")
                    return
                }
                let settler = Self.settleByID(receiver, count: Self.dispositions.count)
                for entry in Self.dispositions {
                    let outcome = try await sender.send(AMQPTestSupport.platformMessage(id: entry.id, body: entry.id))
                    #expect(outcome == entry.outcome, "disposition \(entry.id)")
                }
                #expect(try await settler.value == Self.dispositions.count)
                await connection.close()
                await listener.close()
            }
        }

        @Test("with credit 10 and nothing settled exactly 10 deliveries arrive, then one more per settlement")
        func creditWindowBoundsUnsettledDeliveries() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await Self.listen(engine)
                let connection = try await Self.connect(engine, to: listener)
                let credit = 10
                let total = 25
                let receiver = try await connection.openReceiver(address: "credit", credit: credit)
                guard case .consuming(let sender, _) = try await listener.nextLink() else {
                    Issue.record("expected a consuming link")
                    return
                }
                let outcomes = Collector<AMQPOutcome>()
                for index in 1...total {
                    try await sender.enqueue(AMQPTestSupport.platformMessage(id: "credit-\(index)", body: "\(index)")) {
                        if case .success(let outcome) = $0 { outcomes.append(outcome) }
                    }
                }
                // The application holds every delivery unsettled.
                let held = Collector<AMQPDelivery>()
                let consumer = Task {
                    for try await delivery in receiver.deliveries { held.append(delivery) }
                }
                defer { consumer.cancel() }
                try await waitUntil("\(credit) deliveries arrived", timeout: .seconds(10)) { held.count >= credit }
                // Nothing signals that a delivery did NOT arrive, so the bound is checked over a quiet period long
                // enough for the 15 queued messages to cross loopback many times over if credit allowed it.
                try await Task.sleep(for: .milliseconds(500))
                #expect(held.count == credit)
                #expect(outcomes.count == 0)

                held.all[0].accept()
                try await waitUntil("one more delivery after one settlement", timeout: .seconds(10)) {
                    held.count >= credit + 1
                }
                try await Task.sleep(for: .milliseconds(500))
                #expect(held.count == credit + 1)
                try await waitUntil("the sender saw the first outcome") { outcomes.count == 1 }

                // Settling everything, as it arrives, drains the rest.
                var settled = 1
                try await waitUntil("all \(total) deliveries arrived and were settled", timeout: .seconds(15)) {
                    let all = held.all
                    while settled < all.count {
                        all[settled].accept()
                        settled += 1
                    }
                    return settled == total
                }
                try await waitUntil("the sender saw \(total) outcomes") { outcomes.count == total }
                #expect(outcomes.all.allSatisfy { $0 == .accepted })
                #expect(held.all.compactMap(\.message.platformID) == (1...total).map { "credit-\($0)" })
                await connection.close()
                await listener.close()
            }
        }
    }
}
