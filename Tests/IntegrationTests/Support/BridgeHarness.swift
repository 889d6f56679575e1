//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Testing

/// Runs `iotbridge run` against the test RabbitMQ: two queues stand in for the two instances' consumer groups,
/// a third receives the merged stream, a loopback webhook (peers/webhook_server.py) the second sink.
final class BridgeHarness: @unchecked Sendable {
    // @unchecked Sendable: used from one test task at a time; `bridge` is replaced only between steps.
    let directory: TemporaryDirectory
    let url: String
    let source: String
    let target: String
    let merged: String
    let webhookLog: String
    let webhookFailFile: String
    let statePath: String
    let deadLetterPath: String
    var webhook: ManagedProcess?
    var bridge: ManagedProcess?
    var runs = 0

    init(_ name: String) throws {
        self.directory = try TemporaryDirectory(name)
        self.url = try #require(TestEnvironment.rabbitMQURL)
        let unique = AMQPTestSupport.uniqueName(name)
        self.source = "/queue/\(unique)-source"
        self.target = "/queue/\(unique)-target"
        self.merged = "/queue/\(unique)-merged"
        self.webhookLog = self.directory.file("webhook.log")
        self.webhookFailFile = self.directory.file("webhook.fail")
        self.statePath = self.directory.file("bridge.sqlite")
        self.deadLetterPath = self.directory.file("dead.jsonl")
        _ = FileManager.default.createFile(atPath: self.webhookLog, contents: nil)
    }

    var endpoint: String { self.url.replacingOccurrences(of: "amqp://", with: "amqp://guest:guest@") }

    /// Starts the webhook peer; returns its URL.
    func startWebhook() async throws -> String {
        let webhook = try ManagedProcess(
            try #require(TestEnvironment.python),
            [try #require(TestEnvironment.peers) + "/webhook_server.py", "0", self.webhookLog, "--fail-file", self.webhookFailFile],
            name: "webhook",
            environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
            outputDirectory: self.directory
        )
        self.webhook = webhook
        let line = try await webhook.waitForLine { $0.contains("listening") }
        let port = try #require(JSON(parsing: line)?["port"]?.int)
        return "http://127.0.0.1:\(port)/in"
    }

    /// Writes bridge.yaml: both queues in (source with two connections), merged queue and webhook out.
    func writeConfiguration(webhookURL: String?, credit: Int = 100, extra: String = "") throws -> String {
        let host = try AMQPEndpoint(url: self.url).hostAndPort
        var sinks = "  - { name: merged, kind: amqp, url: \"amqp://\(host)/\(self.merged)\", auth: { kind: plain, user: guest, password: \"${RABBIT_PW}\" } }\n"
        if let webhookURL {
            sinks += "  - { name: hook, kind: webhook, url: \"\(webhookURL)\", concurrency: 32 }\n"
        }
        let yaml = """
            state: \(self.statePath)
            dedup: { window: 1h, maxEntries: 1000000 }
            upstreams:
              - { name: source, url: "amqp://\(host)/\(self.source)", auth: { kind: plain, user: guest, password: "${RABBIT_PW}" }, connections: 2, credit: \(credit) }
              - { name: target, url: "amqp://\(host)/\(self.target)", auth: { kind: plain, user: guest, password: "${RABBIT_PW}" }, connections: 1, credit: \(credit) }
            sinks:
            \(sinks)deadLetter: { kind: jsonl, path: \(self.deadLetterPath) }
            http: { listen: 127.0.0.1:0 }
            shutdown: { deadline: 5s }
            \(extra)
            """
        let path = self.directory.file("bridge.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts `iotbridge run` and waits until it says it started.
    func startBridge(config: String) async throws {
        self.runs += 1
        let bridge = try ManagedProcess(
            try #require(TestEnvironment.binary),
            ["run", "--config", config, "--quiet"],
            name: "bridge-\(self.runs)",
            environment: ["RABBIT_PW": "guest"],
            outputDirectory: self.directory
        )
        self.bridge = bridge
        try await waitUntil("the bridge started", timeout: .seconds(30)) {
            if !bridge.isRunning { throw IntegrationTestError("the bridge exited: \(bridge.outputTail)") }
            return bridge.stderr.contains("bridge started")
        }
    }

    /// The HTTP port the running bridge logged. Waits for the line: the HTTP server is a service of its own and
    /// may log after "bridge started".
    func httpPort() async throws -> Int {
        let bridge = try #require(self.bridge)
        var port: Int?
        try await waitUntil("the bridge logs its HTTP port", timeout: .seconds(15)) {
            port = bridge.stderr.firstMatch(of: /http\.port=(\d+)/).flatMap { Int($0.1) }
            return port != nil
        }
        return try #require(port)
    }

    /// Publishes COUNT messages over both queues (peers/bridge_publish.py).
    func publish(
        _ count: Int, overlap: Double = 0.2, redeliver: Double = 0.01, prefix: String = "m", rate: Double = 0
    )
        async throws -> ManagedProcess
    {
        try ManagedProcess(
            try #require(TestEnvironment.python),
            [
                try #require(TestEnvironment.peers) + "/bridge_publish.py", self.endpoint, self.source, self.target, "\(count)",
                "--overlap", "\(overlap)", "--redeliver", "\(redeliver)", "--prefix", prefix, "--rate", "\(rate)",
                "--declare", self.merged,
            ],
            name: "publish",
            environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
            outputDirectory: self.directory
        )
    }

    /// Drains the merged queue (peers/bridge_collect.py) and returns its report.
    func collect(expected: Int, idle: Double = 3, timeout: Double = 300) async throws -> JSON {
        let collector = try ManagedProcess(
            try #require(TestEnvironment.python),
            [
                try #require(TestEnvironment.peers) + "/bridge_collect.py", self.endpoint, self.merged, "\(expected)", "--idle", "\(idle)", "--timeout",
                "\(timeout)",
            ],
            name: "collect",
            environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
            outputDirectory: self.directory
        )
        _ = try await collector.waitForExit(timeout: .seconds(Int64(timeout) + 30))
        return try #require(collector.events("collected").last, "collector output: \(collector.outputTail)")
    }

    /// The webhook's received messageIds, with their counts.
    func webhookCounts() -> [String: Int] {
        let text = (try? String(contentsOfFile: self.webhookLog, encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") { counts[String(line), default: 0] += 1 }
        return counts
    }

    /// The dead letter's lines.
    func deadLetters() -> [JSON] {
        let text = (try? String(contentsOfFile: self.deadLetterPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { JSON(parsing: String($0)) }
    }

    func stop() {
        self.bridge?.stop()
        self.webhook?.stop()
    }
}
