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
    /// Bridge replicas: several `iotbridge run` processes with one bridge.yaml whose `state:` is the test
    /// PostgreSQL server. Two RabbitMQ queues stand in for the two instances' consumer groups (20 % of the
    /// messageIds on both, 1 % published twice); every replica consumes both and forwards to one merged queue.
    /// Faults are real: kill -9 of replicas, a PostgreSQL stop and start.
    @Suite(
        "Bridge replicas on one PostgreSQL",
        .serialized,
        .timeLimit(.minutes(10)),
        .enabled(
            if: TestEnvironment.rabbitMQURL != nil && TestEnvironment.hasPythonPeers
                && TestEnvironment.postgresURL != nil,
            "needs RabbitMQ, the Python peers and PostgreSQL (scripts/test.sh)"
        )
    )
    struct BridgeReplicaTests {
        /// The upstream credit of every receiver: a replica holds at most 3 × this unsettled (three receivers).
        static let credit = 100

        @Test("three replicas, two queues with 20 % overlapping messageIds: every messageId arrives once")
        func threeReplicasDeliverEachMessageOnce() async throws {
            let count = 6_000
            let replicas = try await Replicas("replicas-once")
            defer { replicas.stop() }
            let publisher = try await replicas.harness.publish(count)
            #expect(try await publisher.waitForExit(timeout: .seconds(120)) == 0, "\(publisher.outputTail)")
            for index in 0..<3 { try await replicas.start(index) }
            let report = try await replicas.harness.collect(expected: count)
            #expect(report["missing"]?.int == 0, "\(report)")
            #expect(report["duplicates"]?.int == 0, "\(report)")
            #expect(report["distinct"]?.int == count)
            // Each replica took part: the platform (here RabbitMQ) spreads deliveries over every consumer.
            for (index, process) in replicas.processes.enumerated() {
                #expect(process?.isRunning == true, "replica \(index): \(process?.outputTail ?? "")")
            }
            try await waitUntil("both queues are empty and settled", timeout: .seconds(30), interval: .milliseconds(500)) {
                for queue in [replicas.harness.source, replicas.harness.target] {
                    let depth = try await IntegrationSuites.RabbitMQTests.queueDepth(queue)
                    if depth != .init(ready: 0, unacknowledged: 0) { return false }
                }
                return true
            }
        }

        @Test("kill -9 one replica mid-flow, then a second, restart both: nothing lost, duplicates within the bound")
        func killNineTwoReplicas() async throws {
            let count = 10_000
            let replicas = try await Replicas("replicas-kill")
            defer { replicas.stop() }
            let publisher = try await replicas.harness.publish(count, rate: Double(count) / 8)
            for index in 0..<3 { try await replicas.start(index) }
            try await Task.sleep(for: .milliseconds(1500))
            try await replicas.kill(0)
            try await Task.sleep(for: .milliseconds(1500))
            try await replicas.kill(1)
            try await Task.sleep(for: .milliseconds(1000))
            try await replicas.start(0)
            try await replicas.start(1)
            #expect(try await publisher.waitForExit(timeout: .seconds(120)) == 0, "\(publisher.outputTail)")
            let report = try await replicas.harness.collect(expected: count)
            #expect(report["missing"]?.int == 0, "\(report)")
            #expect(report["badSections"]?.int == 0, "first bad: \(report["firstBad"]?.string ?? "-")")
            // Each kill can duplicate at most what the killed replica had in flight: its three receivers' credit.
            let bound = 2 * 3 * Self.credit
            let duplicates = try #require(report["duplicates"]?.int)
            #expect(duplicates <= bound, "\(duplicates) duplicates > \(bound)")
            print("bridge replicas kill -9 x2: \(duplicates) duplicates (bound \(bound))")
        }

        @Test("migration facts on PostgreSQL: both replicas answer from one registry; one replica delivers the events, once, in order")
        func migrationFactsAreShared() async throws {
            let replicas = try await Replicas(
                "replicas-events",
                extra: "events: { sinks: [ { name: evfile, kind: jsonl, path: EVENTS } ] }"
            )
            defer { replicas.stop() }
            let events = replicas.harness.directory.file("events.jsonl")
            var yaml = try String(contentsOfFile: replicas.config, encoding: .utf8)
            yaml = yaml.replacingOccurrences(of: "path: EVENTS", with: "path: \(events)")
            try yaml.write(toFile: replicas.config, atomically: true, encoding: .utf8)
            for index in 0..<2 { try await replicas.start(index) }
            // The platform's migration message for three devices, in the source instance's stream.
            let list = ["d1", "d2", "d3"].map { "{\"productKey\":\"a1PK\",\"deviceName\":\"\($0)\"}" }.joined(separator: ",")
            let payload = "{\"status\":\"GRAY_EXECUTING\",\"targetInstance\":\"iot-target\",\"successDevices\":[\(list)]}"
            let line = try JSONSerialization.data(withJSONObject: [
                "address": replicas.harness.source, "topic": "/sys/a1PK/platform/migration/status", "messageId": "mig-1",
                "payload": payload,
            ])
            let file = replicas.harness.directory.file("migration.jsonl")
            try (String(decoding: line, as: UTF8.self) + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let publisher = try ManagedProcess(
                try #require(TestEnvironment.python),
                [try #require(TestEnvironment.peers) + "/events_publish.py", replicas.harness.endpoint, file],
                name: "publish",
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: replicas.harness.directory
            )
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            func delivered() -> [JSON] {
                let text = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").compactMap { JSON(parsing: String($0)) }
                    .filter { $0["type"]?.string == "com.iotbridge.migration.device.migrated" }
            }
            try await waitUntil("three device.migrated events delivered", timeout: .seconds(30)) { delivered().count >= 3 }
            try await Task.sleep(for: .seconds(1))
            let moved = delivered()
            #expect(moved.count == 3, "one replica delivers, once: \(moved.count)")
            #expect(Set(moved.compactMap { $0["subject"]?.string }) == ["a1PK/d1", "a1PK/d2", "a1PK/d3"])
            // Either replica answers from the one registry.
            for index in 0..<2 {
                let port = try await replicas.httpPort(index)
                let answer = try await ManagedProcess.run(
                    "/usr/bin/curl",
                    ["-s", "-m", "5", "http://127.0.0.1:\(port)/instances/a1PK/d2"],
                    outputDirectory: replicas.harness.directory
                )
                let record = try #require(JSON(parsing: answer.stdout), "\(answer)")
                #expect(record["iotInstanceId"]?.string == "iot-target", "replica \(index): \(answer.stdout)")
            }
            // So does the CLI, given the same state URL (password from the environment).
            let lookup = try await ManagedProcess.run(
                try #require(TestEnvironment.binary),
                ["registry", "lookup", "a1PK/d3", "--state", replicas.database.stateURL],
                environment: replicas.database.environment,
                outputDirectory: replicas.harness.directory
            )
            #expect(lookup.status == 0 && lookup.stdout == "iot-target\n", "\(lookup)")
            let unknown = try await ManagedProcess.run(
                try #require(TestEnvironment.binary),
                ["registry", "lookup", "a1PK/nobody", "--state", replicas.database.stateURL],
                environment: replicas.database.environment,
                outputDirectory: replicas.harness.directory
            )
            #expect(unknown.status == 1, "\(unknown)")
            #expect(!unknown.stderr.contains(replicas.database.password), "no password in the error")
        }

        @Test("PostgreSQL stopped and started mid-flow: /healthz says why, nothing lost, the flow resumes by itself")
        func postgresRestart() async throws {
            let count = 6_000
            let replicas = try await Replicas("replicas-pgrestart")
            defer { replicas.stop() }
            // Published over 25 s: the flow is still going when the server stops, and after it is back.
            let publisher = try await replicas.harness.publish(count, rate: Double(count) / 25)
            for index in 0..<2 { try await replicas.start(index) }
            try await waitUntil("the replicas are forwarding", timeout: .seconds(30), interval: .milliseconds(200)) {
                (try await IntegrationSuites.RabbitMQTests.queueDepth(replicas.harness.merged))?.ready ?? 0 > 200
            }
            // Started again even if a step below throws (the stop too): the other tests share the server.
            do {
                try await PostgresTestDatabase.control("stop", directory: replicas.harness.directory)
                // No claim can be made: the flow stops, and /healthz says why.
                let health = try await replicas.waitForHealth(0) { $0.status == 503 }
                #expect(health.body.contains("state store postgres://"), "\(health.body)")
                #expect(!health.body.contains(replicas.database.password), "the password stays out of /healthz")
                // Nothing new is claimed: at most what was claimed before the stop still reaches the sink.
                let stalled = (try await IntegrationSuites.RabbitMQTests.queueDepth(replicas.harness.merged))?.ready ?? 0
                try await Task.sleep(for: .seconds(2))
                let stillStalled = (try await IntegrationSuites.RabbitMQTests.queueDepth(replicas.harness.merged))?.ready ?? 0
                let inFlightBound = 2 * 3 * IntegrationSuites.BridgeReplicaTests.credit
                #expect(stillStalled - stalled <= inFlightBound, "\(stillStalled - stalled) forwarded without the store")
            } catch {
                try? await PostgresTestDatabase.control("start", directory: replicas.harness.directory)
                throw error
            }
            let stillStalled = (try await IntegrationSuites.RabbitMQTests.queueDepth(replicas.harness.merged))?.ready ?? 0
            try await PostgresTestDatabase.control("start", directory: replicas.harness.directory)
            let back = ContinuousClock.now
            try await waitUntil("the flow resumes", timeout: .seconds(60), interval: .milliseconds(100)) {
                (try await IntegrationSuites.RabbitMQTests.queueDepth(replicas.harness.merged))?.ready ?? 0 > stillStalled
            }
            let resumed = back.duration(to: .now)
            _ = try await replicas.waitForHealth(0) { $0.status == 200 }
            #expect(try await publisher.waitForExit(timeout: .seconds(120)) == 0, "\(publisher.outputTail)")
            let report = try await replicas.harness.collect(expected: count, timeout: 180)
            #expect(report["missing"]?.int == 0, "\(report)")
            #expect(report["badSections"]?.int == 0, "first bad: \(report["firstBad"]?.string ?? "-")")
            for (index, process) in replicas.processes.prefix(2).enumerated() {
                #expect(process?.isRunning == true, "replica \(index): \(process?.outputTail ?? "")")
            }
            print(
                "bridge replicas PostgreSQL restart: flow resumed \(resumed) after the server was back; "
                    + "duplicates \(report["duplicates"]?.int ?? -1)"
            )
        }
    }
}

/// Up to three replicas of one bridge.yaml (state: the test PostgreSQL), over the queues of a ``BridgeHarness``.
final class Replicas: @unchecked Sendable {
    // @unchecked Sendable: used from one test task at a time.
    let harness: BridgeHarness
    let database: PostgresTestDatabase
    let config: String
    var processes: [ManagedProcess?] = [nil, nil, nil]
    var runs = 0

    init(_ name: String, extra: String = "") async throws {
        self.harness = try BridgeHarness(name)
        self.database = try await PostgresTestDatabase(name, directory: self.harness.directory)
        let host = try AMQPEndpoint(url: self.harness.url).hostAndPort
        let auth = "auth: { kind: plain, user: guest, password: \"${RABBIT_PW}\" }"
        let credit = IntegrationSuites.BridgeReplicaTests.credit
        // A short lease: a killed replica's claims count as absent 3 s after its last renewal.
        let yaml = """
            state: \(self.database.stateURL)
            dedup: { window: 1h, maxEntries: 1000000, lease: 3s }
            upstreams:
              - { name: source, url: "amqp://\(host)/\(self.harness.source)", \(auth), connections: 2, credit: \(credit) }
              - { name: target, url: "amqp://\(host)/\(self.harness.target)", \(auth), connections: 1, credit: \(credit) }
            sinks:
              - { name: merged, kind: amqp, url: "amqp://\(host)/\(self.harness.merged)", \(auth) }
            deadLetter: { kind: jsonl, path: \(self.harness.deadLetterPath) }
            http: { listen: 127.0.0.1:0 }
            shutdown: { deadline: 5s }
            \(extra)
            """
        self.config = self.harness.directory.file("replicas.yaml")
        try yaml.write(toFile: self.config, atomically: true, encoding: .utf8)
    }

    /// Starts replica `index` and waits until it says it started.
    func start(_ index: Int) async throws {
        self.runs += 1
        var environment = self.database.environment
        environment["RABBIT_PW"] = "guest"
        let process = try ManagedProcess(
            try #require(TestEnvironment.binary),
            ["run", "--config", self.config, "--quiet"],
            name: "replica\(index)-\(self.runs)",
            environment: environment,
            outputDirectory: self.harness.directory
        )
        self.processes[index] = process
        try await waitUntil("replica \(index) started", timeout: .seconds(30)) {
            if !process.isRunning { throw IntegrationTestError("replica \(index) exited: \(process.outputTail)") }
            return process.stderr.contains("bridge started")
        }
    }

    /// The HTTP port replica `index` logged.
    func httpPort(_ index: Int) async throws -> String {
        let process = try #require(self.processes[index])
        var port = ""
        try await waitUntil("replica \(index) logs its HTTP port", timeout: .seconds(10)) {
            port = process.stderr.firstMatch(of: /http\.port=(\d+)/).map { String($0.1) } ?? ""
            return !port.isEmpty
        }
        return port
    }

    /// Kills replica `index` with SIGKILL and waits for it to be gone.
    func kill(_ index: Int) async throws {
        let process = try #require(self.processes[index])
        process.send(SIGKILL)
        _ = try await process.waitForExit(timeout: .seconds(10))
    }

    /// Polls replica `index`'s /healthz (with curl) until `accept` holds; returns that answer.
    func waitForHealth(
        _ index: Int,
        timeout: Duration = .seconds(30),
        _ accept: @escaping ((status: Int, body: String)) -> Bool
    ) async throws -> (status: Int, body: String) {
        let process = try #require(self.processes[index])
        // The log (stderr) names the port the HTTP server took (listen 127.0.0.1:0).
        var port = ""
        try await waitUntil("replica \(index) logs its HTTP port", timeout: .seconds(10)) {
            port = process.stderr.firstMatch(of: /http\.port=(\d+)/).map { String($0.1) } ?? ""
            return !port.isEmpty
        }
        var last: (status: Int, body: String) = (0, "")
        try await waitUntil("replica \(index)'s /healthz answers as expected", timeout: timeout, interval: .milliseconds(250)) {
            let result = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-s", "-m", "5", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)/healthz"],
                outputDirectory: self.harness.directory
            )
            var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let status = Int(lines.popLast() ?? "") ?? 0
            last = (status, lines.joined(separator: "\n"))
            return accept(last)
        }
        return last
    }

    func stop() {
        for process in self.processes { process?.stop() }
        self.harness.stop()
    }
}
