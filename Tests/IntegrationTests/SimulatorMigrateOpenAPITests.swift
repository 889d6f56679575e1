//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import Simulator
import Testing

extension IntegrationSuites {
    /// `iotbridge migrate plan → run → verify` (the built binary) from one simulated instance to another, both
    /// behind the simulated OpenAPI endpoint: a legacy public source and an Enterprise target, seeded from the
    /// migration tests' fixtures.
    @Suite(
        "Simulator: migrate plan, run and verify between simulated instances",
        .enabled(if: TestEnvironment.binary != nil, "needs IOTBRIDGE_BIN"),
        .timeLimit(.minutes(3))
    )
    struct SimulatorMigrateOpenAPITests {
        static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("MigrationTests/Fixtures").path
        static let enterpriseId = "iot-06z00frq8umvkx2"
        /// The create actions and the snapshot lists they add to.
        static let creations: [(action: String, count: @Sendable (InstanceSnapshot) -> Int)] = [
            ("CreateConsumerGroup", { $0.consumerGroups.count }),
            ("CreateRule", { $0.rules.count }),
            ("CreateParserDataSource", { $0.dataSources.count }),
            ("CreateDestination", { $0.destinations.count }),
            ("CreateParser", { $0.parsers.count }),
        ]

        @Test("0 mismatched, nothing created twice (also when CreateRule is throttled), and clean undoes it")
        func planRunVerify() async throws {
            let directory = try TemporaryDirectory("sim-migrate")
            defer { directory.remove() }
            let source = try await SimulatedControlPlane(exportFile: Self.fixtures + "/source-legacy.yaml")
            let target = try await SimulatedControlPlane(
                exportFile: Self.fixtures + "/target-enterprise.yaml",
                iotInstanceId: Self.enterpriseId
            )
            #expect(!source.identity.isEnterprise && target.identity.isEnterprise)
            let sourceSecret = SimulatorOpenAPIHarness.randomSecret()
            let targetSecret = SimulatorOpenAPIHarness.randomSecret()
            let harness = try await SimulatorOpenAPIHarness.start(
                [source, target],
                accessKeys: ["LTAI5tSimSource01": sourceSecret, "LTAI5tSimTarget01": targetSecret]
            )
            try """
            source:
              kind: sim
              regionId: cn-shanghai
              endpoint: \(harness.endpoint)
              accessKeyId: LTAI5tSimSource01
              accessKeySecret: ${SIM_SOURCE_SECRET}
            target:
              kind: sim
              regionId: cn-shanghai
              iotInstanceId: \(Self.enterpriseId)
              endpoint: \(harness.endpoint)
              accessKeyId: LTAI5tSimTarget01
              accessKeySecret: ${SIM_TARGET_SECRET}
            options:
              requestTimeoutMilliseconds: 5000
              retry: {maxAttempts: 4, initialBackoffMilliseconds: 20, maxBackoffMilliseconds: 100}
            """.write(toFile: directory.file("migration.yaml"), atomically: true, encoding: .utf8)
            let environment = ["SIM_SOURCE_SECRET": sourceSecret, "SIM_TARGET_SECRET": targetSecret]
            func iotbridge(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
                try await IOTBridgeCLI.run(arguments, environment: environment, in: directory)
            }
            let sourceBefore = await source.snapshot()
            let targetBefore = await target.snapshot()

            var result = try await iotbridge([
                "migrate", "plan", "--config", directory.file("migration.yaml"), "--out", directory.file("plan.yaml"),
            ])
            #expect(result.status == 0, "\(result.stderr)")

            // The platform's flow control on the way: the binary must retry, and a refused call creates nothing.
            harness.server.throttleNext(2, of: "CreateRule")
            result = try await iotbridge(["migrate", "run", "--plan", directory.file("plan.yaml")])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(harness.server.throttledCounts()["CreateRule"] == 2)
            #expect(!result.stderr.contains(sourceSecret) && !result.stderr.contains(targetSecret))

            result = try await iotbridge(["migrate", "verify", "--plan", directory.file("plan.yaml")])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains(" 0 mismatched, 0 missing"), "\(result.stdout)")

            // Nothing created twice: every create call that ran added exactly one resource, and names are unique.
            let targetAfter = await target.snapshot()
            let calls = harness.server.callCounts()
            for creation in Self.creations {
                let added = creation.count(targetAfter) - creation.count(targetBefore)
                #expect(added == calls[creation.action] ?? 0, "\(creation.action): \(calls)")
            }
            #expect((calls["CreateConsumerGroup"] ?? 0) > 0 && (calls["CreateRule"] ?? 0) > 0)
            #expect(Set(targetAfter.consumerGroups.map(\.name)).count == targetAfter.consumerGroups.count)
            #expect(Set(targetAfter.rules.map(\.name)).count == targetAfter.rules.count)
            #expect(Set(targetAfter.parsers.map(\.name)).count == targetAfter.parsers.count)
            // The MNS relation of the legacy source became an AMQP one on the Enterprise target.
            #expect(targetAfter.subscriptions.contains { $0.productKey == "a1Prod00002" && $0.type == .amqp })
            #expect(!targetAfter.subscriptions.contains { $0.type == .mns })

            // Running again creates nothing: the run looks up what exists before creating.
            result = try await iotbridge(["migrate", "run", "--plan", directory.file("plan.yaml")])
            #expect(result.status == 0, "\(result.stderr)")
            let again = harness.server.callCounts()
            for creation in Self.creations {
                #expect(again[creation.action] == calls[creation.action], "\(creation.action) ran again")
            }
            #expect(await target.snapshot() == targetAfter)
            // The source was only read.
            #expect(await source.snapshot() == sourceBefore)

            // Clean deletes exactly what run created, in an order the platform's checks accept (stopped before
            // deleted, relations before groups, parsers before their data sources and destinations).
            result = try await iotbridge(["migrate", "clean", "--plan", directory.file("plan.yaml")])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let cleaned = await target.snapshot()
            #expect(cleaned.consumerGroups == targetBefore.consumerGroups)
            #expect(cleaned.rules.map(\.id) == targetBefore.rules.map(\.id))
            #expect(cleaned.parsers.map(\.id) == targetBefore.parsers.map(\.id))
            #expect(cleaned.destinations.map(\.id) == targetBefore.destinations.map(\.id))
            #expect(cleaned.dataSources.map(\.id) == targetBefore.dataSources.map(\.id))
            #expect(cleaned.subscriptions == targetBefore.subscriptions)
            await harness.stop()
        }
    }
}
