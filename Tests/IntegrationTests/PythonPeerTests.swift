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
    /// Our client and our listener against an independent AMQP 1.0 implementation: Python qpid-proton peers
    /// (`peers/`, README). The peers speak the platform's envelope: data-section body, application properties
    /// `topic`, `messageId` and `generateTime` (long, epoch ms).
    @Suite(
        "Python qpid-proton peers",
        .serialized,
        .timeLimit(.minutes(2)),
        .enabled(if: TestEnvironment.hasPythonPeers, "needs IOTBRIDGE_PYTHON and IOTBRIDGE_PEERS (scripts/test.sh)")
    )
    struct PythonPeerTests {
        static let user = "peer-user"
        static let password = "peer-pw-3e77"

        /// Checks that `message` is the platform message the peers build for `id`.
        static func expectPlatformShape(_ message: AMQPMessage, id: String, topic: String, body: String) {
            #expect(message.applicationProperties["topic"] == .string(topic))
            #expect(message.applicationProperties["messageId"] == .string(id))
            #expect(message.messageID == .string(id))
            // generateTime is an AMQP long of epoch milliseconds: now, give or take a few minutes.
            if case .long(let generateTime) = message.applicationProperties["generateTime"] {
                #expect(abs(generateTime - AMQPTestSupport.nowMilliseconds) < 300_000, "generateTime \(generateTime)")
            } else {
                Issue.record(
                    "generateTime is not a long: \(String(describing: message.applicationProperties["generateTime"]))"
                )
            }
            #expect(message.body == .data(Array(body.utf8)), "the body is a data section")
        }

        // MARK: our client ↔ peer_server.py

        @Test("our receiver gets peer_server's platform messages: properties as application properties, body as data")
        func receiveFromPeerServer() async throws {
            let directory = try TemporaryDirectory("peer-send")
            defer { directory.remove() }
            let count = 20
            let topic = "/a1B2c3D4/sensor-7/thing/event/property/post"
            let body = "{\"temperature\":21.5,\"unit\":\"°C\"}"
            let (peer, port) = try await PythonPeers.startServer(
                [
                    "--port", "0", "--send", String(count), "--body", body, "--topic", topic,
                    "--message-id-prefix", "srv-", "--timeout", "60",
                ],
                in: directory
            )
            defer { peer.stop() }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://127.0.0.1:\(port)"))
                try await connection.open()
                let receiver = try await connection.openReceiver(address: "examples", credit: 7)
                var received: [AMQPMessage] = []
                for try await delivery in receiver.deliveries {
                    received.append(delivery.message)
                    delivery.accept()
                    if received.count == count { break }
                }
                for (index, message) in received.enumerated() {
                    Self.expectPlatformShape(message, id: "srv-\(index + 1)", topic: topic, body: body)
                }
                await connection.close()
            }
            // The peer reached its goal (20 outcomes) and saw each of them as accepted.
            #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
            let outcomes = peer.events("outcome")
            #expect(outcomes.map { $0["outcome"]?.string } == Array(repeating: "accepted", count: count))
            // Each message once. Not in order: several accepts settled in one proactor cycle go out as one
            // disposition range, and Python's Proton reports the deliveries of a range in its own order.
            let settledIDs = outcomes.compactMap { $0["messageId"]?.string }
            #expect(settledIDs.count == count)
            #expect(Set(settledIDs) == Set((1...count).map { "srv-\($0)" }))
            let link = peer.events("link-opened").first
            #expect(link?["role"]?.string == "sender")
            #expect(link?["address"]?.string == "examples")
        }

        @Test("pre-settled deliveries from peer_server say so, hold credit until settled, and settling them sends nothing")
        func receivePresettledFromPeerServer() async throws {
            let directory = try TemporaryDirectory("peer-presettled")
            defer { directory.remove() }
            let count = 12
            let credit = 3
            let (peer, port) = try await PythonPeers.startServer(
                [
                    "--port", "0", "--send", String(count), "--presettle", "--message-id-prefix", "pre-", "--timeout",
                    "60",
                ],
                in: directory
            )
            defer { peer.stop() }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://127.0.0.1:\(port)"))
                try await connection.open()
                let receiver = try await connection.openReceiver(address: "examples", credit: credit)
                let held = Collector<AMQPDelivery>()
                let consumer = Task {
                    for try await delivery in receiver.deliveries { held.append(delivery) }
                }
                defer { consumer.cancel() }
                // Pre-settled or not, a delivery the application holds keeps its unit of credit.
                try await waitUntil("\(credit) deliveries arrived", timeout: .seconds(10)) { held.count >= credit }
                try await Task.sleep(for: .milliseconds(500))
                #expect(held.count == credit)
                // Settling them (a no-op on the wire) returns the credit, until everything has arrived.
                var settled = 0
                try await waitUntil("all \(count) deliveries arrived and were settled", timeout: .seconds(15)) {
                    let all = held.all
                    while settled < all.count {
                        all[settled].reject()  // ignored: the peer settled it already
                        settled += 1
                    }
                    return settled == count
                }
                #expect(held.all.allSatisfy { $0.isPresettled })
                #expect(held.all.compactMap(\.message.platformID) == (1...count).map { "pre-\($0)" })
                let readable = held.all.filter { (try? AMQPEncodedMessage(bytes: $0.encoded)) != nil }
                #expect(readable.count == count, "each carries its encoded bytes")
                await connection.close()
            }
            #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
            #expect(peer.events("outcome").isEmpty, "no disposition goes back for a pre-settled delivery")
        }

        // MARK: a null source terminus in the answer to our receiver's attach

        @Test("a peer that answers our receiver's attach with a null source and then sends has attached the link")
        func nullSourceThenMessagesIsAttached() async throws {
            let directory = try TemporaryDirectory("peer-null-source")
            defer { directory.remove() }
            let count = 5
            let (peer, port) = try await PythonPeers.startServer(
                ["--port", "0", "--null-source", "--send", String(count), "--message-id-prefix", "ns-", "--timeout", "60"],
                in: directory
            )
            defer { peer.stop() }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://127.0.0.1:\(port)"))
                try await connection.open()
                // Before, this waited for a detach that never came and timed out after the connect timeout.
                let receiver = try await connection.openReceiver(address: "examples", credit: 10)
                var received: [AMQPMessage] = []
                for try await delivery in receiver.deliveries {
                    received.append(delivery.message)
                    delivery.accept()
                    if received.count == count { break }
                }
                #expect(received.compactMap(\.platformID) == (1...count).map { "ns-\($0)" })
                await connection.close()
            }
            #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
            #expect(peer.events("link-opened").first?["nullSource"] == .bool(true), "\(peer.outputTail)")
            #expect(peer.events("outcome").map { $0["outcome"]?.string } == Array(repeating: "accepted", count: count))
        }

        @Test("a null source with no detach after it is attached once the grace period has passed")
        func nullSourceAndSilenceIsAttachedAfterTheGracePeriod() async throws {
            let directory = try TemporaryDirectory("peer-null-quiet")
            defer { directory.remove() }
            let (peer, port) = try await PythonPeers.startServer(["--port", "0", "--null-source", "--timeout", "60"], in: directory)
            defer { peer.stop() }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://127.0.0.1:\(port)"))
                try await connection.open()
                let started = ContinuousClock.now
                let receiver = try await connection.openReceiver(address: "quiet", credit: 10)
                let waited = ContinuousClock.now - started
                // The peer sends nothing: only the grace period (500 ms) can have decided, long before the 10 s
                // connect timeout.
                #expect(waited >= .milliseconds(400), "\(waited)")
                #expect(waited < .seconds(5), "\(waited)")
                receiver.close()
                await connection.close()
            }
            #expect(peer.events("link-opened").first?["nullSource"] == .bool(true), "\(peer.outputTail)")
        }

        @Test("a null source followed by a detach is still a refusal, reported at once with the peer's reason")
        func nullSourceThenDetachIsARefusal() async throws {
            let directory = try TemporaryDirectory("peer-null-refused")
            defer { directory.remove() }
            let (peer, port) = try await PythonPeers.startServer(
                ["--port", "0", "--refuse-receivers", "amqp:unauthorized-access", "--timeout", "60"],
                in: directory
            )
            defer { peer.stop() }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://127.0.0.1:\(port)"))
                try await connection.open()
                let started = ContinuousClock.now
                let error = await AMQPTestSupport.expectAMQPError("openReceiver on a refused link") {
                    _ = try await connection.openReceiver(address: "forbidden", credit: 10)
                }
                #expect(error?.code == .linkDetached, "\(String(describing: error))")
                #expect(error?.condition?.name == "amqp:unauthorized-access")
                #expect(ContinuousClock.now - started < .seconds(5))
                await connection.close()
            }
            #expect(peer.events("link-refused").count == 1, "\(peer.outputTail)")
        }

        @Test("peer_server receives what our sender sends, exactly, and accepts it")
        func sendToPeerServer() async throws {
            let directory = try TemporaryDirectory("peer-receive")
            defer { directory.remove() }
            let count = 20
            let (peer, port) = try await PythonPeers.startServer(
                ["--port", "0", "--count", String(count), "--timeout", "60"],
                in: directory
            )
            defer { peer.stop() }
            let prefix = AMQPTestSupport.uniqueName("ours")
            let generateTime: Int64 = 1_700_000_000_123
            let messages = (1...count).map { index in
                AMQPTestSupport.platformMessage(
                    id: "\(prefix)-\(index)",
                    body: "{\"seq\":\(index),\"note\":\"ünïcødé\"}",
                    topic: "/a1B2c3D4/dev\(index)/user/update",
                    generateTime: generateTime + Int64(index)
                )
            }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://127.0.0.1:\(port)"))
                try await connection.open()
                let sender = try await connection.openSender(address: "telemetry")
                for message in messages {
                    #expect(try await sender.send(message) == .accepted)
                }
                await connection.close()
            }
            #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
            let printed = peer.events("message")
            try #require(printed.count == count)
            for (index, event) in printed.enumerated() {
                let sent = messages[index]
                #expect(event["messageId"]?.string == sent.platformID)
                #expect(event["amqpMessageId"]?.string == sent.platformID)
                #expect(event["topic"]?.string == sent.string("topic"))
                #expect(event["generateTime"]?.int64 == generateTime + Int64(index + 1))
                #expect(event["bodySection"]?.string == "data")
                #expect(event["bodyEncoding"]?.string == "utf8")
                #expect(event["body"]?.string == String(decoding: sent.body.bytes, as: UTF8.self))
                #expect(event["properties"] == .object([:]))
            }
            #expect(peer.events("link-opened").first?["address"]?.string == "telemetry")
            #expect(
                peer.events("done").first?["accepted"]?.int == 0,
                "accepted counts OUR outcomes on its sends (none)"
            )
        }

        @Test(
            "peer_server's disposition is our sender's outcome",
            arguments: [
                ("accept", AMQPOutcome.accepted),
                ("reject", AMQPOutcome.rejected(nil)),
                ("release", AMQPOutcome.released),
                // peer_server's "modify" is Python proton's `release(delivery, delivered=True)`, which settles with
                // a bare MODIFIED state (proton/_handlers.py): delivery-failed is NOT set on the wire, whatever the
                // README says.
                ("modify", AMQPOutcome.modified(deliveryFailed: false, undeliverableHere: false)),
            ]
        )
        func peerServerDispositions(disposition: String, expected: AMQPOutcome) async throws {
            let directory = try TemporaryDirectory("peer-disposition")
            defer { directory.remove() }
            let (peer, port) = try await PythonPeers.startServer(
                ["--port", "0", "--count", "3", "--disposition", disposition, "--timeout", "60"],
                in: directory
            )
            defer { peer.stop() }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://127.0.0.1:\(port)"))
                try await connection.open()
                let sender = try await connection.openSender(address: "dispositions")
                for index in 1...3 {
                    let outcome = try await sender.send(
                        AMQPTestSupport.platformMessage(id: "d-\(index)", body: disposition)
                    )
                    switch (outcome, expected) {
                    case (.rejected, .rejected):
                        break  // Python's reject() sends no condition; any condition (or none) is fine.
                    default:
                        #expect(outcome == expected, "disposition \(disposition)")
                    }
                }
                await connection.close()
            }
            #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
        }

        @Test("heartbeats keep a quiet connection open past the peer's 1 s idle timeout")
        func heartbeatsKeepAQuietConnectionOpen() async throws {
            let directory = try TemporaryDirectory("peer-idle")
            defer { directory.remove() }
            // The peer drops a connection that sends no frame for 1 s (Proton: local-idle-timeout expired) and
            // announces that in its Open, so our side must send empty frames at least that often.
            let (peer, port) = try await PythonPeers.startServer(
                ["--port", "0", "--idle-timeout", "1", "--count", "1", "--timeout", "60"],
                in: directory
            )
            defer { peer.stop() }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://127.0.0.1:\(port)"))
                try await connection.open()
                let sender = try await connection.openSender(address: "quiet")
                // The quiet period is the thing under test: three of the peer's idle timeouts without traffic.
                try await Task.sleep(for: .seconds(3))
                #expect(connection.state.isOpen)
                #expect(connection.openCount == 1)
                #expect(peer.events("connection-closed").isEmpty, "\(peer.outputTail)")
                let message = AMQPTestSupport.platformMessage(
                    id: AMQPTestSupport.uniqueName("idle"),
                    body: "still here"
                )
                #expect(try await sender.send(message) == .accepted)
                await connection.close()
            }
            #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
        }

        // MARK: the CLI ↔ peer_server.py

        @Test(
            "iotbridge amqp receive prints peer_server's messages as JSON lines and accepts them",
            .enabled(if: TestEnvironment.binary != nil, "needs IOTBRIDGE_BIN")
        )
        func cliReceivesFromPeerServer() async throws {
            let directory = try TemporaryDirectory("cli-peer-rx")
            defer { directory.remove() }
            let count = 5
            let (peer, port) = try await PythonPeers.startServer(
                [
                    "--port", "0", "--send", String(count), "--body", "{\"t\":1}", "--topic", "/p/d/user/get",
                    "--message-id-prefix", "cli-rx-", "--timeout", "60",
                ],
                in: directory
            )
            defer { peer.stop() }
            let result = try await IOTBridgeCLI.run(
                [
                    "amqp", "receive", "--url", "amqp://127.0.0.1:\(port)/examples", "--count", String(count),
                    "--timeout", "30",
                ],
                in: directory
            )
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map { JSON(parsing: String($0)) }
            #expect(lines.map { $0?["messageId"]?.string } == (1...count).map { "cli-rx-\($0)" })
            #expect(lines.allSatisfy { $0?["topic"]?.string == "/p/d/user/get" })
            #expect(lines.allSatisfy { $0?["payload"]?.string == "{\"t\":1}" })
            #expect(lines.allSatisfy { $0?["generateTime"]?.int64 != nil })
            #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
            #expect(peer.events("outcome").map { $0["outcome"]?.string } == Array(repeating: "accepted", count: count))
        }

        @Test(
            "iotbridge amqp send delivers to peer_server as data sections and reports them accepted",
            .enabled(if: TestEnvironment.binary != nil, "needs IOTBRIDGE_BIN")
        )
        func cliSendsToPeerServer() async throws {
            let directory = try TemporaryDirectory("cli-peer-tx")
            defer { directory.remove() }
            let count = 5
            let (peer, port) = try await PythonPeers.startServer(
                ["--port", "0", "--count", String(count), "--timeout", "60"],
                in: directory
            )
            defer { peer.stop() }
            let result = try await IOTBridgeCLI.run(
                [
                    "amqp", "send", "--url", "amqp://127.0.0.1:\(port)/telemetry", "--count", String(count),
                    "--body", "from the CLI", "--message-id-prefix", "cli-tx-", "--property", "topic=/p/d/user/update",
                ],
                in: directory
            )
            #expect(result.status == 0, "\(result.stderr)")
            let summary = result.stdout.split(separator: "\n").last.flatMap { JSON(parsing: String($0)) }
            #expect(summary?["accepted"]?.int == count, "\(result.stdout)")
            #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
            let printed = peer.events("message")
            #expect(printed.map { $0["messageId"]?.string } == (1...count).map { "cli-tx-\($0)" })
            #expect(printed.allSatisfy { $0["bodySection"]?.string == "data" && $0["body"]?.string == "from the CLI" })
            #expect(printed.allSatisfy { $0["topic"]?.string == "/p/d/user/update" })
            #expect(printed.allSatisfy { $0["generateTime"]?.int64 != nil })
        }

        // MARK: Python clients ↔ our listener (SASL PLAIN)

        /// Starts our listener allowing `user`/`password` and runs `body`; shuts everything down afterwards.
        static func withListener(_ body: (AMQPListener) async throws -> Void) async throws {
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await engine.listen(
                    AMQPListenerConfiguration(
                        port: 0,
                        authenticator: .fixed(username: Self.user, password: Self.password)
                    )
                )
                try await body(listener)
                await listener.close()
            }
        }

        @Test("peer_client_send publishes to our listener with PLAIN; our dispositions are its outcomes")
        func peerClientSendsToOurListener() async throws {
            let directory = try TemporaryDirectory("listener-in")
            defer { directory.remove() }
            let count = 25
            // Settle a few messages otherwise, to see every outcome kind arrive at an independent client.
            let special: [Int: AMQPDisposition] = [
                3: .rejected(AMQPCondition(name: "amqp:precondition-failed", description: "bad reading")),
                4: .released,
                5: .modified(deliveryFailed: true, undeliverableHere: false),
            ]
            try await Self.withListener { listener in
                let peer = try PythonPeers.start(
                    "peer_client_send.py",
                    [
                        "--url", "amqp://\(Self.user):\(Self.password)@127.0.0.1:\(listener.port)/inbox",
                        "--count", String(count), "--body", "hello listener", "--message-id-prefix", "cli-",
                        "--timeout", "60",
                    ],
                    in: directory
                )
                defer { peer.stop() }
                guard case .publishing(let receiver, let remote) = try await listener.nextLink() else {
                    Issue.record("expected a publishing link")
                    return
                }
                #expect(remote.user == Self.user)
                #expect(receiver.address == "inbox")
                var received: [AMQPMessage] = []
                for try await delivery in receiver.deliveries {
                    received.append(delivery.message)
                    delivery.settle(special[received.count] ?? .accepted)
                    if received.count == count { break }
                }
                for (index, message) in received.enumerated() {
                    Self.expectPlatformShape(
                        message,
                        id: "cli-\(index + 1)",
                        topic: "/a1TestProduct/device1/user/update",
                        body: "hello listener"
                    )
                }
                // Exit 1: not everything was accepted, as we decided; the counts say exactly what it saw.
                #expect(try await peer.waitForExit() == 1, "\(peer.outputTail)")
                let done = peer.events("done").first
                #expect(done?["sent"]?.int == count)
                #expect(done?["accepted"]?.int == count - 3, "\(String(describing: done))")
                #expect(done?["rejected"]?.int == 1)
                #expect(done?["released"]?.int == 1)
                #expect(done?["modified"]?.int == 1)
                #expect(done?["error"] == nil)
                #expect(peer.events("connected").count == 1)
            }
        }

        @Test("peer_client_send with a wrong password is refused by our listener and attaches nothing")
        func peerClientSendWrongPassword() async throws {
            let directory = try TemporaryDirectory("listener-auth")
            defer { directory.remove() }
            try await Self.withListener { listener in
                let peer = try PythonPeers.start(
                    "peer_client_send.py",
                    [
                        "--url", "amqp://\(Self.user):not-the-password@127.0.0.1:\(listener.port)/inbox", "--count",
                        "1", "--timeout", "30",
                    ],
                    in: directory
                )
                defer { peer.stop() }
                #expect(try await peer.waitForExit() == 1, "\(peer.outputTail)")
                let done = peer.events("done").first
                #expect(done?["error"]?.string?.contains("unauthorized-access") == true, "\(String(describing: done))")
                #expect(done?["accepted"]?.int == 0)
                #expect(peer.events("connected").isEmpty)
                // The peer is gone, so any link it got attached would already be waiting in the stream.
                let link = try? await listener.nextLink(timeout: .milliseconds(500))
                #expect(link == nil, "no link may reach the application after a refused login")
            }
        }

        @Test("peer_client_receive consumes from our listener with PLAIN and accepts what we send")
        func peerClientReceivesFromOurListener() async throws {
            let directory = try TemporaryDirectory("listener-out")
            defer { directory.remove() }
            let count = 15
            try await Self.withListener { listener in
                let peer = try PythonPeers.start(
                    "peer_client_receive.py",
                    [
                        "--url", "amqp://\(Self.user):\(Self.password)@127.0.0.1:\(listener.port)/outbox",
                        "--count", String(count), "--credit", "4", "--timeout", "60",
                    ],
                    in: directory
                )
                defer { peer.stop() }
                guard case .consuming(let sender, let remote) = try await listener.nextLink() else {
                    Issue.record("expected a consuming link")
                    return
                }
                #expect(remote.user == Self.user)
                #expect(sender.address == "outbox")
                let prefix = AMQPTestSupport.uniqueName("out")
                let messages = (1...count).map {
                    AMQPTestSupport.platformMessage(
                        id: "\(prefix)-\($0)",
                        body: "{\"cmd\":\($0)}",
                        topic: "/sys/cmd/\($0)"
                    )
                }
                for message in messages {
                    #expect(try await sender.send(message) == .accepted)
                }
                #expect(try await peer.waitForExit() == 0, "\(peer.outputTail)")
                let printed = peer.events("message")
                #expect(printed.compactMap { $0["messageId"]?.string } == messages.compactMap(\.platformID))
                #expect(printed.compactMap { $0["topic"]?.string } == messages.compactMap { $0.string("topic") })
                #expect(printed.compactMap { $0["body"]?.string } == (1...count).map { "{\"cmd\":\($0)}" })
                #expect(printed.allSatisfy { $0["bodySection"]?.string == "data" })
                #expect(printed.allSatisfy { $0["generateTime"]?.int64 != nil })
                #expect(peer.events("done").first?["received"]?.int == count)
            }
        }

        @Test("peer_client_receive with a wrong password is refused by our listener")
        func peerClientReceiveWrongPassword() async throws {
            let directory = try TemporaryDirectory("listener-auth-rx")
            defer { directory.remove() }
            try await Self.withListener { listener in
                let peer = try PythonPeers.start(
                    "peer_client_receive.py",
                    [
                        "--url", "amqp://\(Self.user):wrong@127.0.0.1:\(listener.port)/outbox", "--count", "1",
                        "--timeout", "30",
                    ],
                    in: directory
                )
                defer { peer.stop() }
                #expect(try await peer.waitForExit() == 1, "\(peer.outputTail)")
                #expect(peer.events("message").isEmpty)
                #expect(peer.stdout.contains("unauthorized-access"), "\(peer.outputTail)")
            }
        }
    }
}
