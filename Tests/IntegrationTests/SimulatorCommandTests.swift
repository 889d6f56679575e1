//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

extension IntegrationSuites {
    /// `iotbridge sim` as a user runs it: the committed example checks, a broken file is refused with every
    /// problem at its line, and the running simulator prints what to connect to, serves the official sample,
    /// and stops cleanly on SIGTERM.
    @Suite(
        "Simulator: the iotbridge sim command",
        .serialized,
        .timeLimit(.minutes(3)),
        .enabled(
            if: TestEnvironment.binary != nil && TestEnvironment.hasPythonPeers && TestEnvironment.openSSL != nil,
            "needs the iotbridge binary, the Python peers and openssl (scripts/test.sh)"
        )
    )
    struct SimulatorCommandTests {
        static var example: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/examples/sim.yaml").path
        }

        @Test func theExampleChecksAndABrokenFileIsRefusedWithItsLines() async throws {
            let directory = try TemporaryDirectory("sim-check")
            let binary = try #require(TestEnvironment.binary)
            let good = try await ManagedProcess.run(
                binary,
                ["sim", "--config", Self.example, "--check"],
                environment: ["SIM_ACCESS_KEY_SECRET": "x"],
                outputDirectory: directory
            )
            #expect(good.status == 0, "\(good)")
            #expect(good.stdout.contains("ok — 2 instance(s), 20 device(s)"))
            let broken = directory.file("sim.yaml")
            try "accessKeys: []\ninstances:\n  - { name: a, kind: cloud }\ndevices: { products: [], home: b }\n"
                .write(toFile: broken, atomically: true, encoding: .utf8)
            let bad = try await ManagedProcess.run(binary, ["sim", "--config", broken, "--check"], outputDirectory: directory)
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("\(broken):1:13: error: accessKeys must list at least one AccessKey pair"), "\(bad.stderr)")
            #expect(bad.stderr.contains("\(broken):3:22: error: kind must be legacy or enterprise, not 'cloud'"), "\(bad.stderr)")
            #expect(bad.stderr.contains("\(broken):4:32: error: home 'b' is not an instance"), "\(bad.stderr)")
            #expect(bad.stderr.contains("3 errors"))
        }

        /// `migrate assess` against the running simulator's OpenAPI counts its devices (20 of docs/examples/sim.yaml,
        /// all on the source) and sees the sample consumer connected to `backend` (cg-source) — it said "0 devices"
        /// and "no client connected" before.
        static func assessAnswersFromTheRunningSimulation(_ sim: ManagedProcess, secret: String, in directory: TemporaryDirectory) async throws {
            let openAPI = try #require(
                sim.stdoutLines.first { $0.hasPrefix("openapi: ") }?.split(separator: " ").dropFirst().first.map(String.init)
            )
            let endpoint = openAPI.hasSuffix("/") ? String(openAPI.dropLast()) : openAPI
            let side = "kind: sim, regionId: cn-shanghai, endpoint: \"\(endpoint)\", accessKeyId: LTAIsimulator, accessKeySecret: \"${SIM_SECRET}\""
            try "source: { \(side) }\ntarget: { \(side), iotInstanceId: iot-06z00simtarget }\n"
                .write(toFile: directory.file("migration.yaml"), atomically: true, encoding: .utf8)
            let assess = try ManagedProcess(
                try #require(TestEnvironment.binary),
                ["migrate", "assess", "--config", directory.file("migration.yaml"), "--json"],
                name: "assess",
                environment: ["SIM_SECRET": secret],
                outputDirectory: directory
            )
            let status = try await assess.waitForExit(timeout: .seconds(30))
            #expect(status == 1, "actions needed (a connected client), not ready and not an error: \(assess.outputTail)")
            // The report is one JSON document; the test's JSON parses one line, so join the lines.
            guard case .array(let items)? = JSON(parsing: assess.stdout.replacingOccurrences(of: "\n", with: " "))?["items"] else {
                Issue.record("no items in the report: \(assess.outputTail)")
                return
            }
            func item(_ check: String) -> JSON? { items.first { $0["check"]?.string == check && $0["product"]?.string != nil } }
            #expect(
                item("capacity.devices-per-product")?["finding"]?.string?.contains("a1SimProduct has 20 of at most 500000 devices, 20 online now")
                    == true,
                "\(assess.outputTail)"
            )
            let clients = items.first { $0["check"]?.string == "consumer-group.connected-clients" }
            #expect(clients?["category"]?.string == "action-before", "the sample is connected to cg-source: \(assess.outputTail)")
        }

        @Test func itPrintsWhereToConnectServesTheSampleAndStopsOnSIGTERM() async throws {
            let directory = try TemporaryDirectory("sim-run")
            let secret = "sim-run-secret"
            let sim = try ManagedProcess(
                try #require(TestEnvironment.binary),
                ["sim", "--config", Self.example, "--certificate-directory", directory.file("certs"), "--log-level", "notice"],
                name: "sim",
                environment: ["SIM_ACCESS_KEY_SECRET": secret],
                outputDirectory: directory
            )
            defer { sim.stop() }
            try await waitUntil("the simulator printed its endpoints", timeout: .seconds(30)) {
                if !sim.isRunning { throw IntegrationTestError("iotbridge sim exited: \(sim.outputTail)") }
                return sim.stdout.contains("devices: 20")
            }
            // The banner names endpoints and logins, never the secret.
            #expect(!sim.stdout.contains(secret) && !sim.stderr.contains(secret))
            #expect(sim.stdout.contains("openapi: http://127.0.0.1:"))
            let line = try #require(sim.stdoutLines.first { $0.hasPrefix("instance source") })
            let port = try #require(line.split(separator: ":").last.map(String.init))
            let certificate = try #require(sim.stdoutLines.first { $0.contains("trust:") && $0.contains("/source/") })
                .components(separatedBy: "trust: ").last
            let consumer = try ManagedProcess(
                try #require(TestEnvironment.python),
                [
                    try #require(TestEnvironment.peers) + "/platform_sample_consumer.py", "localhost", port, "sample", "LTAIsimulator",
                    secret, "cg-source", "--ca", try #require(certificate), "--timeout", "60",
                ],
                name: "sample",
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: directory
            )
            defer { consumer.stop() }
            // 20 msg/s from 20 devices, mix custom 2 : property 1: two rounds of custom-topic JSON, then property posts.
            try await waitUntil("the sample received the devices' messages", timeout: .seconds(30)) { consumer.events("message").count >= 45 }
            let topics = Set(consumer.events("message").compactMap { $0["topic"]?.string })
            #expect(topics.contains("/a1SimProduct/device-0001/user/update"))
            #expect(topics.contains("/a1SimProduct/device-0001/thing/event/property/post"))
            try await Self.assessAnswersFromTheRunningSimulation(sim, secret: secret, in: directory)
            sim.send(SIGTERM)
            #expect(try await sim.waitForExit(timeout: .seconds(20)) == 0, "\(sim.outputTail)")
        }
    }
}
