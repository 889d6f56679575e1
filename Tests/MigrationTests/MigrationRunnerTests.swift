//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import StateStore
import Testing

/// `run`, resume, `clean`, `rollback` and `verify` in process, against file backends.
@Suite struct MigrationRunnerTests {
    /// A migration of the legacy fixture to an Enterprise file target, in its own folder.
    struct Setup {
        let folder: URL
        let plan: MigrationPlan
        let sourcePath: String
        let targetPath: String
        let storePath: String

        init(stopSourceRules: Bool = false) async throws {
            self.folder = try Support.temporaryFolder()
            self.sourcePath = self.folder.appendingPathComponent("source.yaml").path
            self.targetPath = self.folder.appendingPathComponent("target.yaml").path
            self.storePath = self.folder.appendingPathComponent("journal.sqlite").path
            try FileManager.default.copyItem(atPath: Support.fixture("source-legacy.yaml"), toPath: self.sourcePath)
            try FileManager.default.copyItem(atPath: Support.fixture("target-enterprise.yaml"), toPath: self.targetPath)
            var options = MigrationOptions()
            options.stopSourceRules = stopSourceRules
            self.plan = MigrationPlanner(options: options).plan(
                source: try await FileBackend(path: self.sourcePath).exportSnapshot(products: []),
                target: try await FileBackend(path: self.targetPath).exportSnapshot(products: [])
            )
        }

        func target() throws -> FileBackend { try FileBackend(path: self.targetPath) }

        func source() throws -> FileBackend { try FileBackend(path: self.sourcePath) }

        func runner(target: (any InstanceBackend)? = nil) throws -> MigrationRunner {
            MigrationRunner(
                plan: self.plan,
                source: try self.source(),
                target: try target ?? self.target(),
                store: try SQLiteStateStore(path: self.storePath)
            )
        }

        func targetState() async throws -> InstanceSnapshot {
            try await self.target().exportSnapshot(products: [])
        }
    }

    @Test func runVerifiesCleanAndIsIdempotent() async throws {
        let setup = try await Setup()
        let summary = try await setup.runner().run()
        #expect(summary.adopted == 2)
        #expect(summary.created == setup.plan.steps.count - 2)
        let report = try await setup.runner().verify()
        #expect(report.isClean, "\(report)")
        // Running again changes nothing.
        let before = Support.normalized(try await setup.targetState())
        let again = try await setup.runner().run()
        #expect(again.resumed == setup.plan.steps.count)
        #expect(again.executed == 0)
        #expect(Support.normalized(try await setup.targetState()) == before)
    }

    @Test func cleanDeletesExactlyWhatRunCreatedInReverse() async throws {
        let setup = try await Setup()
        let untouched = Support.normalized(try await setup.targetState())
        _ = try await setup.runner().run()
        let deleted = try await setup.runner().clean()
        let created = setup.plan.steps.filter { $0.existing == nil }.map(\.id)
        #expect(deleted == created.reversed())
        // The two groups that were there before survive; the target is as it was.
        #expect(Support.normalized(try await setup.targetState()) == untouched)
        #expect(try await setup.runner().clean().isEmpty)
        let report = try await setup.runner().verify()
        #expect(report.count(.missing) == created.count)
        #expect(report.count(.validated) == 2)
    }

    @Test func rollbackRestartsStoppedSourceRules() async throws {
        let setup = try await Setup(stopSourceRules: true)
        _ = try await setup.runner().run()
        let stopped = try await setup.source().listRules().filter { $0.status == .running }
        #expect(stopped.isEmpty)
        #expect(try await setup.runner().verify().isClean)
        let (deleted, restarted) = try await setup.runner().rollback()
        #expect(!deleted.isEmpty)
        #expect(Set(restarted) == ["stop-rule:temp_alarm", "stop-rule:status_watch", "stop-parser:parser_hot"])
        #expect(try await setup.source().listRules().filter { $0.status == .running }.count == 2)
        #expect(try await setup.source().listParsers().first?.status == .running)
    }

    /// Crash at every mutating call in turn, before and after the call took effect; then resume. The target must
    /// end exactly as after an uninterrupted run, with nothing created twice.
    @Test(arguments: [CrashingBackend.Mode.before, .after])
    func resumeAfterACrashAtEveryCall(mode: CrashingBackend.Mode) async throws {
        let reference = try await Setup()
        _ = try await reference.runner().run()
        let expected = Support.normalized(try await reference.targetState())
        let probe = CrashingBackend(try reference.target(), crashAt: 0, mode: mode)
        _ = probe  // the count of mutations of a full run is what the reference run made:
        let counter = try await Setup()
        let counting = CrashingBackend(try counter.target(), crashAt: Int.max, mode: mode)
        _ = try await counter.runner(target: counting).run()
        #expect(counting.mutations > 20)
        for crashAt in 1...counting.mutations {
            let setup = try await Setup()
            let crashing = CrashingBackend(try setup.target(), crashAt: crashAt, mode: mode)
            await #expect(throws: MigrationError.self) { try await setup.runner(target: crashing).run() }
            let statuses = try await setup.runner().status()
            #expect(statuses.contains { $0.state == "failed" }, "crash \(crashAt): the journal must show the failure")
            _ = try await setup.runner().run()
            let state = try await setup.targetState()
            #expect(
                Support.duplicates(state).isEmpty,
                "crash \(crashAt) \(mode): duplicates \(Support.duplicates(state))"
            )
            #expect(Support.normalized(state) == expected, "crash at mutation \(crashAt) (\(mode))")
            #expect(try await setup.runner().verify().isClean)
        }
    }

    @Test func cleanAfterACrashInsideAStepRemovesThePartialResource() async throws {
        let setup = try await Setup()
        let untouched = Support.normalized(try await setup.targetState())
        // Crash right after the first CreateRule took effect: the journal never learnt the rule's ID.
        let rules = setup.plan.steps.firstIndex { $0.action == .createRule }!
        let before = setup.plan.steps[..<rules].filter { $0.existing == nil }
        var mutations = 0
        for step in before {
            switch step.action {
            case .createDataSource: mutations += 1 + (step.dataSource?.items.count ?? 0)
            case .createParser:
                let spec = step.parser!
                mutations +=
                    2 + (spec.dataSource == nil ? 0 : 1) + spec.destinations.count
                    + (spec.errorDestination == nil ? 0 : 1) + (spec.start ? 1 : 0)
            default: mutations += 1
            }
        }
        let crashing = CrashingBackend(try setup.target(), crashAt: mutations + 1, mode: .after)
        await #expect(throws: MigrationError.self) { try await setup.runner(target: crashing).run() }
        #expect(try await setup.targetState().rules.count == 1)
        _ = try await setup.runner().clean()
        #expect(Support.normalized(try await setup.targetState()) == untouched)
    }

    @Test func verifyReportsMismatchedAndMissing() async throws {
        let setup = try await Setup()
        _ = try await setup.runner().run()
        let target = try setup.target()
        let rules = try await target.ruleIndex()
        try await target.stopRule(id: rules["temp_alarm"]!)
        let groups = try await target.listConsumerGroups()
        try await target.deleteConsumerGroup(id: groups.first { $0.name == "forwarding_amqp" }!.id)
        let report = try await setup.runner().verify()
        #expect(!report.isClean)
        #expect(report.lines.first { $0.stepId == "rule:temp_alarm" }?.verdict == .mismatched)
        #expect(report.lines.first { $0.stepId == "rule:temp_alarm" }?.detail == "not running")
        #expect(report.lines.first { $0.stepId == "cg:forwarding_amqp" }?.verdict == .missing)
        // The destination and the parser's failover point at what is gone.
        let destination = report.lines.first { $0.stepId == "dest:dest_mns" }
        #expect(destination?.verdict == .mismatched)
        #expect(destination?.detail == "references ${cg:forwarding_amqp}, which is missing on the target")
        #expect(report.count(.validated) == report.lines.count - 3)
        #expect(report.description.contains("mismatched"))
    }

    @Test func anExistingResourceGoneSincePlanningIsCreated() async throws {
        let setup = try await Setup()
        let target = try setup.target()
        let telemetry = try await target.listConsumerGroups().first { $0.name == "telemetry" }!
        try await target.deleteConsumerGroup(id: telemetry.id)
        let summary = try await setup.runner().run()
        #expect(summary.adopted == 1)
        let recreated = try await setup.target().listConsumerGroups().first { $0.name == "telemetry" }
        #expect(recreated != nil && recreated?.id != telemetry.id)
        #expect(try await setup.runner().status().first { $0.stepId == "cg:telemetry" }?.created == true)
        #expect(try await setup.runner().verify().isClean)
    }

    @Test func stalePlanIsRefusedUnlessForced() async throws {
        let setup = try await Setup()
        try await setup.source().stopRule(id: "9001")
        await #expect {
            try await setup.runner().run()
        } throws: { error in
            (error as? MigrationError)?.code == .stalePlan
        }
        #expect(try await setup.runner().status().allSatisfy { $0.state == "pending" || $0.state == "existing" })
        _ = try await setup.runner().run(force: true)
        #expect(try await setup.runner().verify().isClean)
        // A resume does not check again (the run itself may stop source rules); after a clean, run starts over
        // and checks again.
        _ = try await setup.runner().run()
        _ = try await setup.runner().clean()
        await #expect {
            try await setup.runner().run()
        } throws: { error in
            (error as? MigrationError)?.code == .stalePlan
        }
    }

    @Test func dryRunListsCallsAndTouchesNothing() async throws {
        let setup = try await Setup()
        let lines = try await setup.runner().dryRun()
        #expect(lines.count == setup.plan.steps.count)
        #expect(lines.contains { $0.hasPrefix("cg:orders: CreateConsumerGroup GroupName=orders") })
        #expect(lines.contains { $0.contains("skip — already on the target as DEFAULT_GROUP_ENT") })
        #expect(lines.contains { $0.hasPrefix("rule:temp_alarm: CreateRule") && $0.contains("StartRule") })
        #expect(try await setup.targetState().consumerGroups.count == 2)
        #expect(try await setup.runner().status().allSatisfy { $0.attempts == 0 })
    }

    @Test func journalKeepsOneEventPerStateChange() async throws {
        let setup = try await Setup()
        _ = try await setup.runner().run()
        let store = try SQLiteStateStore(path: setup.storePath)
        let events = try await store.events(migrationId: setup.plan.migrationId)
        // requested + done per step.
        #expect(events.count == setup.plan.steps.count * 2)
        #expect(events.map(\.sequence) == events.map(\.sequence).sorted())
        let orders = events.filter { $0.stepId == "cg:orders" }.map(\.state)
        #expect(orders == ["requested", "done"])
        let status = MigrationRunner.renderStatus(try await setup.runner().status())
        #expect(status.contains("cg:orders"))
        #expect(status.contains("\(setup.plan.steps.count) done"))
    }
}
