//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Foundation
import StateStore
import Testing

extension IntegrationSuites {
    /// `iotbridge events deliver` end to end with real peers: an outbox of several batches (500 each, several in
    /// flight) goes to a RabbitMQ queue once each, in sequence order, schema-valid, and is all marked; a sink that
    /// rejects one event in the middle (Python qpid-proton's server) leaves nothing marked from the batch that
    /// holds it on, and the next run sends the rest again, in order.
    @Suite(
        "Events: iotbridge events deliver",
        .serialized,
        .timeLimit(.minutes(3)),
        .enabled(
            if: TestEnvironment.rabbitMQURL != nil && TestEnvironment.hasPythonPeers && TestEnvironment.binary != nil,
            "needs RabbitMQ, the Python peers and the iotbridge binary (scripts/test.sh)"
        )
    )
    struct EventsDeliverTests {
        static let migrationId = "platform:iot-target:a1PK"

        /// A state file holding `count` device.migrated events of one migration, none delivered, as a bridge
        /// commits them (registry rows with them, 500 per transaction).
        static func fill(_ path: String, count: Int) async throws {
            let store = try SQLiteStateStore(path: path)
            var start = 0
            while start < count {
                let drafts = (start..<min(start + 500, count)).map { index in
                    let device = DeviceKey(productKey: "a1PK", deviceName: "dev-\(index)")
                    return MigrationEvent(
                        source: MigrationEvent.bridgeSource,
                        type: .deviceMigrated,
                        time: 1_795_000_000_000 + Int64(index),
                        subject: device.description,
                        data: MigrationEventData(
                            migrationId: Self.migrationId,
                            productKey: device.productKey,
                            deviceName: device.deviceName,
                            fromInstanceId: "",
                            toInstanceId: "iot-target",
                            status: "GRAY_EXECUTING"
                        )
                    ).draft(
                        registryUpdate: RegistryUpdate(device: device, iotInstanceId: "iot-target", sourceInstanceId: "")
                    )
                }
                _ = try await store.commit(drafts)
                start += 500
            }
        }

        /// The first undelivered position of the state file (nil when all are delivered), read after the CLI
        /// exited.
        static func firstUndelivered(_ path: String) async throws -> Int64? {
            let store = try SQLiteStateStore(path: path)
            return try await store.undeliveredEvents(limit: 1).first?.position
        }

        /// The `data.sequence` of every message a peer printed, in the order received.
        static func sequences(_ messages: [JSON]) throws -> [Int] {
            try messages.map { message in
                let body = try #require(message["body"]?.string)
                return try #require(JSON(parsing: body)?["data"]?["sequence"]?.int)
            }
        }

        static func writeConfiguration(_ directory: TemporaryDirectory, state: String, sink: String) throws -> String {
            let yaml = """
                state: \(state)
                upstreams:
                  - { name: unused, url: "amqp://127.0.0.1:1/unused" }
                sinks:
                  - { name: unused, kind: jsonl, path: \(directory.file("unused.jsonl")) }
                events:
                  sinks:
                    - \(sink)
                """
            let path = directory.file("bridge-\(UUID().uuidString.prefix(6)).yaml")
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test("an outbox of several batches reaches a RabbitMQ queue once each, in order, and is all marked")
        func deliversToRabbitMQInOrder() async throws {
            let directory = try TemporaryDirectory("events-deliver")
            let url = try #require(TestEnvironment.rabbitMQURL)
            let host = url.replacingOccurrences(of: "amqp://", with: "")
            let queue = "/queue/" + AMQPTestSupport.uniqueName("deliver")
            let state = directory.file("bridge.sqlite")
            let count = 1_717
            try await Self.fill(state, count: count)
            let config = try Self.writeConfiguration(
                directory,
                state: state,
                sink: """
                    { name: evq, kind: amqp, url: "amqp://\(host)/\(queue)", \
                    auth: { kind: plain, user: guest, password: "${RABBIT_PW}" } }
                    """
            )

            let first = try await IOTBridgeCLI.run(
                ["events", "deliver", "--config", config],
                environment: ["RABBIT_PW": "guest"],
                in: directory
            )
            #expect(first.status == 0, "\(first)")
            #expect(first.stderr.contains("\(count) event(s) delivered"), "\(first.stderr)")
            #expect(try await Self.firstUndelivered(state) == nil)

            // Nothing left: a second run sends nothing.
            let second = try await IOTBridgeCLI.run(
                ["events", "deliver", "--config", config],
                environment: ["RABBIT_PW": "guest"],
                in: directory
            )
            #expect(second.status == 0, "\(second)")
            #expect(second.stderr.contains("0 event(s) delivered"), "\(second.stderr)")

            // What the queue holds, read by an independent client: every event once, in sequence order.
            let receiver = try PythonPeers.start(
                "peer_client_receive.py",
                [
                    "--url", url.replacingOccurrences(of: "amqp://", with: "amqp://guest:guest@") + "/" + queue,
                    "--count", "\(count)", "--timeout", "60", "--durable",
                ],
                in: directory
            )
            defer { receiver.stop() }
            #expect(try await receiver.waitForExit(timeout: .seconds(90)) == 0, "\(receiver.outputTail)")
            let messages = receiver.events("message")
            #expect(try Self.sequences(messages) == Array(1...count))
            #expect(Set(messages.compactMap { $0["messageId"]?.string }).count == count)
            #expect(messages.first?["topic"]?.string == "/iotbridge/events/" + MigrationEventType.deviceMigrated.rawValue)
            let lines = directory.file("received.jsonl")
            try messages.compactMap { $0["body"]?.string }.joined(separator: "\n")
                .write(toFile: lines, atomically: true, encoding: .utf8)
            try await MigrationEventsTests.expectValid(lines, directory)
        }

        @Test("a sink that rejects one event: nothing is marked from its batch on, and the next run resends in order")
        func aRejectedEventHoldsBackTheRest() async throws {
            let directory = try TemporaryDirectory("events-refusal")
            let state = directory.file("bridge.sqlite")
            let count = 1_600
            try await Self.fill(state, count: count)

            // Event 777 (in the second batch of 500) is rejected; the batches around it are in flight with it.
            let (refusing, refusingPort) = try await PythonPeers.startServer(
                ["--port", "0", "--reject-at", "777", "--credit", "1000"],
                in: directory
            )
            defer { refusing.stop() }
            let refusingConfig = try Self.writeConfiguration(
                directory,
                state: state,
                sink: "{ name: refusing, kind: amqp, url: \"amqp://127.0.0.1:\(refusingPort)/events\", durable: false }"
            )
            let refused = try await IOTBridgeCLI.run(["events", "deliver", "--config", refusingConfig], in: directory)
            #expect(refused.status == 2, "\(refused)")
            #expect(refused.stderr.split(separator: "\n").contains { $0.hasPrefix("error: ") }, "\(refused.stderr)")
            #expect(refused.stderr.contains("rejected"), "\(refused.stderr)")
            // The first batch was confirmed whole and is marked; nothing from the rejected event's batch on is.
            #expect(try await Self.firstUndelivered(state) == 501)
            let seen = try Self.sequences(refusing.events("message"))
            #expect(seen.count >= 777 && seen == Array(1...seen.count), "sent in order up to at least the refusal")

            // The next run against an accepting sink starts again at the first unmarked event, in order.
            let (accepting, acceptingPort) = try await PythonPeers.startServer(
                ["--port", "0", "--credit", "1000"],
                in: directory
            )
            defer { accepting.stop() }
            let acceptingConfig = try Self.writeConfiguration(
                directory,
                state: state,
                sink: "{ name: accepting, kind: amqp, url: \"amqp://127.0.0.1:\(acceptingPort)/events\", durable: false }"
            )
            let resent = try await IOTBridgeCLI.run(["events", "deliver", "--config", acceptingConfig], in: directory)
            #expect(resent.status == 0, "\(resent)")
            #expect(resent.stderr.contains("\(count - 500) event(s) delivered"), "\(resent.stderr)")
            #expect(try Self.sequences(accepting.events("message")) == Array(501...count))
            #expect(try await Self.firstUndelivered(state) == nil)
        }
    }
}
