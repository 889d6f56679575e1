//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

extension IntegrationSuites {
    /// `iotbridge amqp receive` never accepts a message whose line was not written, and ends gracefully on a signal.
    @Suite(
        "amqp receive: write errors and signals",
        .serialized,
        .timeLimit(.minutes(2)),
        .enabled(if: TestEnvironment.rabbitMQURL != nil && TestEnvironment.binary != nil, "needs RabbitMQ and IOTBRIDGE_BIN")
    )
    struct ReceiveCommandTests {
        /// Sends `count` messages to a fresh queue with `amqp send`; returns its URL.
        func filledQueue(_ count: Int, in directory: TemporaryDirectory) async throws -> (url: String, queue: String) {
            let queue = RabbitMQTests.uniqueQueue()
            let url = "amqp://guest:guest@\(try RabbitMQTests.hostAndPort())/\(queue)"
            let send = try await IOTBridgeCLI.run(["amqp", "send", "--url", url, "--count", String(count), "--body", "x"], in: directory)
            #expect(send.status == 0, "\(send.stderr)")
            return (url, queue)
        }

        @Test("a closed pipe: exit 1 with the reason; only what was written is accepted, the rest released")
        func brokenPipeReleases() async throws {
            let directory = try TemporaryDirectory("receive-pipe")
            defer { directory.remove() }
            let (url, queue) = try await self.filledQueue(3000, in: directory)
            let binary = try #require(TestEnvironment.binary)
            let result = try await ManagedProcess.run(
                "/bin/bash",
                ["-c", "\"$0\" amqp receive --url \"$1\" --credit 50 | head -n 2 > /dev/null; exit ${PIPESTATUS[0]}", binary, url],
                outputDirectory: directory
            )
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("writing to standard output failed"), "\(result.stderr)")
            try await waitUntil("the queue settled", timeout: .seconds(20), interval: .milliseconds(500)) {
                (try await RabbitMQTests.queueDepth(queue))?.unacknowledged == 0
            }
            let left = try #require(try await RabbitMQTests.queueDepth(queue)).ready
            // The pipe takes a few lines before head closes it; everything after went back to the queue.
            #expect(left > 2500, "only \(left) of 3000 left: messages were accepted without being written")
        }

        @Test("SIGTERM: exit 0, every printed message accepted, nothing else")
        func sigtermEndsGracefully() async throws {
            let directory = try TemporaryDirectory("receive-term")
            defer { directory.remove() }
            let (url, queue) = try await self.filledQueue(200, in: directory)
            let receive = try ManagedProcess(
                try #require(TestEnvironment.binary),
                ["amqp", "receive", "--url", url, "--credit", "10"],
                outputDirectory: directory
            )
            try await waitUntil("200 lines", timeout: .seconds(20)) { receive.stdoutLines.count >= 200 }
            receive.send(SIGTERM)
            #expect(try await receive.waitForExit(timeout: .seconds(10)) == 0, "\(receive.outputTail)")
            #expect(try await RabbitMQTests.queueDepth(queue) == .init(ready: 0, unacknowledged: 0))
        }
    }
}
