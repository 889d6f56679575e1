//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import TestSupport
import Testing

/// `migrate run` writes one migration-status event per completed consumer-group, subscription, rule and parser
/// step, in the journal's transaction, into the store `state:` names; a kill -9 mid-run neither loses nor repeats
/// one. Read back with `iotbridge events replay` and validated against the committed schema.
@Suite(
    .enabled(if: Support.binary != nil, "the iotbridge binary is absent: build it or set IOTBRIDGE_BIN"),
    .serialized,
    .timeLimit(.minutes(5))
)
struct StepEventsCLITests {
    static let eventfulActions = ["createConsumerGroup", "createSubscription", "createRule", "createParser"]

    @Test func aKilledAndResumedRunWritesEachStepEventOnce() async throws {
        let workspace = try await MigrateCLITests.Workspace()
        // The single `state:` key: journal, registry and outbox in one store, not beside the plan.
        let config = workspace.path("migration.yaml")
        try (try String(contentsOfFile: config, encoding: .utf8) + "\nstate: shared.sqlite\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        var (rc, _, err) = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        #expect(rc == 0, "\(err)")

        // Kill -9 inside a rule step (its action applied, the answer lost), then resume.
        try await workspace.server.faults(#"{"stall": {"action": "CreateRuleAction", "after": 2, "mode": "after"}}"#)
        let (process, _, _) = try workspace.start(["migrate", "run", "--plan", "plan.yaml"])
        #expect(try await workspace.server.output.wait(for: "STALL CreateRuleAction #2"))
        kill(process.processIdentifier, SIGKILL)
        await ChildProcess.waitUntilExit(process)
        try await workspace.server.faults("{}")
        (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(err)")
        #expect(FileManager.default.fileExists(atPath: workspace.path("shared.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("plan.yaml.journal.sqlite")))

        // `migrate status` finds the journal through the plan's config.
        let status: String
        (rc, status, _) = try await workspace.run(["migrate", "status", "--plan", "plan.yaml"])
        #expect(rc == 0)
        #expect(status.contains("17 done"), "\(status)")
        let expected = status.split(separator: "\n").filter { line in
            Self.eventfulActions.contains { line.contains(" \($0) ") }
        }.count
        #expect(expected >= 8, "\(status)")

        let replay: String
        (rc, replay, err) = try await workspace.run(["events", "replay", "--from", "0", "--state", "shared.sqlite"])
        #expect(rc == 0, "\(err)")
        let lines = replay.split(separator: "\n").map(String.init)
        #expect(lines.count == expected, "\(replay)")
        let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let types = Set(events.compactMap { $0["type"] as? String })
        #expect(
            types == [
                "com.iotbridge.migration.consumer-group.recreated", "com.iotbridge.migration.subscription.translated",
                "com.iotbridge.migration.rule.migrated", "com.iotbridge.migration.parser.migrated",
            ]
        )
        let data = events.compactMap { $0["data"] as? [String: Any] }
        #expect(data.compactMap { $0["sequence"] as? Int } == Array(1...lines.count))
        #expect(Set(data.compactMap { $0["toInstanceId"] as? String }) == [MigrateCLITests.enterprise])
        #expect(Set(events.compactMap { $0["subject"] as? String }).count == lines.count, "one event per step")
        let groups = data.filter { $0["resourceKind"] as? String == "consumerGroup" }
        #expect(groups.allSatisfy { !($0["newId"] as? String ?? "").isEmpty })
        #expect(!replay.contains("testsecret"))
        try await Self.expectValid(workspace.path("replay.jsonl"), replay)
    }

    /// Validates JSON lines against docs/schemas/migration-event.schema.json with python3-jsonschema.
    static func expectValid(_ path: String, _ text: String) async throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let script = """
            import json, sys, jsonschema
            validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])), format_checker=jsonschema.FormatChecker())
            errors = [e.message for line in open(sys.argv[2]) if line.strip() for e in validator.iter_errors(json.loads(line))]
            print(json.dumps(errors)); sys.exit(1 if errors else 0)
            """
        let schema = Support.packageRoot.appendingPathComponent("docs/schemas/migration-event.schema.json").path
        let run = try await ChildProcess.run("/usr/bin/python3", ["-c", script, schema, path])
        #expect(run.status == 0, "schema violations: \(run.stdout)")
    }
}
