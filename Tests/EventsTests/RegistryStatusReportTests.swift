//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import StateStore
import Testing

/// Grayscale verification: every device lands in the state its registry row and sightings say.
@Suite struct RegistryStatusReportTests {
    static let target = "iot-t"

    static func activity(
        _ name: String,
        migratedAt: Int64?,
        seen: [String: Int64]
    ) -> DeviceActivity {
        DeviceActivity(
            record: RegistryRecord(
                device: DeviceKey(productKey: "pk", deviceName: name),
                iotInstanceId: migratedAt == nil ? "" : Self.target,
                sourceInstanceId: "",
                updatedAt: migratedAt ?? 0,
                migrationId: migratedAt == nil ? "" : "m",
                sequence: migratedAt == nil ? 0 : 1
            ),
            lastSeen: seen
        )
    }

    @Test func classification() {
        #expect(RegistryStatusReport.classify(Self.activity("a", migratedAt: 100, seen: [Self.target: 150])) == .reportingOnTarget)
        #expect(RegistryStatusReport.classify(Self.activity("b", migratedAt: 100, seen: [Self.target: 150, "": 160])) == .reportingOnBoth)
        // Seen on the source only before the move: that was normal, it is not "both".
        #expect(RegistryStatusReport.classify(Self.activity("c", migratedAt: 100, seen: [Self.target: 150, "": 90])) == .reportingOnTarget)
        #expect(RegistryStatusReport.classify(Self.activity("d", migratedAt: 100, seen: ["": 160])) == .silent)
        #expect(RegistryStatusReport.classify(Self.activity("e", migratedAt: 100, seen: [Self.target: 90])) == .silent)
        #expect(RegistryStatusReport.classify(Self.activity("f", migratedAt: nil, seen: ["": 10])) == .onSource)
        #expect(RegistryStatusReport.classify(Self.activity("g", migratedAt: nil, seen: ["": 10, Self.target: 20])) == .reportingOnBoth)
    }

    @Test func silentBeyondTheThresholdFails() {
        var report = RegistryStatusReport(now: 1_000, silenceThreshold: 500)
        report.add([Self.activity("a", migratedAt: 600, seen: [:]), Self.activity("b", migratedAt: nil, seen: [:])])
        #expect(!report.hasSilentDevices)
        #expect(report.products.first?.counts == [.silent: 1, .onSource: 1])
        report.add([Self.activity("c", migratedAt: 400, seen: ["": 900])])
        #expect(report.hasSilentDevices)
        #expect(report.attention.map(\.record.device.deviceName) == ["a", "c"])
        #expect(report.attention.last?.lastSeen == 900)
    }
}
