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

/// The control plane of a simulated instance: seeding, what the AMQP endpoint asks, and the platform's checks.
@Suite struct SimulatedControlPlaneTests {
    /// `Tests/MigrationTests/Fixtures/source-legacy.yaml`: a legacy public instance as an export file.
    static let legacyExport = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("MigrationTests/Fixtures/source-legacy.yaml").path

    /// A small instance built in code: two groups, an AMQP and an MNS relation, one rule.
    static func seed(iotInstanceId: String? = nil) -> InstanceSnapshot {
        InstanceSnapshot(
            identity: InstanceIdentity(kind: "file", regionId: "cn-hangzhou", iotInstanceId: iotInstanceId),
            products: ["a1pk0000001", "a1pk0000002"],
            consumerGroups: [
                ConsumerGroup(id: "gOrders0000000000000000100", name: "orders"),
                ConsumerGroup(id: "gTelemetry00000000000000100", name: "telemetry"),
            ],
            subscriptions: [
                SubscribeRelation(
                    productKey: "a1pk0000001",
                    type: .amqp,
                    flags: [.deviceData, .deviceStatusChange],
                    consumerGroupIds: ["gTelemetry00000000000000100", "gOrders0000000000000000100"]
                ),
                SubscribeRelation(
                    productKey: "a1pk0000002",
                    type: .mns,
                    flags: [.deviceData],
                    mnsConfiguration: #"{"themeName":"t","regionName":"cn-hangzhou"}"#
                ),
            ],
            rules: [
                OldRule(
                    id: "200500",
                    name: "hot",
                    productKey: "a1pk0000001",
                    shortTopic: "+/user/update",
                    topicType: 1,
                    select: "*",
                    actions: [RuleAction(type: "AMQP", configuration: #"{"groupId":"gOrders0000000000000000100"}"#)]
                )
            ]
        )
    }

    @Test func aLegacyInstanceHasNoInstanceIdAndAnEnterpriseOneHasIt() throws {
        let legacy = try SimulatedControlPlane(snapshot: Self.seed())
        #expect(legacy.identity.kind == "sim")
        #expect(legacy.identity.iotInstanceId == nil)
        #expect(!legacy.identity.isEnterprise)
        #expect(legacy.identity.regionId == "cn-hangzhou")

        let enterprise = try SimulatedControlPlane(snapshot: Self.seed(), iotInstanceId: "iot-06z00ab1cd2ef3")
        #expect(
            enterprise.identity
                == InstanceIdentity(kind: "sim", regionId: "cn-hangzhou", iotInstanceId: "iot-06z00ab1cd2ef3")
        )

        // "" forces the legacy style even when the snapshot came from an Enterprise instance.
        let forced = try SimulatedControlPlane(snapshot: Self.seed(iotInstanceId: "iot-x"), iotInstanceId: "")
        #expect(forced.identity.iotInstanceId == nil)
    }

    @Test func theAMQPSideSeesGroupsAndTheRelationsCarryingAFlag() async throws {
        let plane = try SimulatedControlPlane(snapshot: Self.seed())
        #expect(await plane.consumerGroupIds() == ["gOrders0000000000000000100", "gTelemetry00000000000000100"])
        #expect(
            await plane.consumerGroups(subscribedTo: "a1pk0000001", flag: .deviceData)
                == ["gTelemetry00000000000000100", "gOrders0000000000000000100"]
        )
        #expect(await plane.consumerGroups(subscribedTo: "a1pk0000001", flag: .deviceLifeCycle).isEmpty)
        // An MNS relation feeds no consumer group; an unknown product has none.
        #expect(await plane.consumerGroups(subscribedTo: "a1pk0000002", flag: .deviceData).isEmpty)
        #expect(await plane.consumerGroups(subscribedTo: "nope", flag: .deviceData).isEmpty)

        // A group created through the control plane becomes visible to the AMQP side at once.
        let group = try await plane.createConsumerGroup(name: "newgroup")
        #expect(await plane.consumerGroupIds().contains(group.id))
        try await plane.updateSubscribeRelation(
            SubscribeRelation(
                productKey: "a1pk0000001",
                type: .amqp,
                flags: [.deviceLifeCycle],
                consumerGroupIds: [group.id]
            )
        )
        #expect(await plane.consumerGroups(subscribedTo: "a1pk0000001", flag: .deviceLifeCycle) == [group.id])
        #expect(await plane.consumerGroups(subscribedTo: "a1pk0000001", flag: .deviceData).isEmpty)
    }

    @Test func seedingFromAnExportFileKeepsItsContent() async throws {
        let plane = try await SimulatedControlPlane(exportFile: Self.legacyExport)
        let snapshot = await plane.snapshot()
        #expect(snapshot.identity.kind == "sim")
        #expect(!plane.identity.isEnterprise)
        #expect(snapshot.products == ["a1Prod00001", "a1Prod00002", "a1Prod00003"])
        #expect(snapshot.rules.map(\.id) == ["9001", "9002", "9003"])
        #expect(snapshot.rules[0].errorAction?.type == "MNS")
        // Items without IDs got one; the rest of the file is as written.
        #expect(snapshot.dataSources[0].items.allSatisfy { $0.id != nil })
        var expected = try await FileBackend(path: Self.legacyExport).exportSnapshot(products: [])
        expected.identity = snapshot.identity
        var comparable = snapshot
        for d in comparable.dataSources.indices {
            for i in comparable.dataSources[d].items.indices { comparable.dataSources[d].items[i].id = nil }
        }
        #expect(comparable == expected)
        #expect(
            await plane.consumerGroups(subscribedTo: "a1Prod00003", flag: .deviceData)
                == ["Gtelemetry00000000000000002"]
        )
    }

    @Test func anExportsAssessmentSectionBecomesTheInstancesFacts() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("simapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let facts = InstanceFacts(
            products: [ProductFacts(productKey: "a1pk0000001", name: "Meters", deviceCount: 42)],
            consumerGroups: [ConsumerGroupFacts(id: "gOrders0000000000000000100", connectedClients: ["c1"])]
        )
        let withFacts = folder.appendingPathComponent("with.yaml").path
        try FileBackend.write(Self.seed(), assessment: facts, to: withFacts)
        let plane = try await SimulatedControlPlane(exportFile: withFacts, iotInstanceId: "iot-06z00ab1cd2ef3")
        #expect(await plane.assessmentFacts() == facts)
        #expect(plane.identity.iotInstanceId == "iot-06z00ab1cd2ef3")
        #expect(plane.identity.regionId == "cn-hangzhou")

        let without = folder.appendingPathComponent("without.yaml").path
        try FileBackend.write(Self.seed(), to: without)
        let plain = try await SimulatedControlPlane(exportFile: without)
        #expect(await plain.assessmentFacts() == nil)
    }

    @Test func aBrokenExportFileIsAnErrorNamingTheFile() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("simapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("broken.yaml").path
        try "consumerGroups:\n  - {id: x, name: [\n".write(toFile: path, atomically: true, encoding: .utf8)
        await #expect {
            try await SimulatedControlPlane(exportFile: path)
        } throws: { error in
            "\(error)".contains("broken.yaml")
        }
        await #expect(throws: MigrationError.self) {
            try await SimulatedControlPlane(exportFile: folder.appendingPathComponent("missing.yaml").path)
        }
    }

    @Test func aSeedThatContradictsItselfIsRefused() async throws {
        var seed = Self.seed()
        seed.subscriptions[0].consumerGroupIds.append("ghost")
        await expectAPIError("InvalidSeed") { try SimulatedControlPlane(snapshot: seed) }
        seed = Self.seed()
        seed.consumerGroups.append(seed.consumerGroups[0])
        await expectAPIError("InvalidSeed") { try SimulatedControlPlane(snapshot: seed) }
    }

    @Test func newIdsAreShapedAsThePlatformsAndNeverReuseSeededOnes() async throws {
        let plane = try SimulatedControlPlane(snapshot: Self.seed())
        let group = try await plane.createConsumerGroup(name: "shape_test")
        #expect(group.id.wholeMatch(of: /[A-Za-z0-9]{20}000100/) != nil)
        let other = try await plane.createConsumerGroup(name: "shape_test2")
        #expect(other.id != group.id)

        let rule = OldRule(id: "", name: "r2", topic: "/a1pk0000001/+/user/x", select: "*")
        let ruleId = try await plane.createRule(rule)
        #expect(Int64(ruleId)! > 200_500)
        let actionId = try await plane.createRuleAction(
            ruleId: ruleId,
            action: RuleAction(type: "REPUBLISH", configuration: #"{"topic":"/a/b/user/c","topicType":1}"#),
            isErrorAction: false
        )
        #expect(Int64(actionId) != nil)
        let seededActionId = try #require(await plane.rule(id: "200500").actions.first?.id)
        #expect(actionId != seededActionId)
        let destination = try await plane.createDestination(
            Destination(id: "", name: "d", type: "AMQP", configuration: #"{"groupId":"\#(group.id)"}"#)
        )
        #expect(Int64(destination.id)! >= 1001)
    }

    @Test func consumerGroupChecks() async throws {
        let plane = try SimulatedControlPlane(snapshot: Self.seed())
        await expectAPIError("iot.consumergroup.InvalidGroupName") {
            try await plane.createConsumerGroup(name: "no")
        }
        await expectAPIError("iot.consumergroup.InvalidGroupName") {
            try await plane.createConsumerGroup(name: "has-dash")
        }
        await expectAPIError("iot.consumergroup.GroupNameExisted") {
            try await plane.createConsumerGroup(name: "orders")
        }
        await expectAPIError("iot.consumergroup.GroupHasSubscribeRelation") {
            try await plane.deleteConsumerGroup(id: "gOrders0000000000000000100")
        }
        await expectAPIError("iot.consumergroup.NotExist") {
            try await plane.deleteConsumerGroup(id: "nope")
        }
        let spare = try await plane.createConsumerGroup(name: "spare")
        try await plane.deleteConsumerGroup(id: spare.id)
        #expect(await !plane.consumerGroupIds().contains(spare.id))
    }

    @Test func subscriptionChecks() async throws {
        let enterprise = try SimulatedControlPlane(snapshot: Self.seed(), iotInstanceId: "iot-06z00ab1cd2ef3")
        await expectAPIError("iot.subscribe.AllFlagsFalse") {
            try await enterprise.createSubscribeRelation(
                SubscribeRelation(
                    productKey: "p2",
                    type: .amqp,
                    flags: [],
                    consumerGroupIds: ["gOrders0000000000000000100"]
                )
            )
        }
        await expectAPIError("InvalidParameter") {
            try await enterprise.createSubscribeRelation(
                SubscribeRelation(productKey: "p2", type: .amqp, flags: [.deviceData])
            )
        }
        await expectAPIError("iot.consumergroup.NotExist") {
            try await enterprise.createSubscribeRelation(
                SubscribeRelation(productKey: "p2", type: .amqp, flags: [.deviceData], consumerGroupIds: ["ghost"])
            )
        }
        await expectAPIError("iot.subscribe.TypeNotSupported") {
            try await enterprise.createSubscribeRelation(
                SubscribeRelation(productKey: "p2", type: .mns, flags: [.deviceData], mnsConfiguration: "{}")
            )
        }
        await expectAPIError("iot.subscribe.SubscribeRelationExisted") {
            try await enterprise.createSubscribeRelation(
                SubscribeRelation(
                    productKey: "a1pk0000001",
                    type: .amqp,
                    flags: [.deviceData],
                    consumerGroupIds: ["gOrders0000000000000000100"]
                )
            )
        }
        await expectAPIError("iot.subscribe.SubscribeRelationNotExist") {
            try await enterprise.deleteSubscribeRelation(productKey: "p9", type: .amqp)
        }
        // The legacy instance takes MNS, but not an AMQP-only flag on it.
        let legacy = try SimulatedControlPlane(snapshot: Self.seed())
        await expectAPIError("InvalidParameter") {
            try await legacy.createSubscribeRelation(
                SubscribeRelation(productKey: "p3", type: .mns, flags: [.otaJob], mnsConfiguration: "{}")
            )
        }
        try await legacy.createSubscribeRelation(
            SubscribeRelation(productKey: "p3", type: .mns, flags: [.deviceData], mnsConfiguration: "{}")
        )
        #expect(await legacy.listProducts().contains("p3"))
    }

    @Test func ruleLimitsAndStates() async throws {
        let plane = try SimulatedControlPlane(snapshot: Self.seed())
        let id = try await plane.createRule(OldRule(id: "x", name: "limits", topic: "/p/+/user/x", select: "*"))
        let republish = RuleAction(type: "REPUBLISH", configuration: #"{"topic":"/p/d/user/y","topicType":1}"#)
        for _ in 0..<SimulatedControlPlane.maxActionsPerRule {
            _ = try await plane.createRuleAction(ruleId: id, action: republish, isErrorAction: false)
        }
        await expectAPIError("iot.rule.TooManyActions") {
            try await plane.createRuleAction(ruleId: id, action: republish, isErrorAction: false)
        }
        await expectAPIError("iot.rule.SameDestinationForErrorAction") {
            try await plane.createRuleAction(ruleId: id, action: republish, isErrorAction: true)
        }
        let fc = RuleAction(type: "FC", configuration: #"{"functionName":"f","serviceName":"s"}"#)
        _ = try await plane.createRuleAction(ruleId: id, action: fc, isErrorAction: true)
        await expectAPIError("iot.rule.TooManyErrorActions") {
            try await plane.createRuleAction(ruleId: id, action: fc, isErrorAction: true)
        }
        await expectAPIError("iot.consumergroup.NotExist") {
            try await plane.createRuleAction(
                ruleId: "200500",
                action: RuleAction(type: "AMQP", configuration: #"{"groupId":"ghost"}"#),
                isErrorAction: false
            )
        }
        await expectAPIError("iot.rule.InvalidFormattedConfiguration") {
            try await plane.createRuleAction(
                ruleId: "200500",
                action: RuleAction(type: "REPUBLISH", configuration: "not json"),
                isErrorAction: false
            )
        }
        let actions = try await plane.listRuleActions(ruleId: id)
        #expect(actions.count == 11)
        #expect(actions.last?.isErrorAction == true)

        try await plane.startRule(id: id)
        await expectAPIError("iot.rule.RuleIsRunning") { try await plane.deleteRule(id: id) }
        try await plane.stopRule(id: id)
        try await plane.deleteRule(id: id)
        await expectAPIError("iot.rule.NotExist") { try await plane.rule(id: id) }
        await expectAPIError("InvalidParameter") {
            try await plane.createRule(OldRule(id: "", name: "notopic", select: "*"))
        }
    }

    @Test func parserLimitsAndPublishing() async throws {
        let plane = try SimulatedControlPlane(snapshot: Self.seed())
        let source = try await plane.createDataSource(name: "ds")
        _ = try await plane.createDataSourceItem(dataSourceId: source.id, item: DataSourceItem(topic: "/p/+/user/#"))
        await expectAPIError("iot.datasource.TopicExisted") {
            try await plane.createDataSourceItem(dataSourceId: source.id, item: DataSourceItem(topic: "/p/+/user/#"))
        }
        let parser = try await plane.createParser(name: "p")
        try await plane.attachDataSource(parserId: parser, dataSourceId: source.id)
        var destinations: [String] = []
        for n in 0...SimulatedControlPlane.maxDestinationsPerParser {
            let made = try await plane.createDestination(
                Destination(id: "", name: "d\(n)", type: "REPUBLISH", configuration: #"{"productKey":"p"}"#)
            )
            destinations.append(made.id)
        }
        for id in destinations.prefix(SimulatedControlPlane.maxDestinationsPerParser) {
            try await plane.attachDestination(parserId: parser, destinationId: id, isFailover: false)
        }
        await expectAPIError("iot.parser.TooManyDestinations") {
            try await plane.attachDestination(parserId: parser, destinationId: destinations.last!, isFailover: false)
        }
        await expectAPIError("iot.parser.DestinationAttached") {
            try await plane.attachDestination(parserId: parser, destinationId: destinations[0], isFailover: false)
        }
        try await plane.attachDestination(parserId: parser, destinationId: destinations.last!, isFailover: true)

        try await plane.saveScript(parserId: parser, draft: "writeAmqp(999999, payload(\"json\"), \"t\");")
        #expect(try await plane.publishScript(parserId: parser) == "destination 999999 does not exist")
        #expect(try await plane.parser(id: parser).script == nil)
        try await plane.saveScript(parserId: parser, draft: "writeIotTopic(\(destinations[0]), \"/p/d/user/get\", 1);")
        #expect(try await plane.publishScript(parserId: parser) == nil)
        #expect(try await plane.parser(id: parser).script?.contains(destinations[0]) == true)
        await expectAPIError("iot.parser.ScriptTooLarge") {
            try await plane.saveScript(parserId: parser, draft: String(repeating: "x", count: 120 * 1024 + 1))
        }

        await expectAPIError("iot.destination.DestinationIsUsed") {
            try await plane.deleteDestination(id: destinations[0])
        }
        await expectAPIError("iot.datasource.DataSourceIsUsed") {
            try await plane.deleteDataSource(id: source.id)
        }
        try await plane.startParser(id: parser)
        await expectAPIError("iot.parser.ParserIsRunning") { try await plane.deleteParser(id: parser) }
        try await plane.stopParser(id: parser)
        try await plane.deleteParser(id: parser)
        try await plane.deleteDestination(id: destinations[0])
        try await plane.deleteDataSource(id: source.id)
        #expect(await plane.listParsers().isEmpty)
    }

    @Test func aRefusedChangeLeavesNothingAndObserversSeeEveryChange() async throws {
        let plane = try SimulatedControlPlane(snapshot: Self.seed())
        let before = await plane.snapshot()
        var changes = await plane.changes().makeAsyncIterator()
        #expect(await changes.next() == 0)
        await #expect(throws: SimulatedAPIError.self) { try await plane.createConsumerGroup(name: "orders") }
        #expect(await plane.snapshot() == before)
        #expect(await plane.revision() == 0)
        _ = try await plane.createConsumerGroup(name: "observed")
        #expect(await changes.next() == 1)
        #expect(await plane.revision() == 1)
    }
}

/// Expects `body` to throw a ``SimulatedAPIError`` with this platform code (messages are free text).
func expectAPIError<T>(
    _ code: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as SimulatedAPIError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
