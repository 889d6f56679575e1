//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

extension IntegrationSuites {
    /// `iotbridge run` with real processes: two RabbitMQ queues stand in for the two instances' consumer groups,
    /// a Python publisher fills them (20 % of the messageIds on both, 1 % published twice), and the bridge
    /// forwards to a third queue and to a loopback webhook. Faults are real: kill -9, a broker restart, a
    /// webhook answering 500, SIGTERM mid-flow.
    @Suite(
        "Bridge: iotbridge run end to end",
        .serialized,
        .timeLimit(.minutes(10)),
        .enabled(if: TestEnvironment.rabbitMQURL != nil && TestEnvironment.hasPythonPeers, "needs RabbitMQ and the Python peers (scripts/test.sh)")
    )
    struct BridgeRunTests {
        /// Messages of the fault-free run: the issue's 100,000 (`IOTBRIDGE_BRIDGE_MESSAGES` changes it).
        static let fullRun = Int(ProcessInfo.processInfo.environment["IOTBRIDGE_BRIDGE_MESSAGES"] ?? "") ?? 100_000
        /// Messages of each fault test: enough to be mid-flow at every fault, few enough for CI's budget.
        static let messages = min(fullRun, 20_000)

        @Test("every messageId arrives exactly once at both sinks, every section intact, nothing left upstream")
        func exactlyOnceWithoutFaults() async throws {
            let harness = try BridgeHarness("bridge-e2e")
            defer { harness.stop() }
            let hook = try await harness.startWebhook()
            let config = try harness.writeConfiguration(webhookURL: hook)
            let publisher = try await harness.publish(Self.fullRun)
            #expect(try await publisher.waitForExit(timeout: .seconds(120)) == 0, "\(publisher.outputTail)")
            let started = ContinuousClock.now
            try await harness.startBridge(config: config)
            let report = try await harness.collect(expected: Self.fullRun)
            let elapsed = started.duration(to: .now)
            #expect(report["missing"]?.int == 0, "\(report)")
            #expect(report["duplicates"]?.int == 0, "\(report)")
            #expect(report["badSections"]?.int == 0, "first bad: \(report["firstBad"]?.string ?? "-")")
            #expect(report["distinct"]?.int == Self.fullRun)
            try await waitUntil("the webhook has every message", timeout: .seconds(60)) {
                harness.webhookCounts().count >= Self.fullRun
            }
            let counts = harness.webhookCounts()
            #expect(counts.count == Self.fullRun)
            #expect(counts.values.allSatisfy { $0 == 1 }, "webhook duplicates: \(counts.filter { $0.value > 1 }.count)")
            #expect(harness.deadLetters().isEmpty)
            let bridge = try #require(harness.bridge)
            bridge.send(SIGTERM)
            #expect(try await bridge.waitForExit(timeout: .seconds(15)) == 0, "\(bridge.outputTail)")
            for queue in [harness.source, harness.target] {
                let depth = try await IntegrationSuites.RabbitMQTests.queueDepth(queue)
                #expect(depth == .init(ready: 0, unacknowledged: 0), "\(queue)")
            }
            print("bridge e2e: \(Self.fullRun) messages (+ overlap and redeliveries) in \(elapsed)")
        }

        @Test("kill -9 five times mid-flow: nothing lost, duplicates within the upstream credit per kill")
        func killNineFiveTimes() async throws {
            let harness = try BridgeHarness("bridge-kill")
            defer { harness.stop() }
            let credit = 100
            let config = try harness.writeConfiguration(webhookURL: nil, credit: credit)
            let publisher = try await harness.publish(Self.messages, rate: Double(Self.messages) / 8)
            try await harness.startBridge(config: config)
            for _ in 0..<5 {
                try await Task.sleep(for: .milliseconds(1200))
                let bridge = try #require(harness.bridge)
                bridge.send(SIGKILL)
                _ = try await bridge.waitForExit(timeout: .seconds(10))
                try await harness.startBridge(config: config)
            }
            #expect(try await publisher.waitForExit(timeout: .seconds(120)) == 0, "\(publisher.outputTail)")
            let report = try await harness.collect(expected: Self.messages)
            #expect(report["missing"]?.int == 0, "\(report)")
            #expect(report["badSections"]?.int == 0, "first bad: \(report["firstBad"]?.string ?? "-")")
            // Each kill can duplicate at most what was in flight: the credit of the three receivers.
            let bound = 5 * 3 * credit
            let duplicates = try #require(report["duplicates"]?.int)
            #expect(duplicates <= bound, "\(duplicates) duplicates > \(bound)")
            print("bridge kill -9 x5: \(duplicates) duplicates (bound \(bound))")
        }

        @Test("a webhook answering 500 for a while: nothing lost, nothing dead-lettered")
        func webhookFailuresAreRetried() async throws {
            let harness = try BridgeHarness("bridge-hook500")
            defer { harness.stop() }
            let hook = try await harness.startWebhook()
            _ = FileManager.default.createFile(atPath: harness.webhookFailFile, contents: nil)
            let config = try harness.writeConfiguration(webhookURL: hook)
            let count = min(Self.messages, 5000)
            let publisher = try await harness.publish(count)
            #expect(try await publisher.waitForExit(timeout: .seconds(120)) == 0)
            try await harness.startBridge(config: config)
            try await Task.sleep(for: .seconds(3))
            #expect(harness.webhookCounts().isEmpty)
            try FileManager.default.removeItem(atPath: harness.webhookFailFile)
            try await waitUntil("the webhook has every message", timeout: .seconds(120)) {
                harness.webhookCounts().count >= count
            }
            let report = try await harness.collect(expected: count)
            #expect(report["missing"]?.int == 0, "\(report)")
            #expect(harness.deadLetters().isEmpty)
            #expect(harness.webhookCounts().count == count)
        }

        @Test("SIGTERM mid-flow: exits within the deadline, nothing lost after a restart")
        func sigtermMidFlow() async throws {
            let harness = try BridgeHarness("bridge-sigterm")
            defer { harness.stop() }
            let config = try harness.writeConfiguration(webhookURL: nil)
            let count = min(Self.messages, 10_000)
            let publisher = try await harness.publish(count, rate: Double(count) / 4)
            try await harness.startBridge(config: config)
            try await Task.sleep(for: .seconds(1))
            let bridge = try #require(harness.bridge)
            let clock = ContinuousClock()
            let signalled = clock.now
            bridge.send(SIGTERM)
            #expect(try await bridge.waitForExit(timeout: .seconds(15)) == 0, "\(bridge.outputTail)")
            #expect(signalled.duration(to: clock.now) < .seconds(6), "the deadline is 5 s")
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0)
            try await harness.startBridge(config: config)
            let report = try await harness.collect(expected: count)
            #expect(report["missing"]?.int == 0, "\(report)")
            #expect(report["duplicates"]?.int == 0, "a graceful shutdown settles what it confirmed: \(report)")
        }

        @Test("bad input goes to the dead letter with its reason while the stream continues")
        func badInputIsDeadLettered() async throws {
            let harness = try BridgeHarness("bridge-bad")
            defer { harness.stop() }
            let rules = harness.directory.file("rules")
            try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
            try """
            name: sequence-numbers
            sql: SELECT seq, deviceName() AS device FROM "/a1Prod/+/user/update"
            dataType: JSON
            actions:
              - type: amqp
                consumerGroup: merged
            """.write(toFile: rules + "/seq.yaml", atomically: true, encoding: .utf8)
            let config = try harness.writeConfiguration(webhookURL: nil, extra: "rules: [\(rules)]")
            let publisher = try ManagedProcess(
                try #require(TestEnvironment.python),
                [try #require(TestEnvironment.peers) + "/bridge_bad_input.py", harness.endpoint, harness.source, "200"],
                name: "bad-input",
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: harness.directory
            )
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            try await harness.startBridge(config: config)
            try await waitUntil("four dead letters", timeout: .seconds(30)) { harness.deadLetters().count >= 4 }
            let reasons = Dictionary(
                harness.deadLetters().map { ($0["messageId"]?.string ?? "?", $0["reason"]?.string ?? "") },
                uniquingKeysWith: { first, _ in first }
            )
            #expect(reasons["bad-json"]?.contains("payload is not JSON") == true, "\(reasons)")
            #expect(reasons["bad-big"]?.contains("exceeds limits.maxMessageSize") == true, "\(reasons)")
            #expect(reasons["bad-notopic"]?.contains("no topic property") == true, "\(reasons)")
            #expect(reasons["bad-utf8"]?.contains("not valid UTF-8") == true, "\(reasons)")
            // The dead letter keeps each message as received, for `deadletter replay`.
            #expect(harness.deadLetters().allSatisfy { ($0["amqp"]?.string ?? "").count > 100 })
            // Every good message went through its rule; the rule output carries the platform's properties.
            let depth = try await waitForDepth(harness.merged, ready: 200)
            #expect(depth == .init(ready: 200, unacknowledged: 0))
            try await waitUntil("the source queue is empty", timeout: .seconds(20)) {
                try await IntegrationSuites.RabbitMQTests.queueDepth(harness.source) == .init(ready: 0, unacknowledged: 0)
            }
            #expect(harness.deadLetters().count == 4)

            // Replay: records without a sink go only where --sink says; the non-UTF-8 topic cannot be sent.
            let bridge = try #require(harness.bridge)
            bridge.send(SIGTERM)
            _ = try await bridge.waitForExit(timeout: .seconds(15))
            let replay = try await ManagedProcess.run(
                try #require(TestEnvironment.binary),
                ["deadletter", "replay", harness.deadLetterPath, "--config", config, "--sink", "merged"],
                environment: ["RABBIT_PW": "guest"],
                outputDirectory: harness.directory
            )
            #expect(replay.stdout.contains("4 record(s): 3 replayed, 0 refused again, 1 skipped"), "\(replay.stdout) \(replay.stderr)")
            #expect(replay.status == 1, "a skipped record is reported with exit 1")
            let replayed = try await waitForDepth(harness.merged, ready: 203)
            #expect(replayed?.ready == 203)
        }

        @Test("RabbitMQ stopped and started mid-flow: nothing lost, the flow resumes by itself")
        func brokerRestart() async throws {
            let harness = try BridgeHarness("bridge-restart")
            defer { harness.stop() }
            let config = try harness.writeConfiguration(webhookURL: nil)
            let count = min(Self.messages, 10_000)
            let publisher = try await harness.publish(count)
            #expect(try await publisher.waitForExit(timeout: .seconds(120)) == 0)
            try await harness.startBridge(config: config)
            try await waitUntil("the bridge is forwarding", timeout: .seconds(30)) {
                (try await IntegrationSuites.RabbitMQTests.queueDepth(harness.merged))?.ready ?? 0 > 0
            }
            try await rabbitmqctl(["stop_app"])
            try await Task.sleep(for: .seconds(2))
            try await rabbitmqctl(["start_app"])
            let back = ContinuousClock.now
            let report = try await harness.collect(expected: count, timeout: 180)
            #expect(report["missing"]?.int == 0, "\(report)")
            #expect(report["badSections"]?.int == 0, "first bad: \(report["firstBad"]?.string ?? "-")")
            let bridge = try #require(harness.bridge)
            #expect(bridge.isRunning, "\(bridge.outputTail)")
            print(
                "bridge broker restart: all \(count) delivered \(back.duration(to: .now)) after the broker was back; duplicates \(report["duplicates"]?.int ?? -1)"
            )
        }

        /// Waits until `queue` holds `ready` messages (or 30 s pass) and returns its depth.
        func waitForDepth(_ queue: String, ready: Int) async throws -> IntegrationSuites.RabbitMQTests.QueueDepth? {
            var depth: IntegrationSuites.RabbitMQTests.QueueDepth?
            try? await waitUntil("\(queue) holds \(ready)", timeout: .seconds(30), interval: .milliseconds(500)) {
                depth = try await IntegrationSuites.RabbitMQTests.queueDepth(queue)
                return (depth?.ready ?? 0) >= ready
            }
            return depth
        }

        /// Runs rabbitmqctl against the test node.
        func rabbitmqctl(_ arguments: [String]) async throws {
            let directory = try TemporaryDirectory("rabbitmqctl")
            defer { directory.remove() }
            let result = try await ManagedProcess.run(
                try #require(TestEnvironment.rabbitMQCtl),
                ["-n", try #require(TestEnvironment.rabbitMQNode)] + arguments,
                outputDirectory: directory
            )
            #expect(result.status == 0, "rabbitmqctl \(arguments): \(result.stderr)")
        }
    }
}
