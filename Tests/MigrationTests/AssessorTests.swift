//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import Testing

/// The checklist answered from facts, without I/O: each category, unknown facts as questions, answers.
struct AssessorTests {
    static let legacy = InstanceIdentity(kind: "aliyun", regionId: "cn-shanghai", iotInstanceId: "")
    static let enterprise = InstanceIdentity(kind: "aliyun", regionId: "cn-shanghai", iotInstanceId: "iot-ent")

    func item(
        _ report: AssessmentReport, _ check: String, product: String? = nil, subject: String? = nil
    )
        -> AssessmentItem?
    {
        report.items.first { $0.check == check && $0.product == product && (subject == nil || $0.subject == subject) }
    }

    @Test func theLegacyFixtureHitsEveryCategory() async throws {
        let source = try await loadFixture("source-legacy.yaml")
        let facts = InstanceFacts(
            products: [
                ProductFacts(
                    productKey: "a1Prod00001",
                    deviceCount: 1_200,
                    onlineCount: 300,
                    owner: true,
                    authType: "secret",
                    nodeType: 1,
                    otaJobs: [
                        OTAJobFacts(jobId: "J1", firmwareId: "F1", status: "IN_PROGRESS"),
                        OTAJobFacts(jobId: "J0", firmwareId: "F1", status: "COMPLETE"),
                    ]
                ),
                ProductFacts(productKey: "a1Prod00002", deviceCount: 600_000, owner: false, authType: "secret"),
                ProductFacts(productKey: "a1Prod00003", unavailable: [FactName.product: "QueryProduct is missing"]),
            ],
            consumerGroups: [
                ConsumerGroupFacts(id: "Gorders0000000000000000001", connectedClients: ["c1", "c2"]),
                ConsumerGroupFacts(id: "Gtelemetry00000000000000002", connectedClients: []),
            ]
        )
        let report = Assessor(options: MigrationOptions()).assess(
            source: source,
            sourceFacts: facts,
            target: Self.enterprise,
            targetFacts: InstanceFacts(onlineDeviceSpec: 10_000)
        )
        #expect(report.verdict == .blocked)
        #expect(Set(report.items(.blocked).compactMap(\.product)) == ["a1Prod00002"])
        // The target's specification is too small for all three: a whole-migration block blocks every product.
        #expect(report.blockedProducts == ["a1Prod00001", "a1Prod00002", "a1Prod00003"])
        #expect(item(report, "product.authorized", product: "a1Prod00002")?.category == .blocked)
        #expect(item(report, "capacity.devices-per-product", product: "a1Prod00002")?.category == .blocked)
        #expect(item(report, "capacity.devices-per-product", product: "a1Prod00001")?.category == .capacity)
        // 601,200 known devices against a spec of 10,000, and a1Prod00003's count is unknown.
        let online = try #require(item(report, "capacity.target-online-devices"))
        #expect(online.category == .blocked)
        #expect(online.finding.contains("at least 601200"))
        let ota = try #require(item(report, "ota.active-jobs", product: "a1Prod00001", subject: "ota-job:J1"))
        #expect(ota.category == .actionBefore)
        #expect(ota.nextStep.contains("stop OTA job J1"))
        #expect(item(report, "ota.active-jobs", product: "a1Prod00001", subject: "ota-job:J0") == nil)
        let mns = try #require(item(report, "subscription.mns", product: "a1Prod00002"))
        #expect(mns.nextStep.contains("becomes an AMQP subscription on consumer group a1Prod00002_amqp"))
        #expect(item(report, "subscription.http2", product: "a1Prod00003")?.category == .actionBefore)
        let clients = try #require(
            item(report, "consumer-group.connected-clients", product: "a1Prod00001", subject: "consumer-group:orders")
        )
        #expect(clients.category == .actionBefore)
        #expect(clients.finding.contains("2 connected clients"))
        #expect(clients.nextStep.contains("second client"))
        #expect(
            item(
                report, "consumer-group.connected-clients", product: "a1Prod00001", subject: "consumer-group:telemetry")?
                .category == .passed
        )
        #expect(item(report, "forwarding.consumer-group-id", product: "a1Prod00001", subject: "rule:temp_alarm") != nil)
        #expect(
            item(report, "forwarding.consumer-group-id", product: "a1Prod00001", subject: "parser:parser_hot") != nil)
        #expect(item(report, "forwarding.consumer-group-id", product: "a1Prod00003", subject: "rule:raw_binary") != nil)
        #expect(item(report, "product.gateway", product: "a1Prod00001")?.category == .actionBefore)
        let after = try #require(item(report, "api.iot-instance-id", product: "a1Prod00001"))
        #expect(after.category == .actionAfter)
        #expect(after.nextStep.contains("IotInstanceId=iot-ent"))
        #expect(
            item(report, "consumer.new-group-id", product: "a1Prod00001", subject: "consumer-group:orders")?.category
                == .actionAfter
        )
        // Unknown facts are asked, with the reason, never assumed.
        let asked = try #require(item(report, "product.authorized", product: "a1Prod00003"))
        #expect(asked.category == .question)
        #expect(asked.finding.contains("QueryProduct is missing"))
        #expect(asked.nextStep.contains("--answer a1Prod00003:product.authorized=yes"))
        #expect(item(report, "device.reconnect")?.category == .question)
        #expect(item(report, "capacity.concurrent-tasks")?.category == .capacity)
        for category in AssessmentCategory.allCases {
            #expect(report.summary[category.rawValue, default: 0] > 0, "\(category) is hit")
        }
    }

    @Test func answersTurnQuestionsIntoOutcomesAndAReadyVerdict() throws {
        let source = InstanceSnapshot(identity: Self.legacy, products: ["pkReady"])
        let facts = InstanceFacts(
            products: [
                ProductFacts(
                    productKey: "pkReady", deviceCount: 10, owner: true, authType: "secret", nodeType: 0, otaJobs: [])
            ]
        )
        var answers = try AssessmentAnswers(parsing: [
            "product.data-service=no", "product.video=no", "product.edge-or-living-link=no", "device.nb-iot=no",
            "device.distributed=no", "device.reconnect=yes", "capacity.target-online-devices=yes",
            "subscription.http2=no",
        ])
        var report = Assessor(options: MigrationOptions(), answers: answers).assess(
            source: source,
            sourceFacts: facts,
            target: Self.enterprise,
            targetFacts: InstanceFacts()
        )
        #expect(
            report.verdict == .ready,
            "\(report.items.filter { $0.category == .question || $0.category == .actionBefore })")
        #expect(report.exitStatus == 0)
        #expect(item(report, "device.reconnect")?.answer == "yes")
        #expect(item(report, "api.iot-instance-id", product: "pkReady")?.category == .actionAfter)
        // A "no" to reconnection is an action before migrating; a product-scoped answer wins over the global one.
        answers.set("device.reconnect", false)
        answers.set("product.video", product: nil, true)
        report = Assessor(options: MigrationOptions(), answers: answers).assess(
            source: source,
            sourceFacts: facts,
            target: Self.enterprise,
            targetFacts: InstanceFacts()
        )
        #expect(item(report, "device.reconnect")?.category == .actionBefore)
        #expect(item(report, "product.video")?.category == .blocked)
        #expect(report.blockedProducts == ["pkReady"], "a whole-migration block blocks every product")
        #expect(report.exitStatus == 1)
    }

    /// With no device count at all (an export without `assessment:`), the question says the number is unknown
    /// instead of asking about "at least 0 devices".
    @Test func noDeviceCountAtAllIsSaidToBeUnknown() throws {
        let source = InstanceSnapshot(identity: Self.legacy, products: ["pk1", "pk2"])
        let report = Assessor(options: MigrationOptions()).assess(
            source: source,
            sourceFacts: InstanceFacts(),
            target: Self.enterprise,
            targetFacts: InstanceFacts()
        )
        let online = try #require(item(report, "capacity.target-online-devices"))
        #expect(online.category == .question)
        #expect(online.finding.hasPrefix("Does the target's online-device specification exceed the (unknown) number of devices"), "\(online.finding)")
        #expect(!online.finding.contains("at least 0"))
    }

    @Test func wrongInstancesAreBlockedForEveryProduct() {
        let source = InstanceSnapshot(identity: Self.enterprise, products: ["pk1", "pk2"])
        let report = Assessor(options: MigrationOptions()).assess(
            source: source,
            sourceFacts: InstanceFacts(),
            target: InstanceIdentity(kind: "aliyun", regionId: "cn-beijing", iotInstanceId: "iot-other"),
            targetFacts: InstanceFacts()
        )
        #expect(item(report, "instance.source-legacy")?.category == .blocked)
        let target = item(report, "instance.target-enterprise")
        #expect(target?.category == .blocked)
        #expect(target?.finding.contains("cn-beijing") == true)
        #expect(report.blockedProducts == ["pk1", "pk2"])
    }

    @Test func answersNameTheirProducts() throws {
        let answers = try AssessmentAnswers(parsing: [
            "pk2:device.reconnect=yes", "product.video=no", "pk1:ota.active-jobs=no",
        ])
        #expect(answers.products == ["pk1", "pk2"])
        #expect(answers.answer("device.reconnect", product: "pk2") == true)
        #expect(answers.answer("device.reconnect", product: "pk1") == nil)
        #expect(answers.answer("product.video", product: "pk1") == false)
    }

    @Test func badAnswersAreRefusedWithTheValue() {
        #expect(throws: MigrationError.self) { try AssessmentAnswers(parsing: ["device.reconnect=maybe"]) }
        do {
            _ = try AssessmentAnswers(parsing: ["pk1:device.reconect=yes"])
            Issue.record("an unknown check was accepted")
        } catch let error as MigrationError {
            #expect(error.message.contains("unknown check device.reconect"))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func anExportKeepsItsAssessmentSectionThroughWrites() async throws {
        let folder = try Support.temporaryFolder()
        let path = folder.appendingPathComponent("source.yaml").path
        var text = try String(contentsOfFile: Support.fixture("source-legacy.yaml"), encoding: .utf8)
        text += "assessment:\n  products:\n    - {productKey: a1Prod00001, deviceCount: 7, owner: true}\n"
        text += "  onlineDeviceSpec: 1000\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        // A run with stopSourceRules writes the file back: the facts must survive it.
        try await FileBackend(path: path).stopRule(id: "9001")
        let reopened = try FileBackend(path: path)
        let facts = try await reopened.assessmentFacts(products: [], consumerGroupIds: [])
        #expect(facts.product("a1Prod00001")?.deviceCount == 7)
        #expect(facts.onlineDeviceSpec == 1000)
        #expect(try await reopened.listRules().first { $0.id == "9001" }?.status == .stopped)
        #expect(try await reopened.listConsumerGroups().count == 3)
    }

    @Test func theReportIsStableWhateverOrderTheFactsCameIn() async throws {
        let source = try await loadFixture("source-legacy.yaml")
        var shuffled = source
        shuffled.products.reverse()
        shuffled.rules.reverse()
        shuffled.subscriptions.reverse()
        let assess = { (snapshot: InstanceSnapshot) in
            try Assessor(options: MigrationOptions()).assess(
                source: snapshot,
                sourceFacts: InstanceFacts(),
                target: Self.enterprise,
                targetFacts: InstanceFacts()
            ).json()
        }
        #expect(try assess(source) == assess(shuffled))
        #expect(try !assess(source).contains("generatedAt"))
    }
}
