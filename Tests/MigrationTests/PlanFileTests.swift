//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import RuleSQL
import Testing

/// Plan files edited into nonsense, YAML errors and migration.yaml rules: each error names the step or line.
@Suite struct PlanFileTests {
    func makePlanText() async throws -> (String, URL) {
        let plan = MigrationPlanner(options: MigrationOptions()).plan(
            source: try await loadFixture("source-legacy.yaml"),
            target: try await loadFixture("target-enterprise.yaml")
        )
        let folder = try Support.temporaryFolder()
        let path = folder.appendingPathComponent("plan.yaml")
        try PlanFile.write(plan, to: path.path)
        return (try String(contentsOf: path, encoding: .utf8), path)
    }

    func loadError(_ text: String, at path: URL) throws -> MigrationError {
        try text.write(to: path, atomically: true, encoding: .utf8)
        do {
            _ = try PlanFile.load(path: path.path)
        } catch let error as MigrationError {
            return error
        }
        Issue.record("the edited plan loaded")
        return MigrationError(.api, "unreachable")
    }

    /// The 1-based line of the first occurrence of a string.
    func line(of needle: String, in text: String) -> Int {
        (text.components(separatedBy: "\n").firstIndex { $0.contains(needle) } ?? -1) + 1
    }

    @Test func planRoundTrips() async throws {
        let (text, path) = try await self.makePlanText()
        let plan = try PlanFile.load(path: path.path)
        #expect(plan.steps.count > 10)
        #expect(text.hasPrefix("# iotbridge migration plan."))
        #expect(
            plan.steps.first { $0.id == "parser:parser_hot" }?.parser?.script?.contains("${dest:dest_amqp}") == true
        )
    }

    @Test func referenceToALaterStepIsRefusedWithStepAndLine() async throws {
        let (text, path) = try await self.makePlanText()
        // Move the consumer group a rule needs after it by renaming the reference to a symbol that only later steps
        // define.
        let edited = text.replacingOccurrences(
            of: #"configuration: '{"groupId":"${cg:orders}"}'"#,
            with: #"configuration: '{"groupId":"${rule:temp_alarm}"}'"#
        )
        let error = try self.loadError(edited, at: path)
        #expect(error.code == .invalidPlan)
        #expect(error.step == "dest:dest_amqp")
        #expect(error.location == "\(path.path):\(self.line(of: "- id: dest:dest_amqp", in: edited))")
        #expect(error.message.contains("${rule:temp_alarm}"))
    }

    @Test func duplicateStepIdIsRefused() async throws {
        let (text, path) = try await self.makePlanText()
        let edited = text.replacingOccurrences(of: "- id: cg:orders", with: "- id: cg:DEFAULT_GROUP")
        let error = try self.loadError(edited, at: path)
        #expect(error.code == .invalidPlan)
        #expect(error.step == "cg:DEFAULT_GROUP")
        #expect(error.message.contains("used twice"))
    }

    @Test func payloadMustMatchAction() async throws {
        let (text, path) = try await self.makePlanText()
        let edited = text.replacingOccurrences(
            of: "- id: dest:dest_amqp\n  action: createDestination",
            with: "- id: dest:dest_amqp\n  action: createDataSource"
        )
        let error = try self.loadError(edited, at: path)
        #expect(error.code == .invalidPlan)
        #expect(error.step == "dest:dest_amqp")
    }

    @Test func badValuesAreRefused() async throws {
        let (text, path) = try await self.makePlanText()
        let badName = text.replacingOccurrences(of: "    name: orders\n", with: "    name: no spaces allowed\n")
        #expect(try self.loadError(badName, at: path).message.contains("4–30 letters"))
        let badType = text.replacingOccurrences(of: "dataType: BINARY", with: "dataType: XML")
        let error = try self.loadError(badType, at: path)
        #expect(error.step == "rule:raw_binary")
        #expect(error.message.contains("JSON or BINARY"))
    }

    @Test func unknownActionIsAYAMLErrorWithItsLine() async throws {
        let (text, path) = try await self.makePlanText()
        let edited = text.replacingOccurrences(of: "action: createRule", with: "action: createRuel")
        let error = try self.loadError(edited, at: path)
        #expect(error.code == .yaml)
        #expect(error.location == "\(path.path):\(self.line(of: "action: createRuel", in: edited))")
    }

    /// Issue 13: an edited plan's mistake reads like migration.yaml's, not like Codable's ("Cannot initialize
    /// StepAction from invalid String value …", "steps.Index 0.action"): the valid values, the closest one, the
    /// key path, `file:line:col` with the source line and a caret.
    @Test func aMistakeInAnEditedPlanIsSaidInWords() async throws {
        let (text, path) = try await self.makePlanText()
        let misspelt = text.replacingOccurrences(of: "action: createRule\n", with: "action: createRuel\n")
        let error = try self.loadError(misspelt, at: path)
        let rendered = error.diagnostics.map(\.description).joined(separator: "\n")
        let line = self.line(of: "action: createRuel", in: misspelt)
        #expect(rendered.hasPrefix("\(path.path):\(line):11: error: 'steps["), "\(rendered)")
        #expect(rendered.contains("].action' must be one of createConsumerGroup, "), "\(rendered)")
        #expect(rendered.contains(", found 'createRuel'; did you mean 'createRule'?"), "\(rendered)")
        #expect(rendered.hasSuffix("\n      action: createRuel\n              ^~~~~~~~~~"), "\(rendered)")
        #expect(!rendered.contains("Cannot initialize") && !rendered.contains("Index "), "\(rendered)")

        let renamed = text.replacingOccurrences(of: "    name: orders\n", with: "    nmae: orders\n")
        let missing = try self.loadError(renamed, at: path).diagnostics.map(\.description).joined(separator: "\n")
        #expect(missing.contains(": error: missing required key 'name' in steps["), "\(missing)")
        #expect(missing.contains("].consumerGroup\n        nmae: orders\n"), "\(missing)")
    }

    /// A plan is reviewed and edited by hand: a misspelt key is refused with the closest one (it was ignored, so
    /// a misspelt `existing:` would have re-created a resource), while a key the plan may carry is accepted even
    /// where no step of this plan has it.
    @Test func aMisspeltKeyInAnEditedPlanIsRefusedNotIgnored() async throws {
        let (planned, path) = try await self.makePlanText()
        // No step has `existing:` any more, so only the plan's own properties can tell that it is a known key.
        let text = planned.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("  existing: ") }
            .joined(separator: "\n")
        let first = try #require(text.range(of: "\n  note: "))
        let misspelt = text.replacingCharacters(in: first, with: "\n  exisitng: G1\n  note: ")
        let error = try self.loadError(misspelt, at: path)
        #expect(error.code == .yaml)
        let rendered = error.diagnostics.map(\.description).joined(separator: "\n")
        let line = self.line(of: "exisitng: G1", in: misspelt)
        #expect(rendered.hasPrefix("\(path.path):\(line):3: error: unknown key 'exisitng' in steps[0]; did you mean 'existing'?"), "\(rendered)")
        #expect(rendered.hasSuffix("\n      exisitng: G1\n      ^~~~~~~~"), "\(rendered)")

        let added = text.replacingCharacters(in: first, with: "\n  existing: G1\n  note: ")
        try added.write(to: path, atomically: true, encoding: .utf8)
        let plan = try PlanFile.load(path: path.path)
        #expect(plan.steps[0].existing == "G1")
    }

    @Test func brokenYAMLNamesTheLine() async throws {
        let (text, path) = try await self.makePlanText()
        let edited = text.replacingOccurrences(of: "steps:\n", with: "steps:\n  - [unclosed\n")
        let error = try self.loadError(edited, at: path)
        #expect(error.code == .yaml)
        #expect(error.location == "\(path.path):\(self.line(of: "- [unclosed", in: edited) + 1)")
    }

    @Test func literalSecretsAreRefusedWithoutEchoingThem() throws {
        let folder = try Support.temporaryFolder()
        let path = folder.appendingPathComponent("migration.yaml").path
        try Support.copyEmptyExport(to: folder.appendingPathComponent("s.yaml").path)
        try """
        source: {kind: file, file: s.yaml}
        target:
          kind: aliyun
          regionId: cn-shanghai
          iotInstanceId: iot-1
          accessKeyId: LTAIexample
          accessKeySecret: s3cr3t-value
        """.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try MigrationConfig.load(path: path)
            Issue.record("a literal secret was accepted")
        } catch let error as MigrationError {
            #expect(error.code == .yaml || error.code == .config)
            #expect("\(error)".contains("${"))
            #expect(!"\(error)".contains("s3cr3t-value"))
        }
    }

    @Test func secretsResolveFromTheEnvironmentOnly() throws {
        let reference = try SecretReference(parsing: "${IOT_TEST_SECRET}", field: "target.accessKeySecret")
        #expect(try reference.resolve(environment: ["IOT_TEST_SECRET": "abc"]) == "abc")
        #expect {
            try reference.resolve(environment: [:])
        } throws: { error in
            "\(error)".contains("IOT_TEST_SECRET")
        }
        #expect(reference.description == "${IOT_TEST_SECRET}")
    }

    @Test func aliyunSidesDefaultToTheRegionalHTTPSEndpoint() throws {
        let legacy = InstanceConfig(kind: .aliyun, regionId: "cn-shanghai", iotInstanceId: "")
        #expect(legacy.resolvedEndpoint == "https://iot.cn-shanghai.aliyuncs.com")
        #expect(legacy.identity.isEnterprise == false)
        let enterprise = InstanceConfig(kind: .aliyun, regionId: "ap-southeast-1", iotInstanceId: "iot-06z00x")
        #expect(enterprise.identity.isEnterprise)
        #expect(InstanceConfig(kind: .sim).resolvedEndpoint == nil)
        let folder = try Support.temporaryFolder()
        let path = folder.appendingPathComponent("migration.yaml").path
        try Support.copyEmptyExport(to: folder.appendingPathComponent("s.yaml").path)
        try """
        source: {kind: file, file: s.yaml}
        target: {kind: aliyun, regionId: cn-shanghai, endpoint: "http://plain", accessKeyId: a, accessKeySecret: "${X}"}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try MigrationConfig.load(path: path)
        } throws: { error in
            "\(error)".contains("must be https://")
        }
    }

    @Test func configNeedsWhatEachKindNeeds() throws {
        let folder = try Support.temporaryFolder()
        let path = folder.appendingPathComponent("migration.yaml").path
        try """
        source: {kind: file}
        target: {kind: sim, endpoint: "http://127.0.0.1:1", accessKeyId: a, accessKeySecret: "${X}"}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try MigrationConfig.load(path: path)
        } throws: { error in
            "\(error)".contains("source.file is required")
        }
        try Support.copyEmptyExport(to: folder.appendingPathComponent("s.yaml").path)
        try """
        source: {kind: file, file: s.yaml}
        target: {kind: sim, endpoint: "http://127.0.0.1:1", accessKeyId: a, accessKeySecret: "${X}"}
        options: {consumerGroupNaming: "{name}_ent", retry: {maxAttempts: 2}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try MigrationConfig.load(path: path)
        #expect(config.source.file == folder.appendingPathComponent("s.yaml").path)
        #expect(config.options.retry.maxAttempts == 2)
        #expect(config.options.retry.initialBackoffMilliseconds == 500)
        #expect(config.target.identity.iotInstanceId == "")
    }
}
