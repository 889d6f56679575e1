//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import TestSupport
import Testing

/// The `iotbridge` binary as an operator uses it: export, plan, run, kill, resume, status, verify, clean,
/// rollback, against the loopback OpenAPI server.
@Suite(
    .enabled(if: Support.binary != nil, "the iotbridge binary is absent: build it or set IOTBRIDGE_BIN"),
    .serialized,
    .timeLimit(.minutes(5))
)
struct MigrateCLITests {
    static let enterprise = "iot-06z00frq8umvkx2"

    /// A config with a file source (a copy of the legacy fixture) and the server's Enterprise instance as target.
    struct Workspace {
        let folder: URL
        let server: OpenAPITestServer

        init(stopSourceRules: Bool = false) async throws {
            self.folder = try Support.temporaryFolder()
            self.server = try await OpenAPITestServer()
            try FileManager.default.copyItem(
                atPath: Support.fixture("source-legacy.yaml"),
                toPath: self.folder.appendingPathComponent("source.yaml").path
            )
            try await self.server.seed(
                instance: MigrateCLITests.enterprise,
                try await loadFixture("target-enterprise.yaml")
            )
            try """
            # migration.yaml for the CLI tests
            source:
              kind: file
              file: source.yaml
            target:
              kind: sim
              regionId: cn-shanghai
              iotInstanceId: \(MigrateCLITests.enterprise)
              endpoint: \(self.server.endpoint)
              accessKeyId: testid
              accessKeySecret: ${IOT_TARGET_SECRET}
            options:
              stopSourceRules: \(stopSourceRules)
              requestTimeoutMilliseconds: 5000
              retry: {maxAttempts: 3, initialBackoffMilliseconds: 20, maxBackoffMilliseconds: 100}
            """.write(to: self.folder.appendingPathComponent("migration.yaml"), atomically: true, encoding: .utf8)
        }

        func path(_ name: String) -> String { self.folder.appendingPathComponent(name).path }

        /// Starts `iotbridge` in the workspace folder.
        func start(
            _ arguments: [String],
            secret: String = "testsecret",
            executable: String? = nil
        ) throws -> (Process, OutputCollector, OutputCollector) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable ?? Support.binary!)
            process.arguments = arguments
            process.currentDirectoryURL = self.folder
            var environment = ProcessInfo.processInfo.environment
            environment["IOT_TARGET_SECRET"] = secret
            process.environment = environment
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            let stdout = OutputCollector()
            let stderr = OutputCollector()
            stdout.attach(out)
            stderr.attach(err)
            try process.run()
            return (process, stdout, stderr)
        }

        /// Runs `iotbridge` to the end.
        func run(_ arguments: [String], secret: String = "testsecret") async throws -> (Int32, String, String) {
            let (process, stdout, stderr) = try self.start(arguments, secret: secret)
            let deadline = ContinuousClock.now + .seconds(120)
            while process.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            await ChildProcess.waitUntilExit(process)
            // Read the pipes to their end: what the child wrote last may still be in them.
            try await stdout.waitForEnd()
            try await stderr.waitForEnd()
            return (process.terminationStatus, stdout.text, stderr.text)
        }

        func target() async throws -> (InstanceSnapshot, [String: Int]) {
            try await self.server.state(instance: MigrateCLITests.enterprise)
        }
    }

    @Test func operatorFlowExportPlanRunVerifyClean() async throws {
        let workspace = try await Workspace()
        var (rc, out, err) = try await workspace.run([
            "instance", "export", "--config", "migration.yaml", "--side", "target", "--out", "target-export.yaml",
        ])
        #expect(rc == 0, "\(err)")
        #expect(out.contains("2 consumer groups"))
        let exported = try FileBackend(path: workspace.path("target-export.yaml"))
        #expect(try await exported.listConsumerGroups().count == 2)

        (rc, out, err) = try await workspace.run([
            "migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml",
        ])
        #expect(rc == 0, "\(err)")
        #expect(out.contains("17 steps (2 already on the target)"))
        #expect(out.contains("consumer impact: a1Prod00002: MNS queue aliyun-iot-a1Prod00002"))
        let planText = try String(contentsOfFile: workspace.path("plan.yaml"), encoding: .utf8)
        #expect(!planText.contains("testsecret"))
        #expect(planText.contains("sourceFingerprint: sha256:"))

        (rc, out, _) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml", "--dry-run"])
        #expect(rc == 0)
        #expect(out.contains("cg:orders: CreateConsumerGroup GroupName=orders"))
        #expect(try await workspace.target().0.consumerGroups.count == 2)

        (rc, out, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(err)")
        #expect(out.contains("15 steps executed"))
        #expect(out.contains("15 resources created"))
        // Not a terminal: one plain progress line per step.
        #expect(err.contains("[17/17] finished rule:temp_alarm"))
        #expect(err.contains("[1/17] skipped cg:DEFAULT_GROUP"))
        #expect(err.contains("ETA"))
        #expect(!err.contains("testsecret"))

        (rc, out, _) = try await workspace.run(["migrate", "status", "--plan", "plan.yaml"])
        #expect(rc == 0)
        #expect(out.contains("17 done"))
        let journal = try Data(contentsOf: URL(fileURLWithPath: workspace.path("plan.yaml.journal.sqlite")))
        #expect(journal.range(of: Data("testsecret".utf8)) == nil)

        (rc, out, _) = try await workspace.run(["migrate", "verify", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("17 validated, 0 mismatched, 0 missing"))

        (rc, out, _) = try await workspace.run(["migrate", "clean", "--plan", "plan.yaml"])
        #expect(rc == 0)
        #expect(out.contains("clean: 15 resources deleted"))
        (rc, out, _) = try await workspace.run(["migrate", "clean", "--plan", "plan.yaml"])
        #expect(out.contains("clean: 0 resources deleted"))
        let after = try await workspace.target().0
        #expect(Support.normalized(after) == Support.normalized(try await loadFixture("target-enterprise.yaml")))

        (rc, out, _) = try await workspace.run(["migrate", "verify", "--plan", "plan.yaml"])
        #expect(rc == 1)
        #expect(out.contains("2 validated, 0 mismatched, 15 missing"))
    }

    /// Kill `migrate run` between steps and inside a step, run it again: the target ends as after an
    /// uninterrupted run, and nothing was created twice.
    @Test func killAndResumeEndsLikeAnUninterruptedRun() async throws {
        let reference = try await Workspace()
        _ = try await reference.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        let (rc0, _, err0) = try await reference.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc0 == 0, "\(err0)")
        let expected = Support.normalized(try await reference.target().0)

        let workspace = try await Workspace()
        _ = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        // 1. Between steps: the first destination call hangs before the server does anything.
        try await workspace.server.faults(#"{"stall": {"action": "CreateDestination", "after": 1, "mode": "before"}}"#)
        var (process, _, _) = try workspace.start(["migrate", "run", "--plan", "plan.yaml"])
        #expect(try await workspace.server.output.wait(for: "STALL CreateDestination #1"))
        kill(process.processIdentifier, SIGKILL)
        await ChildProcess.waitUntilExit(process)
        var (rc, status, _) = try await workspace.run(["migrate", "status", "--plan", "plan.yaml"])
        #expect(status.contains("dest:dest_amqp"))
        #expect(
            status.range(of: #"dest:dest_amqp\s+createDestination\s+requested"#, options: .regularExpression) != nil
        )

        // 2. Inside a step: temp_alarm's second action is applied, but the answer never reaches the CLI.
        try await workspace.server.faults(#"{"stall": {"action": "CreateRuleAction", "after": 4, "mode": "after"}}"#)
        (process, _, _) = try workspace.start(["migrate", "run", "--plan", "plan.yaml"])
        #expect(try await workspace.server.output.wait(for: "STALL CreateRuleAction #4"))
        kill(process.processIdentifier, SIGKILL)
        await ChildProcess.waitUntilExit(process)

        // 3. Run to the end.
        try await workspace.server.faults("{}")
        (rc, _, _) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 0)

        let (state, calls) = try await workspace.target()
        #expect(Support.duplicates(state).isEmpty)
        #expect(Support.normalized(state) == expected)
        // Each rule was created exactly once across the three runs, and each action once (temp_alarm: 2).
        #expect(calls["CreateRule"] == 3)
        #expect(calls["CreateRuleAction"] == 4)
        #expect(calls["CreateConsumerGroup"] == 4)
        (rc, status, _) = try await workspace.run(["migrate", "status", "--plan", "plan.yaml"])
        #expect(status.range(of: #"rule:temp_alarm\s+createRule\s+done\s+\S+\s+2"#, options: .regularExpression) != nil)
        (rc, _, _) = try await workspace.run(["migrate", "verify", "--plan", "plan.yaml"])
        #expect(rc == 0)
    }

    @Test func killInsideConsumerGroupCreationDoesNotCreateItTwice() async throws {
        let workspace = try await Workspace()
        _ = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        try await workspace.server.faults(#"{"stall": {"action": "CreateConsumerGroup", "after": 2, "mode": "after"}}"#)
        let (process, _, _) = try workspace.start(["migrate", "run", "--plan", "plan.yaml"])
        #expect(try await workspace.server.output.wait(for: "STALL CreateConsumerGroup #2"))
        kill(process.processIdentifier, SIGKILL)
        await ChildProcess.waitUntilExit(process)
        try await workspace.server.faults("{}")
        let (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(err)")
        let (state, calls) = try await workspace.target()
        #expect(Support.duplicates(state).isEmpty)
        #expect(calls["CreateConsumerGroup"] == 4)
        // clean removes the group whose ID the first run never learnt, too.
        _ = try await workspace.run(["migrate", "clean", "--plan", "plan.yaml"])
        #expect(try await workspace.target().0.consumerGroups.count == 2)
    }

    @Test func badInputGetsOneClearLine() async throws {
        let workspace = try await Workspace()
        var (rc, _, err) = try await workspace.run(
            ["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"],
            secret: "wrong"
        )
        #expect(rc == 2)
        #expect(err.contains("SignatureDoesNotMatch"))
        #expect(err.contains("${IOT_TARGET_SECRET}"))
        #expect(!err.contains("wrong"))

        (rc, _, err) = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        #expect(rc == 0, "\(err)")
        // Throttled beyond the retries inside a step: the step is named and the journal says failed.
        try await workspace.server.faults(#"{"throttle": {"CreateRule": 100}}"#)
        (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 2)
        #expect(err.contains("step rule:raw_binary"))
        #expect(err.contains("throttled"))
        var status: String
        (_, status, _) = try await workspace.run(["migrate", "status", "--plan", "plan.yaml"])
        #expect(status.range(of: #"rule:raw_binary\s+createRule\s+failed"#, options: .regularExpression) != nil)

        // The source changed since planning: refused, nothing run.
        try await workspace.server.faults("{}")
        let source = try FileBackend(path: workspace.path("source.yaml"))
        try await source.stopRule(id: "9003")
        let fresh = try await Workspace()
        try FileManager.default.removeItem(atPath: fresh.path("source.yaml"))
        try FileManager.default.copyItem(atPath: workspace.path("source.yaml"), toPath: fresh.path("source.yaml"))
        _ = try await fresh.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        try await FileBackend(path: fresh.path("source.yaml")).startRule(id: "9003")
        (rc, _, err) = try await fresh.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 2)
        #expect(err.contains("--force"))
        #expect(try await fresh.target().0.consumerGroups.count == 2)

        // A plan edited into nonsense: file, line and step.
        let planPath = fresh.path("plan.yaml")
        let text = try String(contentsOfFile: planPath, encoding: .utf8)
        try text.replacingOccurrences(of: "${cg:orders}", with: "${cg:nowhere}")
            .write(toFile: planPath, atomically: true, encoding: .utf8)
        (rc, _, err) = try await fresh.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 2)
        #expect(err.contains("plan.yaml:"))
        #expect(err.contains("step dest:dest_amqp"))
        #expect(err.contains("${cg:nowhere}"))

        // Unreachable endpoint.
        let config = try String(contentsOfFile: fresh.path("migration.yaml"), encoding: .utf8)
        try config.replacingOccurrences(of: fresh.server.endpoint, with: "http://127.0.0.1:9")
            .write(toFile: fresh.path("migration.yaml"), atomically: true, encoding: .utf8)
        (rc, _, err) = try await fresh.run([
            "instance", "export", "--config", "migration.yaml", "--side", "target", "--out", "t.yaml",
        ])
        #expect(rc == 2)
        #expect(err.contains("cannot reach http://127.0.0.1:9"))
    }

    @Test func rollbackRestartsSourceRules() async throws {
        let workspace = try await Workspace(stopSourceRules: true)
        _ = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        var (rc, out, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(err)")
        #expect(
            try await FileBackend(path: workspace.path("source.yaml")).listRules().allSatisfy { $0.status == .stopped }
        )
        (rc, out, _) = try await workspace.run(["migrate", "rollback", "--plan", "plan.yaml"])
        #expect(rc == 0)
        #expect(out.contains("3 source rules restarted"))
        let rules = try await FileBackend(path: workspace.path("source.yaml")).listRules()
        #expect(rules.filter { $0.status == .running }.map(\.name).sorted() == ["status_watch", "temp_alarm"])
    }

    @Test func importCreatesAnExportOnATarget() async throws {
        let workspace = try await Workspace()
        var (rc, out, err) = try await workspace.run([
            "instance", "import", "--config", "migration.yaml", "--side", "target", "--in", "source.yaml", "--dry-run",
        ])
        #expect(rc == 0, "\(err)")
        #expect(out.contains("rule:temp_alarm: CreateRule"))
        #expect(try await workspace.target().0.rules.isEmpty)
        (rc, out, err) = try await workspace.run([
            "instance", "import", "--config", "migration.yaml", "--side", "target", "--in", "source.yaml",
        ])
        #expect(rc == 0, "\(err)")
        #expect(out.contains("15 created, 2 already there"))
        let (state, _) = try await workspace.target()
        #expect(state.rules.map(\.name).sorted() == ["raw_binary", "status_watch", "temp_alarm"])
        #expect(Support.duplicates(state).isEmpty)
    }

    @Test func rewriteRulesAndWriteTheIdMap() async throws {
        let workspace = try await Workspace()
        var config = try String(contentsOfFile: workspace.path("migration.yaml"), encoding: .utf8)
        config += "\n  consumerGroupNaming: \"{name}_ent\"\n"
        try config.write(toFile: workspace.path("migration.yaml"), atomically: true, encoding: .utf8)
        _ = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        var (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(err)")
        try FileManager.default.createDirectory(atPath: workspace.path("rules"), withIntermediateDirectories: true)
        try RuleFileRewriterTests.oldVersionRule.write(
            toFile: workspace.path("rules/alert.yaml"),
            atomically: true,
            encoding: .utf8
        )
        var out: String
        (rc, out, err) = try await workspace.run([
            "migrate", "rewrite-rules", "--plan", "plan.yaml", "--id-map", "groups.yaml", "rules",
        ])
        #expect(rc == 0, "\(err)")
        #expect(out.contains("consumerGroup orders -> orders_ent"))
        #expect(out.contains("2 consumer-group references rewritten"))
        let rewritten = try String(contentsOfFile: workspace.path("rules/alert.yaml"), encoding: .utf8)
        #expect(rewritten.contains("consumerGroup: orders_ent"))
        let idMap = try String(contentsOfFile: workspace.path("groups.yaml"), encoding: .utf8)
        let orders = try #require(try await workspace.target().0.consumerGroups.first { $0.name == "orders_ent" })
        #expect(idMap.contains("name: orders_ent"))
        #expect(idMap.contains("targetId: \(orders.id)"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux script"))
    func onATerminalProgressIsABarRedrawnInPlace() async throws {
        let workspace = try await Workspace()
        _ = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        // script(1) gives the CLI a pseudo-terminal, so stderr is a TTY.
        let command = "'\(Support.binary!)' migrate run --plan plan.yaml"
        let (process, stdout, _) = try workspace.start(["-qec", command, "/dev/null"], executable: "/usr/bin/script")
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        try await stdout.waitForEnd()
        #expect(process.terminationStatus == 0)
        let screen = stdout.text
        #expect(screen.contains("\r\u{1B}[2K["))
        #expect(screen.contains("] 17/17  rule:temp_alarm  ETA"))
        #expect(screen.contains("##############################] 17/17"))
        #expect(!screen.contains("finished rule:temp_alarm"), "no plain lines on a terminal")
    }

    @Test func helpTeaches() async throws {
        let workspace = try await Workspace()
        let (_, out, _) = try await workspace.run(["migrate", "run", "--help"])
        #expect(out.contains("--dry-run"))
        #expect(out.contains("Example: iotbridge migrate run --plan plan.yaml"))
        #expect(out.contains("--force"))
    }
}
