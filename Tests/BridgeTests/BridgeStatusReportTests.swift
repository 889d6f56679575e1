//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Logging
import StateStore
import Testing

@testable import Bridge

/// `/status`: every figure the dashboard and `iotbridge status` show, from fixed statistics, and the registry and
/// outbox totals read from a real state file.
@Suite struct BridgeStatusReportTests {
    let folder: String = {
        let path = NSTemporaryDirectory() + "bridge-status-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func configuration() throws -> BridgeConfiguration {
        let result = BridgeConfigurationLoader(environment: [:]).load(
            text: """
                state: bridge.sqlite
                upstreams:
                  - { name: source, url: "amqp://127.0.0.1:1/queue/source", auth: { kind: anonymous }, connections: 2 }
                  - { name: target, url: "amqp://127.0.0.1:1/queue/target", auth: { kind: anonymous } }
                sinks:
                  - { name: log, kind: jsonl, path: out.jsonl }
                deadLetter: { kind: jsonl, path: dead.jsonl }
                """,
            file: self.folder + "/bridge.yaml"
        )
        return try #require(result.configuration, "\(result.diagnostics)")
    }

    func parse(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func reportCarriesEveryCounterAndTheTimestamp() throws {
        var statistics = BridgeStatistics()
        statistics.state = "flowing"
        statistics.upstreams["source"] = .init(state: "flowing", received: 120, duplicatesOf: ["target": 7, "source": 1])
        statistics.upstreams["target"] = .init(state: "stalled", received: 30, duplicatesOf: ["source": 2])
        statistics.forwarded = 140
        statistics.settled = 150
        statistics.storeTotals = .init(
            devices: 200,
            devicesMigrated: 67,
            devicesByInstance: ["": 133, "iot-target": 67],
            eventsEmitted: 70,
            eventsPending: 3,
            readAt: 41.5
        )
        var merged = SinkState(phase: "flowing", inFlight: 4, confirmed: 136, refused: 2, retries: 5)
        merged.lastError = "timeout"
        let json = try self.parse(
            Bridge.renderStatus(
                statistics: statistics,
                configuration: try self.configuration(),
                sinks: [("log", merged), ("deadLetter", SinkState(phase: "flowing", confirmed: 2))],
                run: "run-x",
                time: 1_790_000_000_123,
                uptimeSeconds: 42.25,
                migration: nil
            )
        )
        #expect(json["time"] as? Int == 1_790_000_000_123)
        #expect(json["uptimeSeconds"] as? Double == 42.25)
        #expect(json["run"] as? String == "run-x")
        let upstreams = try #require(json["upstreams"] as? [[String: Any]])
        #expect(upstreams.map { $0["name"] as? String } == ["source", "target"])
        #expect(upstreams.map { $0["received"] as? Int } == [120, 30])
        #expect(upstreams.map { $0["duplicates"] as? Int } == [8, 2])
        #expect(upstreams.map { $0["state"] as? String } == ["flowing", "stalled"])
        let mergedStream = try #require(json["merged"] as? [String: Any])
        #expect(mergedStream["forwarded"] as? Int == 140)
        #expect(mergedStream["duplicatesDropped"] as? Int == 10)
        let sinks = try #require(json["sinks"] as? [[String: Any]])
        #expect(sinks.first?["confirmed"] as? Int == 136)
        #expect(sinks.first?["refused"] as? Int == 2)
        #expect(sinks.first?["inFlight"] as? Int == 4)
        #expect(sinks.first?["lastError"] as? String == "timeout")
        let devices = try #require(json["devices"] as? [String: Any])
        #expect(devices["known"] as? Int == 200)
        #expect(devices["migrated"] as? Int == 67)
        #expect((devices["byInstance"] as? [String: Int]) == ["": 133, "iot-target": 67])
        let events = try #require(json["events"] as? [String: Any])
        #expect(events["emitted"] as? Int == 70)
        #expect(events["pending"] as? Int == 3)
    }

    @Test func withoutStoreTotalsTheReportLeavesDevicesAndEventsOut() throws {
        let json = try self.parse(
            Bridge.renderStatus(
                statistics: BridgeStatistics(),
                configuration: try self.configuration(),
                sinks: [],
                run: "run-y",
                time: 1,
                uptimeSeconds: 0,
                migration: nil
            )
        )
        #expect(json["devices"] == nil)
        #expect(json["events"] == nil)
        #expect((json["merged"] as? [String: Any])?["forwarded"] as? Int == 0)
    }

    @Test func storeTotalsCountMigratedDevicesAndEveryEventWritten() async throws {
        let bridge = try Bridge(configuration: try self.configuration(), engine: AMQPEngine(), logger: Logger(label: "test"))
        let registry = try #require(bridge.registry)
        let devices = (1...5).map { DeviceKey(productKey: "a1PK", deviceName: "d\($0)") }
        _ = try await registry.seed(devices.map { RegistrySeed(device: $0, iotInstanceId: "") }, at: 1)
        _ = await bridge.refreshStoreTotals()
        var totals = try #require(bridge.currentStatistics.storeTotals)
        #expect(totals.devices == 5 && totals.devicesMigrated == 0 && totals.eventsEmitted == 0)
        // Two devices move to the target: two events, two registry rows.
        let drafts = devices.prefix(2).enumerated().map { index, device in
            OutboxDraft(
                id: "e\(index)",
                type: "com.iotbridge.migration.device.migrated",
                source: "test",
                subject: device.description,
                time: 10 + Int64(index),
                migrationId: "m1",
                data: "{}",
                registryUpdate: RegistryUpdate(device: device, iotInstanceId: "iot-target", sourceInstanceId: "")
            )
        }
        let written = try await registry.commit(drafts)
        try await #require(bridge.outbox).markDelivered(positions: [written[0].position])
        _ = await bridge.refreshStoreTotals()
        totals = try #require(bridge.currentStatistics.storeTotals)
        #expect(totals.devices == 5)
        #expect(totals.devicesMigrated == 2)
        #expect(totals.devicesByInstance == ["": 3, "iot-target": 2])
        #expect(totals.eventsEmitted == 2)
        #expect(totals.eventsPending == 1)
        let json = try self.parse(bridge.statusJSON())
        #expect((json["devices"] as? [String: Any])?["migrated"] as? Int == 2)
        #expect((json["events"] as? [String: Any])?["emitted"] as? Int == 2)
        #expect((json["time"] as? Int ?? 0) > 1_700_000_000_000)
    }
}
