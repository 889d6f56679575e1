//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import Testing

/// Rewriting consumer-group references inside `rules/` files (the `Rules` module's format).
@Suite struct RuleFileRewriterTests {
    static let oldVersionRule = """
        # Old-version rule with two AMQP actions.
        name: high-temperature-alert
        sql: SELECT deviceName() AS dn FROM "/sys/a1HHrkmQnCx/+/thing/event/property/post" WHERE items.t.value > 38
        dataType: JSON
        actions:
          - type: amqp
            consumerGroup: orders   # the backend
            tag: overheat
          - type: republish
            topic: /a1HHrkmQnCx/orders/user/overheat
        errorAction:
          type: amqp
          consumerGroup: "telemetry"
        """

    static let parser = """
        name: parser-hot-readings
        dataSource:
          topics:
            - /a1HHrkmQnCx/+/thing/event/property/post
        script: |
          var data = payload("json");
          writeAmqp(1001, data, "orders");
        destinations:
          1001:
            type: amqp
            consumerGroup: orders
          1002: {type: amqp, consumerGroup: 'Gtelemetry00000000000000002'}
        """

    @Test func onlyTheAMQPReferencesChange() throws {
        let (text, changes) = try RuleFileRewriter.rewrite(
            text: Self.oldVersionRule,
            path: "alert.yaml",
            renames: ["orders": "orders_ent", "telemetry": "telemetry_ent"]
        )
        #expect(
            changes.map(\.description) == [
                "alert.yaml:7:20: consumerGroup orders -> orders_ent",
                "alert.yaml:13:19: consumerGroup telemetry -> telemetry_ent",
            ]
        )
        let expected = Self.oldVersionRule
            .replacingOccurrences(of: "consumerGroup: orders ", with: "consumerGroup: orders_ent ")
            .replacingOccurrences(of: "\"telemetry\"", with: "\"telemetry_ent\"")
        #expect(text == expected)
        // The republish topic that happens to contain "orders" is untouched.
        #expect(text.contains("topic: /a1HHrkmQnCx/orders/user/overheat"))
    }

    @Test func parserDestinationsAndRawIdsAreRewritten() throws {
        let (text, changes) = try RuleFileRewriter.rewrite(
            text: Self.parser,
            path: "parser.yaml",
            renames: ["orders": "orders_ent", "Gtelemetry00000000000000002": "telemetry"]
        )
        #expect(changes.count == 2)
        #expect(text.contains("consumerGroup: orders_ent\n"))
        #expect(text.contains("consumerGroup: 'telemetry'}"))
        // The script's tag "orders" is not a consumer-group reference.
        #expect(text.contains(#"writeAmqp(1001, data, "orders");"#))
    }

    @Test func nothingToRenameLeavesTheFileByteForByte() throws {
        let (text, changes) = try RuleFileRewriter.rewrite(text: Self.parser, path: "p.yaml", renames: ["x": "y"])
        #expect(changes.isEmpty)
        #expect(text == Self.parser)
    }

    @Test func anInvalidRuleFileIsReportedWithItsPosition() {
        #expect {
            try RuleFileRewriter.rewrite(text: "name: x\nsql: [unclosed\n", path: "bad.yaml", renames: [:])
        } throws: { error in
            guard let error = error as? MigrationError else { return false }
            return error.location?.hasPrefix("bad.yaml:") == true
        }
    }

    @Test func renamesFollowTheNamingTemplate() async throws {
        var options = MigrationOptions()
        options.consumerGroupNaming = "{name}_ent"
        let plan = MigrationPlanner(options: options).plan(
            source: try await loadFixture("source-legacy.yaml"),
            target: try await loadFixture("target-enterprise.yaml")
        )
        let renames = RuleFileRewriter.renames(for: plan)
        #expect(renames["orders"] == "orders_ent")
        #expect(renames["Gorders0000000000000000001"] == "orders_ent")
        #expect(renames["DEFAULT_GROUP"] == nil)
        // Without a template, names stay and only raw IDs are rewritten.
        let same = MigrationPlanner(options: MigrationOptions()).plan(
            source: try await loadFixture("source-legacy.yaml"),
            target: try await loadFixture("target-enterprise.yaml")
        )
        #expect(RuleFileRewriter.renames(for: same)["orders"] == nil)
        #expect(RuleFileRewriter.renames(for: same)["Gorders0000000000000000001"] == "orders")
    }

    @Test func foldersAreRewrittenIntoAnOutputFolder() throws {
        let folder = try Support.temporaryFolder()
        let rules = folder.appendingPathComponent("rules")
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Self.oldVersionRule.write(to: rules.appendingPathComponent("alert.yaml"), atomically: true, encoding: .utf8)
        try Self.parser.write(to: rules.appendingPathComponent("parser.yml"), atomically: true, encoding: .utf8)
        let dry = try RuleFileRewriter.rewrite(paths: [rules.path], renames: ["orders": "o_ent"], dryRun: true)
        #expect(dry.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
        let changes = try RuleFileRewriter.rewrite(
            paths: [rules.path],
            renames: ["orders": "o_ent"],
            outputFolder: out.path
        )
        #expect(changes.count == 2)
        let written = try String(contentsOf: out.appendingPathComponent("parser.yml"), encoding: .utf8)
        #expect(written.contains("consumerGroup: o_ent"))
        // The originals are untouched.
        #expect(try String(contentsOf: rules.appendingPathComponent("parser.yml"), encoding: .utf8) == Self.parser)
    }
}
