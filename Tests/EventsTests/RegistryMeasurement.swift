//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Foundation
import StateStore
import Testing

/// How fast the registry seeds and answers with the platform's 500,000 devices per product: printed, never
/// asserted (a shared machine's figures vary). Off unless `IOTBRIDGE_MEASURE` is set; Benchmarks/registry/run.sh
/// runs it (release build) and records the figures in Benchmarks/README.md:
///
///     IOTBRIDGE_MEASURE=1 swift test -c release --filter RegistryMeasurement
///
/// `IOTBRIDGE_MEASURE_DEVICES` changes the count (default 500,000); `IOTBRIDGE_MEASURE_STATE` keeps the store at a
/// path (for the baseline that reads the same file).
@Suite struct RegistryMeasurement {
    static let environment = ProcessInfo.processInfo.environment

    @Test(.enabled(if: Self.environment["IOTBRIDGE_MEASURE"] != nil))
    func importAndLookUpHalfAMillionDevices() async throws {
        let total = Int(Self.environment["IOTBRIDGE_MEASURE_DEVICES"] ?? "") ?? 500_000
        let folder = try EventsFolder()
        let path = Self.environment["IOTBRIDGE_MEASURE_STATE"] ?? folder.statePath
        try? FileManager.default.removeItem(atPath: path)
        let store = try SQLiteStateStore(path: path)
        let devices = (0..<total).map { DeviceKey(productKey: "a1B2c3D4e5F", deviceName: "device-\($0)") }
        let clock = ContinuousClock()

        // The CSV import's work: batches of 10,000 seeds, one transaction each.
        var began = clock.now
        for start in stride(from: 0, to: total, by: 10_000) {
            let seeds = devices[start..<min(start + 10_000, total)].map { RegistrySeed(device: $0, iotInstanceId: "") }
            _ = try await store.seed(seeds, at: 1)
        }
        let seeding = clock.now - began

        // Lookups in random order, one call each, as `GET /instances/{pk}/{dn}` and the bridge make them.
        var latencies: [Duration] = []
        latencies.reserveCapacity(total)
        var found = 0
        began = clock.now
        for device in devices.shuffled() {
            let start = clock.now
            if try await store.lookup(device) != nil { found += 1 }
            latencies.append(clock.now - start)
        }
        let looking = clock.now - began
        #expect(found == total)
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            let index = min(latencies.count - 1, Int(Double(latencies.count) * p))
            return Self.milliseconds(latencies[index])
        }
        let size = Self.fileSize(path) + Self.fileSize(path + "-wal")
        print(
            """
            registry measurement: \(total) devices
              seed: \(String(format: "%.2f", Self.seconds(seeding))) s \
            (\(Int(Double(total) / Self.seconds(seeding))) devices/s)
              lookup: \(Int(Double(total) / Self.seconds(looking))) lookups/s, \
            p50 \(String(format: "%.3f", percentile(0.5))) ms, p99 \(String(format: "%.3f", percentile(0.99))) ms, \
            max \(String(format: "%.3f", Self.milliseconds(latencies.last ?? .zero))) ms
              file: \(size / 1_000_000) MB (with WAL)
            """
        )
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func milliseconds(_ duration: Duration) -> Double { Self.seconds(duration) * 1000 }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}
