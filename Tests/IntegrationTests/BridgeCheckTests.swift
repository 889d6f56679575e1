//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

extension IntegrationSuites {
    /// `iotbridge run --check` as a user runs it: every problem with its line, exit 2; a consumer group taken
    /// from a migration's ID map after `migrate run`.
    @Suite("Bridge: run --check", .enabled(if: TestEnvironment.binary != nil, "needs IOTBRIDGE_BIN"))
    struct BridgeCheckTests {
        static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("MigrationTests/Fixtures").path

        @Test("every problem is printed with file:line:col and the exit status is 2")
        func problemsExitTwo() async throws {
            let directory = try TemporaryDirectory("check")
            defer { directory.remove() }
            try """
            upstreams:
              - { name: a, url: "amqp://127.0.0.1:5672//queue/a", auth: { kind: plain, user: u, password: "${NOT_SET_ANYWHERE}" } }
            sinks:
              - { name: s, kind: jsonl, path: /no/such/dir/out.jsonl }
            deadLettr: { kind: jsonl, path: dead.jsonl }
            """.write(toFile: directory.file("bridge.yaml"), atomically: true, encoding: .utf8)
            let result = try await IOTBridgeCLI.run(["run", "--config", directory.file("bridge.yaml"), "--check"], in: directory)
            #expect(result.status == 2)
            #expect(result.stderr.contains("bridge.yaml:2:"), "\(result.stderr)")
            #expect(result.stderr.contains("NOT_SET_ANYWHERE"))
            #expect(result.stderr.contains("bridge.yaml:4:"))
            #expect(result.stderr.contains("bridge.yaml:5:1: error: unknown key 'deadLettr'"), "\(result.stderr)")
            #expect(result.stderr.contains("3 errors"))
        }

        @Test("consumerGroupId: { fromPlan, name } is the ID migrate run gave the group")
        func consumerGroupFromPlan() async throws {
            let directory = try TemporaryDirectory("check-plan")
            defer { directory.remove() }
            for file in ["source-legacy.yaml", "target-enterprise.yaml"] {
                try FileManager.default.copyItem(atPath: Self.fixtures + "/" + file, toPath: directory.file(file))
            }
            try "source: { kind: file, file: source-legacy.yaml }\ntarget: { kind: file, file: target-enterprise.yaml }\n"
                .write(toFile: directory.file("migration.yaml"), atomically: true, encoding: .utf8)
            try """
            upstreams:
              - name: target
                url: amqps://iot-06z00abc.amqp.iothub.aliyuncs.com:5671
                auth: { kind: aksign, accessKeyId: LTAI5tExample, accessKeySecret: "${SECRET}",
                        consumerGroupId: { fromPlan: plan.yaml, name: orders }, iotInstanceId: iot-06z00abc }
            sinks: [ { name: log, kind: jsonl, path: out.jsonl } ]
            """.write(toFile: directory.file("bridge.yaml"), atomically: true, encoding: .utf8)
            let plan = try await IOTBridgeCLI.run(
                ["migrate", "plan", "--config", directory.file("migration.yaml"), "--out", directory.file("plan.yaml")],
                in: directory
            )
            #expect(plan.status == 0, "\(plan.stderr)")
            let check = ["run", "--config", directory.file("bridge.yaml"), "--check"]
            let before = try await IOTBridgeCLI.run(check, environment: ["SECRET": "s"], in: directory)
            #expect(before.status == 2)
            #expect(before.stderr.contains("has no target ID yet"), "\(before.stderr)")
            let run = try await IOTBridgeCLI.run(["migrate", "run", "--plan", directory.file("plan.yaml")], in: directory)
            #expect(run.status == 0, "\(run.stderr)")
            let after = try await IOTBridgeCLI.run(check, environment: ["SECRET": "s"], in: directory)
            #expect(after.status == 0, "\(after.stderr)")
            let planText = try String(contentsOfFile: directory.file("plan.yaml"), encoding: .utf8)
            #expect(planText.contains("name: orders"))
            let line = try #require(after.stdout.split(separator: "\n").first { $0.hasPrefix("upstream target: consumer group ") })
            #expect(!line.contains("from-plan") && !line.contains("consumer group orders,"), "\(line)")
        }
    }
}
