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

/// Plan computation on the export fixtures.
@Suite struct MigrationPlannerTests {
    func makePlan(options: MigrationOptions = MigrationOptions()) async throws -> MigrationPlan {
        let source = try await loadFixture("source-legacy.yaml")
        let target = try await loadFixture("target-enterprise.yaml")
        return MigrationPlanner(options: options).plan(source: source, target: target)
    }

    func step(_ plan: MigrationPlan, _ id: String) throws -> PlanStep {
        try #require(plan.steps.first { $0.id == id }, "no step \(id)")
    }

    @Test func stepsComeInDependencyOrder() async throws {
        let plan = try await self.makePlan()
        let kinds = plan.steps.map(\.action)
        let order: [StepAction] = [
            .createConsumerGroup, .createDestination, .createDataSource, .createParser, .createSubscription,
            .createRule,
        ]
        #expect(kinds == kinds.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! })
        #expect(Set(plan.steps.map(\.id)).count == plan.steps.count)
        try PlanFile.validate(plan)
    }

    /// A draft equal to the published script is what publishing leaves behind: not a draft of its own. A parser
    /// that was only saved keeps its script as a draft, never as a script to publish.
    @Test func onlyUnpublishedDraftsArePlannedAsDrafts() async throws {
        var source = try await loadFixture("source-legacy.yaml")
        let target = try await loadFixture("target-enterprise.yaml")
        let hot = try #require(source.parsers.firstIndex { $0.name == "parser_hot" })
        source.parsers[hot].scriptDraft = source.parsers[hot].script
        source.parsers.append(Parser(id: "8002", name: "saved_only", scriptDraft: "writeAmqp(1002, payload(\"json\"));"))
        let plan = MigrationPlanner(options: MigrationOptions()).plan(source: source, target: target)
        let published = try #require(try self.step(plan, "parser:parser_hot").parser)
        #expect(published.script != nil && published.scriptDraft == nil)
        let saved = try #require(try self.step(plan, "parser:saved_only").parser)
        #expect(saved.script == nil)
        #expect(saved.scriptDraft == "writeAmqp(${dest:dest_republish}, payload(\"json\"));")
        #expect(plan.findings.map(\.resource).filter { $0.hasPrefix("parser:") } == ["parser:saved_only"])
        try PlanFile.validate(plan)
    }

    @Test func consumerGroupsAreMappedAndExistingOnesSkipped() async throws {
        let plan = try await self.makePlan()
        #expect(try self.step(plan, "cg:DEFAULT_GROUP").existing == "DEFAULT_GROUP_ENT")
        #expect(try self.step(plan, "cg:telemetry").existing == "Gtelemetry_target_00000001")
        let orders = try self.step(plan, "cg:orders")
        #expect(orders.existing == nil)
        #expect(orders.consumerGroup?.sourceId == "Gorders0000000000000000001")
        #expect(
            plan.consumerGroupMap.contains(
                ConsumerGroupMapping(
                    sourceId: "Gorders0000000000000000001",
                    sourceName: "orders",
                    symbol: "cg:orders",
                    targetName: "orders"
                )
            )
        )
    }

    @Test func namingTemplateApplies() async throws {
        var options = MigrationOptions()
        options.consumerGroupNaming = "{name}_ent"
        let plan = try await self.makePlan(options: options)
        #expect(try self.step(plan, "cg:orders").consumerGroup?.name == "orders_ent")
        // DEFAULT_GROUP keeps its name: every instance has one.
        #expect(try self.step(plan, "cg:DEFAULT_GROUP").consumerGroup?.name == "DEFAULT_GROUP")
        // telemetry_ent does not exist on the target, so it is created.
        #expect(try self.step(plan, "cg:telemetry").existing == nil)
    }

    @Test func consumerGroupReferencesAreRewrittenEverywhere() async throws {
        let plan = try await self.makePlan()
        let rule = try #require(try self.step(plan, "rule:temp_alarm").rule)
        #expect(rule.actions.first?.configuration == #"{"groupId":"${cg:orders}"}"#)
        #expect(try self.step(plan, "dest:dest_amqp").destination?.configuration == #"{"groupId":"${cg:orders}"}"#)
        let subscription = try #require(try self.step(plan, "sub:a1Prod00001").subscription)
        #expect(subscription.consumerGroups == ["${cg:orders}", "${cg:telemetry}"])
        #expect(subscription.flags == [.deviceData, .deviceStatusChange, .otaVersion])
        let parser = try #require(try self.step(plan, "parser:parser_hot").parser)
        #expect(parser.script?.contains("writeAmqp(${dest:dest_amqp}, data") == true)
        #expect(parser.script?.contains("writeIotTopic( ${dest:dest_republish},") == true)
        #expect(parser.destinations == ["${dest:dest_amqp}", "${dest:dest_republish}"])
        #expect(parser.errorDestination == "${dest:dest_mns}")
        #expect(parser.dataSource == "${ds:ds_telemetry}")
        #expect(parser.start)
    }

    @Test func mnsAndHTTP2SubscriptionsBecomeAMQP() async throws {
        let plan = try await self.makePlan()
        let mns = try self.step(plan, "sub:a1Prod00002")
        #expect(mns.translatedFrom == [.mns])
        #expect(mns.subscription?.consumerGroups == ["${cg:a1Prod00002_amqp}"])
        #expect(mns.subscription?.flags == [.deviceData, .otaEvent])
        #expect(try self.step(plan, "cg:a1Prod00002_amqp").consumerGroup?.sourceId == nil)
        // HTTP/2 and AMQP relations of one product merge into one AMQP relation with the union of flags.
        let merged = try self.step(plan, "sub:a1Prod00003")
        #expect(merged.translatedFrom == [.http2])
        #expect(merged.subscription?.flags == [.deviceData, .deviceLifeCycle])
        #expect(merged.subscription?.subscribeFlags == #"{"jt808DeviceDataFlag":true}"#)
        #expect(Set(merged.subscription?.consumerGroups ?? []) == ["${cg:telemetry}", "${cg:a1Prod00003_amqp}"])
        #expect(plan.consumerImpact.contains { $0.contains("aliyun-iot-a1Prod00002") && $0.contains("generateTime") })
        #expect(plan.findings.contains { $0.resource == "sub:a1Prod00002" })
    }

    @Test func whatEnterpriseCannotCarryIsFlaggedAndReplaced() async throws {
        let plan = try await self.makePlan()
        let destination = try #require(try self.step(plan, "dest:dest_mns").destination)
        #expect(destination.type == "AMQP")
        #expect(destination.configuration == #"{"groupId":"${cg:forwarding_amqp}"}"#)
        #expect(plan.findings.contains { $0.resource == "dest:dest_mns" && $0.replacement.contains("forwarding_amqp") })
        // The MNS error action cannot become AMQP next to an AMQP action: it is dropped, and said so.
        #expect(try self.step(plan, "rule:temp_alarm").rule?.errorAction == nil)
        #expect(plan.findings.contains { $0.resource == "rule:temp_alarm error action" })
    }

    @Test func legacyTargetKeepsMNSActions() async throws {
        let source = try await loadFixture("source-legacy.yaml")
        let target = InstanceSnapshot(
            identity: InstanceIdentity(kind: "file", regionId: "cn-shanghai", iotInstanceId: "")
        )
        let plan = MigrationPlanner(options: MigrationOptions()).plan(source: source, target: target)
        #expect(plan.steps.first { $0.id == "dest:dest_mns" }?.destination?.type == "MNS")
        #expect(plan.steps.first { $0.id == "rule:temp_alarm" }?.rule?.errorAction?.type == "MNS")
    }

    @Test func fingerprintIsStableAndSeesChanges() async throws {
        let source = try await loadFixture("source-legacy.yaml")
        var reordered = source
        reordered.rules.reverse()
        reordered.consumerGroups.reverse()
        #expect(source.fingerprint == reordered.fingerprint)
        var changed = source
        changed.rules[0].select = "*"
        #expect(source.fingerprint != changed.fingerprint)
        #expect(try await self.makePlan().sourceFingerprint == source.fingerprint)
    }

    @Test func productFilterRestrictsTheMigration() async throws {
        var options = MigrationOptions()
        options.products = ["a1Prod00001"]
        let plan = try await self.makePlan(options: options)
        #expect(plan.steps.filter { $0.action == .createSubscription }.map(\.id) == ["sub:a1Prod00001"])
        #expect(plan.steps.contains { $0.id == "rule:temp_alarm" })
        #expect(!plan.steps.contains { $0.id == "rule:status_watch" })
        #expect(!plan.steps.contains { $0.id == "rule:raw_binary" })
    }

    @Test func sourceStopsAreOptIn() async throws {
        #expect(try await self.makePlan().steps.allSatisfy { $0.action != .stopSourceRule })
        var options = MigrationOptions()
        options.stopSourceRules = true
        let plan = try await self.makePlan(options: options)
        #expect(
            plan.steps.filter { $0.action == .stopSourceRule }.map(\.id) == [
                "stop-rule:status_watch", "stop-rule:temp_alarm",
            ]
        )
        #expect(plan.steps.last?.id == "stop-parser:parser_hot")
    }

    @Test func targetThatAlreadyHasEverythingYieldsOnlySkips() async throws {
        let source = try await loadFixture("source-legacy.yaml")
        var options = MigrationOptions()
        options.translationConsumerGroup = "DEFAULT_GROUP"
        // Migrate to a file target, then plan again against the result: every step must be `existing`.
        let folder = try Support.temporaryFolder()
        let target = try FileBackend(
            path: folder.appendingPathComponent("target.yaml").path,
            identity: InstanceIdentity(kind: "file", regionId: "cn-shanghai", iotInstanceId: ""),
            createIfMissing: true
        )
        let first = MigrationPlanner(options: options).plan(
            source: source,
            target: try await target.exportSnapshot(products: [])
        )
        let runner = MigrationRunner(
            plan: first,
            source: try FileBackend(path: Support.fixture("source-legacy.yaml")),
            target: target,
            store: try SQLiteStateStore(path: folder.appendingPathComponent("journal.sqlite").path)
        )
        _ = try await runner.run()
        let second = MigrationPlanner(options: options).plan(
            source: source,
            target: try await target.exportSnapshot(products: [])
        )
        let notSkipped = second.steps.filter { $0.existing == nil }.map(\.id)
        #expect(notSkipped.isEmpty, "steps planned again: \(notSkipped)")
        #expect(second.findings.filter { $0.issue.contains("another form") }.isEmpty)
    }
}
