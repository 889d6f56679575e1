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

/// `iotbridge demo`'s verdict: lost and duplicates come from the sets it is given, the exit status from them and
/// the registry; the scenario seeds valid instances; the timeline moves every device.
@Suite("Demo: the report's arithmetic, the scenario and the timeline")
struct DemoReportTests {
    static func report(
        published: Set<String>,
        deliveries: [String],
        registry: [(registry: String?, actual: String)] = [("iot-t", "iot-t")]
    ) -> DemoReport {
        DemoReport(
            published: published,
            deliveries: deliveries,
            duplicatesDropped: 7,
            eventsEmitted: 3,
            devicesMigrated: 1,
            registry: registry,
            drainSeconds: 0.25,
            drained: true
        )
    }

    @Test("everything delivered once: 0 lost, 0 duplicates, exit 0")
    func clean() {
        let report = Self.report(published: ["1", "2", "3"], deliveries: ["2", "1", "3"])
        #expect(report.published == 3)
        #expect(report.deliveredUnique == 3)
        #expect(report.lost == 0)
        #expect(report.duplicates == 0)
        #expect(report.passed)
        #expect(report.exitStatus == 0)
    }

    @Test("a published messageId never delivered is lost, and named; exit 1")
    func lost() {
        let report = Self.report(published: ["1", "2", "3", "4"], deliveries: ["1", "3"])
        #expect(report.lost == 2)
        #expect(report.lostSample == ["2", "4"])
        #expect(report.deliveredUnique == 2)
        #expect(report.exitStatus == 1)
        #expect(report.text.contains("lost               2 e.g. 2, 4"))
    }

    @Test("each delivery beyond the first of its messageId is a duplicate; exit 1")
    func duplicates() {
        let report = Self.report(published: ["1", "2"], deliveries: ["1", "2", "1", "1", "2"])
        #expect(report.duplicates == 3)
        #expect(report.lost == 0)
        #expect(report.deliveredUnique == 2)
        #expect(report.exitStatus == 1)
    }

    @Test("a delivery nobody published is counted as unexpected and fails the run")
    func unexpected() {
        let report = Self.report(published: ["1"], deliveries: ["1", "9"])
        #expect(report.unexpected == 1)
        #expect(report.lost == 0)
        #expect(report.duplicates == 0)
        #expect(!report.passed)
    }

    @Test("a device the registry misplaces or does not know makes the registry wrong; exit 1")
    func registry() {
        let wrong = Self.report(published: ["1"], deliveries: ["1"], registry: [("iot-t", "iot-t"), ("", "iot-t"), (nil, "iot-t")])
        #expect(wrong.registryWrong == 2)
        #expect(!wrong.registryCorrect)
        #expect(wrong.exitStatus == 1)
        let right = Self.report(published: ["1"], deliveries: ["1"], registry: [("iot-t", "iot-t"), ("", "")])
        #expect(right.registryCorrect)
        #expect(right.exitStatus == 0)
    }

    @Test("nothing published is not a pass")
    func nothingPublished() {
        #expect(Self.report(published: [], deliveries: []).exitStatus == 1)
    }

    @Test("the JSON report has the keys the issue names")
    func json() throws {
        let report = Self.report(published: ["1", "2"], deliveries: ["1"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        for key in ["published", "deliveredUnique", "lost", "duplicates", "eventsEmitted", "devicesMigrated", "registryCorrect"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["lost"] as? Int == 1)
        #expect(object["registryCorrect"] as? Bool == true)
        #expect(!report.json.contains("\n"))
    }

    @Test("the scenario seeds a valid source: a group, AMQP and MNS subscriptions, rules; devices split over two products")
    func scenario() async throws {
        let scenario = DemoScenario(devices: 5, accessKeySecret: "s")
        let plane = try SimulatedControlPlane(snapshot: scenario.sourceSnapshot, iotInstanceId: "")
        let snapshot = await plane.snapshot()
        #expect(snapshot.consumerGroups.map(\.name) == ["backend"])
        #expect(snapshot.subscriptions.contains { $0.type == .mns })
        #expect(snapshot.rules.count == 2)
        #expect(scenario.deviceList.count == 5)
        #expect(Set(scenario.deviceList.map(\.productKey)) == [DemoScenario.amqpProduct, DemoScenario.mnsProduct])
        #expect(Set(scenario.deviceList).count == 5)
    }

    @Test("the timeline: three quarter batches, then the full migration, all before the end")
    func timeline() {
        let timeline = DemoTimeline(duration: .seconds(20))
        #expect(timeline.steps.map { $0.step } == [.batch(number: 1, of: 4), .batch(number: 2, of: 4), .batch(number: 3, of: 4), .full])
        #expect(timeline.steps.map { $0.at } == [.seconds(3), .seconds(6), .seconds(9), .seconds(12)])
        #expect(timeline.syncWindow == .seconds(3))
        #expect(timeline.end == .seconds(20))
    }
}
