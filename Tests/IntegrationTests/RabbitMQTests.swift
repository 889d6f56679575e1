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
    /// Our client and the `iotbridge amqp send|receive` commands against a real RabbitMQ 3.10 with its AMQP 1.0
    /// plugin (the private node `scripts/test.sh` starts; guest/guest, addresses `/queue/NAME`).
    @Suite(
        "RabbitMQ",
        .serialized,
        .timeLimit(.minutes(2)),
        .enabled(if: TestEnvironment.rabbitMQURL != nil, "needs IOTBRIDGE_RABBITMQ_URL (scripts/test.sh)")
    )
    struct RabbitMQTests {
        /// `host:port` of the node, from `IOTBRIDGE_RABBITMQ_URL`.
        static func hostAndPort() throws -> String {
            try AMQPEndpoint(url: try #require(TestEnvironment.rabbitMQURL)).hostAndPort
        }

        /// What RabbitMQ holds for one queue.
        struct QueueDepth: Equatable {
            /// Messages waiting for a consumer.
            var ready: Int
            /// Messages delivered to a consumer and not yet settled by it.
            var unacknowledged: Int
        }

        /// Asks the node (`rabbitmqctl list_queues`, about 1 s) what it holds for `address` (`/queue/NAME`).
        static func queueDepth(_ address: String) async throws -> QueueDepth? {
            let directory = try TemporaryDirectory("rabbitmqctl")
            defer { directory.remove() }
            let result = try await ManagedProcess.run(
                try #require(TestEnvironment.rabbitMQCtl),
                [
                    "-n", try #require(TestEnvironment.rabbitMQNode), "-q", "list_queues", "name", "messages_ready",
                    "messages_unacknowledged",
                ],
                outputDirectory: directory
            )
            let name = address.replacingOccurrences(of: "/queue/", with: "")
            for line in result.stdout.split(separator: "\n") {
                let fields = line.split(separator: "\t").map(String.init)
                if fields.count == 3, fields[0] == name, let ready = Int(fields[1]), let unacknowledged = Int(fields[2]) {
                    return QueueDepth(ready: ready, unacknowledged: unacknowledged)
                }
            }
            return nil
        }

        /// A queue address no other test uses.
        static func uniqueQueue() -> String { "/queue/\(AMQPTestSupport.uniqueName("iotbridge-it"))" }

        @Test("200 messages sent with PLAIN guest/guest come back in order with the same ids and bodies, and are acked")
        func roundTripWithPlain() async throws {
            let queue = Self.uniqueQueue()
            let count = 200
            let prefix = AMQPTestSupport.uniqueName("rmq")
            let messages = (1...count).map {
                AMQPTestSupport.platformMessage(id: "\(prefix)-\($0)", body: "{\"n\":\($0)}")
            }
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(
                    try AMQPTestSupport.failFast("amqp://guest:guest@\(try Self.hostAndPort())")
                )
                try await connection.open()
                let sender = try await connection.openSender(address: queue, window: 50)
                let outcomes = Collector<AMQPOutcome>()
                for message in messages {
                    try await sender.enqueue(message) { result in
                        outcomes.append((try? result.get()) ?? .unsettled)
                    }
                }
                try await waitUntil("RabbitMQ settled all \(count)", timeout: .seconds(30)) { outcomes.count == count }
                #expect(outcomes.all.allSatisfy { $0 == .accepted })

                let receiver = try await connection.openReceiver(address: queue, credit: 20)
                var received: [AMQPMessage] = []
                for try await delivery in receiver.deliveries {
                    received.append(delivery.message)
                    delivery.accept()
                    if received.count == count { break }
                }
                #expect(received.map(\.platformID) == messages.map(\.platformID))
                #expect(received.map(\.messageID) == messages.map(\.messageID))
                #expect(received.map(\.body) == messages.map(\.body))
                #expect(
                    received.map { $0.applicationProperties["generateTime"] }
                        == messages.map { $0.applicationProperties["generateTime"] }
                )
                // The accepts reached the broker: it holds nothing for this queue any more, neither ready nor
                // delivered-and-unacknowledged.
                if TestEnvironment.rabbitMQCtl != nil {
                    try await waitUntil("RabbitMQ shows \(queue) empty and fully acknowledged", timeout: .seconds(30)) {
                        try await Self.queueDepth(queue) == QueueDepth(ready: 0, unacknowledged: 0)
                    }
                }
                await connection.close()
            }
        }

        @Test("ANONYMOUS also works (RabbitMQ maps it to guest)")
        func roundTripWithAnonymous() async throws {
            let queue = Self.uniqueQueue()
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(try AMQPTestSupport.failFast("amqp://\(try Self.hostAndPort())"))
                try await connection.open()
                let sender = try await connection.openSender(address: queue)
                let message = AMQPTestSupport.platformMessage(id: AMQPTestSupport.uniqueName("anon"), body: "anonymous")
                #expect(try await sender.send(message) == .accepted)
                let receiver = try await connection.openReceiver(address: queue, credit: 1)
                let received = try await withTimeout(.seconds(10), "the message comes back") {
                    var iterator = receiver.deliveries.makeAsyncIterator()
                    let delivery = try await iterator.next()
                    delivery?.accept()
                    return delivery?.message
                }
                // RabbitMQ adds header.first-acquirer, which the model does not hold and reports instead.
                #expect(received?.unrepresented == ["header.first-acquirer"])
                var held = received
                held?.unrepresented = []
                #expect(held == message)
                await connection.close()
            }
        }

        static let wrongPassword = "rabbit-wrong-pw-5a9d"

        @Test("a wrong password is .authentication and the error never contains the password")
        func wrongPassword() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let endpoint = try Self.hostAndPort()
                let connection = engine.makeConnection(
                    try AMQPTestSupport.failFast("amqp://guest:\(Self.wrongPassword)@\(endpoint)")
                )
                let error = await AMQPTestSupport.expectAMQPError("open with a wrong password") {
                    try await connection.open()
                }
                #expect(error?.code == .authentication, "\(String(describing: error))")
                #expect(error?.message.contains(endpoint) == true, "\(String(describing: error?.message))")
                #expect(error.map { !"\($0)".contains(Self.wrongPassword) } == true)
                await connection.close()
            }
        }

        @Test("a wrong password's error names the user")
        func wrongPasswordNamesTheUser() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let connection = engine.makeConnection(
                    try AMQPTestSupport.failFast("amqp://guest:\(Self.wrongPassword)@\(try Self.hostAndPort())")
                )
                let error = await AMQPTestSupport.expectAMQPError("open with a wrong password") {
                    try await connection.open()
                }
                #expect(error?.message.contains("guest") == true, "\(String(describing: error?.message))")
                await connection.close()
            }
        }

        // MARK: the CLI

        @Test(
            "iotbridge amqp send, then amqp receive --count N: JSON lines, summary and exit codes",
            .enabled(if: TestEnvironment.binary != nil, "needs IOTBRIDGE_BIN")
        )
        func cliRoundTrip() async throws {
            let directory = try TemporaryDirectory("cli")
            defer { directory.remove() }
            let count = 30
            let prefix = AMQPTestSupport.uniqueName("cli") + "-"
            // Two slashes: the address is everything after the first slash after host:port, and RabbitMQ wants
            // the leading one (README).
            let url = "amqp://guest:guest@\(try Self.hostAndPort())/\(Self.uniqueQueue())"

            let send = try await IOTBridgeCLI.run(
                [
                    "amqp", "send", "--url", url, "--count", String(count), "--body", "cli body ✓",
                    "--message-id-prefix", prefix, "--property", "topic=/a1B2c3/cli/user/update", "--property",
                    "qos:int=1",
                ],
                in: directory
            )
            #expect(send.status == 0, "\(send.stderr)")
            let summary = try #require(
                send.stdout.split(separator: "\n").last.flatMap { JSON(parsing: String($0)) },
                "\(send.stdout)"
            )
            #expect(summary["sent"]?.int == count)
            #expect(summary["accepted"]?.int == count)
            for key in ["rejected", "released", "modified", "unsettled", "failed"] {
                #expect(summary[key]?.int == 0, "\(key) in \(summary)")
            }

            let receive = try await IOTBridgeCLI.run(
                ["amqp", "receive", "--url", url, "--count", String(count), "--credit", "7", "--timeout", "30"],
                in: directory
            )
            #expect(receive.status == 0, "\(receive.stderr)")
            let lines = receive.stdout.split(separator: "\n").map { JSON(parsing: String($0)) }
            try #require(lines.count == count, "\(receive.stdout)")
            for (index, line) in lines.enumerated() {
                #expect(line?["messageId"]?.string == "\(prefix)\(index + 1)")
                #expect(line?["topic"]?.string == "/a1B2c3/cli/user/update")
                #expect(line?["payload"]?.string == "cli body ✓")
                #expect(line?["payloadEncoding"] == nil)
                #expect(
                    line?["generateTime"]?.int64.map { abs($0 - AMQPTestSupport.nowMilliseconds) < 300_000 } == true
                )
                #expect(line?["properties"]?["qos"]?.int == 1)
            }

            // Everything was accepted: the queue is empty now, so a receive for one more times out with exit 1.
            let empty = try await IOTBridgeCLI.run(
                ["amqp", "receive", "--url", url, "--count", "1", "--timeout", "2"],
                in: directory
            )
            #expect(empty.status == 1, "\(empty.stdout) \(empty.stderr)")
            #expect(empty.stdout.isEmpty)
            #expect(empty.stderr.contains("timed out"), "\(empty.stderr)")
        }

        @Test(
            "iotbridge with a wrong password exits 2, names the user, never prints the password",
            .enabled(if: TestEnvironment.binary != nil, "needs IOTBRIDGE_BIN")
        )
        func cliWrongPassword() async throws {
            let directory = try TemporaryDirectory("cli-auth")
            defer { directory.remove() }
            let queue = Self.uniqueQueue()
            let endpoint = try Self.hostAndPort()
            let runs: [(what: String, arguments: [String], environment: [String: String])] = [
                (
                    "send, password in the URL",
                    [
                        "amqp", "send", "--url", "amqp://guest:\(Self.wrongPassword)@\(endpoint)/\(queue)", "--count",
                        "1",
                    ], [:]
                ),
                (
                    "receive, --password-env",
                    [
                        "amqp", "receive", "--url", "amqp://\(endpoint)/\(queue)", "--user", "guest", "--password-env",
                        "IT_AMQP_PW", "--count", "1", "--timeout", "20",
                    ],
                    ["IT_AMQP_PW": Self.wrongPassword]
                ),
            ]
            for run in runs {
                let result = try await IOTBridgeCLI.run(run.arguments, environment: run.environment, in: directory)
                #expect(result.status == 2, "\(run.what): \(result.stderr)")
                #expect(result.stderr.contains("authentication failed"), "\(run.what): \(result.stderr)")
                #expect(result.stderr.contains("user guest"), "\(run.what): \(result.stderr)")
                #expect(result.stderr.contains(endpoint), "\(run.what): \(result.stderr)")
                #expect(!result.stderr.contains(Self.wrongPassword), "\(run.what)")
                #expect(!result.stdout.contains(Self.wrongPassword), "\(run.what)")
            }
        }
    }
}
