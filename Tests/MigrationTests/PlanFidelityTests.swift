//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import Testing

/// Nothing is lost or changed silently between the source, its export, the plan and the target: unpublished
/// parser drafts stay drafts, rules keep their topic type, non-ASCII text stays readable, and calls about the
/// legacy public instance omit `IotInstanceId` (the loopback server refuses an empty one).
@Suite(
    .enabled(if: Support.binary != nil, "the iotbridge binary is absent: build it or set IOTBRIDGE_BIN"),
    .timeLimit(.minutes(5))
)
struct PlanFidelityTests {
    static let draftOnly = "var data = payload(\"json\");\n// 草稿：尚未发布\nwriteAmqp(1001, data, \"draft\");\n"
    static let newerDraft = "var data = payload(\"json\");\nwriteAmqp(1001, data, \"v2\");\n"

    /// The legacy fixture as a live legacy instance (IotInstanceId omitted), with Chinese text, a parser that was
    /// never published and a parser whose draft is newer than its published script.
    static func source() async throws -> InstanceSnapshot {
        var source = try await loadFixture("source-legacy.yaml")
        source.subscriptions.removeAll { $0.type == .http2 }
        let hot = try #require(source.parsers.firstIndex { $0.name == "parser_hot" })
        source.parsers[hot].scriptDraft = Self.newerDraft
        source.parsers[hot].description = "高温转发"
        source.parsers.append(
            Parser(id: "8002", name: "解析器_草稿", description: "从未发布的脚本", scriptDraft: Self.draftOnly)
        )
        let rule = try #require(source.rules.firstIndex { $0.name == "status_watch" })
        source.rules[rule].name = "设备状态"
        source.rules[rule].description = "上下线通知"
        return source
    }

    @Test func draftsTopicTypesAndChineseTextSurviveExportPlanAndRun() async throws {
        let folder = try Support.temporaryFolder()
        let server = try await OpenAPITestServer()
        try await server.seed(instance: "", try await Self.source())
        try await server.seed(instance: MigrateCLITests.enterprise, try await loadFixture("target-enterprise.yaml"))
        try """
        # migration.yaml: a legacy public instance (no iotInstanceId) → an Enterprise instance
        source:
          kind: sim
          regionId: cn-shanghai
          endpoint: \(server.endpoint)
          accessKeyId: testid
          accessKeySecret: ${IOT_TARGET_SECRET}
        target:
          kind: sim
          regionId: cn-shanghai
          iotInstanceId: \(MigrateCLITests.enterprise)
          endpoint: \(server.endpoint)
          accessKeyId: testid
          accessKeySecret: ${IOT_TARGET_SECRET}
        options:
          stopSourceRules: true
          retry: {maxAttempts: 3, initialBackoffMilliseconds: 20, maxBackoffMilliseconds: 100}
        """.write(to: folder.appendingPathComponent("migration.yaml"), atomically: true, encoding: .utf8)
        let workspace = MigrateCLITests.Workspace(folder: folder, server: server)

        // The export: Chinese as UTF-8, the draft-only parser's draft, every rule's topic type.
        var (rc, out, err) = try await workspace.run([
            "instance", "export", "--config", "migration.yaml", "--side", "source", "--out", "source-export.yaml",
        ])
        #expect(rc == 0, "\(err)")
        let export = try String(contentsOfFile: workspace.path("source-export.yaml"), encoding: .utf8)
        #expect(export.contains("设备状态") && export.contains("上下线通知") && export.contains("草稿：尚未发布"))
        #expect(!export.contains("\\u"), "non-ASCII text was escaped")
        let exported = try await FileBackend(path: workspace.path("source-export.yaml")).exportSnapshot(products: [])
        #expect(exported.rules.first { $0.name == "设备状态" }?.topicType == 2)
        #expect(exported.rules.first { $0.name == "raw_binary" }?.topicType == 1)
        #expect(exported.parsers.first { $0.name == "解析器_草稿" }?.script == nil)
        #expect(exported.parsers.first { $0.name == "解析器_草稿" }?.scriptDraft == Self.draftOnly)

        // The plan says which scripts are drafts, keeps topic types and Chinese text.
        (rc, out, err) = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        #expect(rc == 0, "\(err)")
        #expect(out.contains("finding: parser:解析器_草稿: the script is an unpublished draft"))
        #expect(out.contains("finding: parser:parser_hot: the script has an unpublished draft"))
        let planText = try String(contentsOfFile: workspace.path("plan.yaml"), encoding: .utf8)
        #expect(planText.contains("设备状态") && planText.contains("草稿：尚未发布") && !planText.contains("\\u"))
        let plan = try PlanFile.load(path: workspace.path("plan.yaml"))
        let draftSpec = try #require(plan.steps.first { $0.id == "parser:解析器_草稿" }?.parser)
        #expect(draftSpec.script == nil)
        #expect(draftSpec.scriptDraft?.contains("${dest:dest_amqp}") == true)
        #expect(plan.steps.first { $0.id == "rule:设备状态" }?.rule?.topicType == 2)

        // The target: the draft saved, not published; the published script published and the newer draft saved.
        (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(err)")
        let (target, calls) = try await server.state(instance: MigrateCLITests.enterprise)
        let amqp = try #require(target.destinations.first { $0.name == "dest_amqp" }?.id)
        let draftParser = try #require(target.parsers.first { $0.name == "解析器_草稿" })
        #expect(draftParser.script == nil)
        #expect(draftParser.scriptDraft == Self.draftOnly.replacingOccurrences(of: "1001", with: amqp))
        #expect(draftParser.description == "从未发布的脚本")
        let hot = try #require(target.parsers.first { $0.name == "parser_hot" })
        #expect(hot.script?.contains("writeAmqp(\(amqp), data, \"hot\")") == true)
        #expect(hot.scriptDraft == Self.newerDraft.replacingOccurrences(of: "1001", with: amqp))
        #expect(calls["PublishScript"] == 1)
        #expect(target.rules.first { $0.name == "设备状态" }?.topicType == 2)
        #expect(target.rules.first { $0.name == "设备状态" }?.description == "上下线通知")

        // The legacy source was written to as well (its rules stopped) without an IotInstanceId.
        let (legacy, _) = try await server.state(instance: "")
        #expect(legacy.rules.allSatisfy { $0.status == .stopped })

        (rc, out, _) = try await workspace.run(["migrate", "verify", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("0 mismatched, 0 missing"))
    }
}

extension MigrateCLITests.Workspace {
    /// A workspace around a folder and server the test prepared itself.
    init(folder: URL, server: OpenAPITestServer) {
        self.folder = folder
        self.server = server
    }
}
