//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Foundation
import StateStore

/// The registry with the platform's 500,000 devices per product: seeds them in batches of 10,000 (the work of
/// `registry import`), looks each up once in random order timing every call, then commits a burst of
/// `device.migrated` events with their registry rows in batches of 500 (what the bridge does for a migration
/// message listing 500 devices). Prints the figures as one JSON line.
///
///     RegistryBench STATE_FILE [DEVICES]
///
/// The state file stays (with its 500,000 undelivered events): Benchmarks/registry/burst.sh delivers them. With
/// `REGISTRY_BENCH_BURST_MARK=FILE` it creates FILE when the burst begins, so that a deliverer started beside it
/// (burst.sh's end-to-end run) times the burst from its first commit.
@main
enum RegistryBench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            FileHandle.standardError.write(Data("usage: RegistryBench STATE_FILE [DEVICES]\n".utf8))
            exit(2)
        }
        let path = arguments[1]
        let total = arguments.count > 2 ? Int(arguments[2]) ?? 500_000 : 500_000
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let store = try SQLiteStateStore(path: path)
        let devices = (0..<total).map { DeviceKey(productKey: "a1B2c3D4e5F", deviceName: "device-\($0)") }
        let clock = ContinuousClock()

        var began = clock.now
        for start in stride(from: 0, to: total, by: 10_000) {
            let seeds = devices[start..<min(start + 10_000, total)].map { RegistrySeed(device: $0, iotInstanceId: "") }
            _ = try await store.seed(seeds, at: 1)
        }
        let seeding = clock.now - began

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
        precondition(found == total, "only \(found) of \(total) devices found")
        latencies.sort()

        // The burst: one device.migrated per device, 500 per transaction, as PlatformMigrationEvents shapes them.
        if let mark = ProcessInfo.processInfo.environment["REGISTRY_BENCH_BURST_MARK"] {
            FileManager.default.createFile(atPath: mark, contents: Data("\(Date().timeIntervalSince1970)\n".utf8))
        }
        began = clock.now
        let migrationId = PlatformMigrationEvents.migrationId(targetInstance: "iot-06z00frq8umvkx2", productKey: "a1B2c3D4e5F")
        for start in stride(from: 0, to: total, by: 500) {
            let drafts = devices[start..<min(start + 500, total)].map { device in
                MigrationEvent(
                    source: MigrationEvent.bridgeSource,
                    type: .deviceMigrated,
                    time: 2,
                    subject: device.description,
                    data: MigrationEventData(
                        migrationId: migrationId,
                        productKey: device.productKey,
                        deviceName: device.deviceName,
                        fromInstanceId: "",
                        toInstanceId: "iot-06z00frq8umvkx2",
                        status: "ALL_EXECUTING"
                    )
                ).draft(
                    registryUpdate: RegistryUpdate(device: device, iotInstanceId: "iot-06z00frq8umvkx2", sourceInstanceId: "")
                )
            }
            _ = try await store.commit(drafts)
        }
        let committing = clock.now - began

        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        func milliseconds(at p: Double) -> Double {
            seconds(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) * 1000
        }
        func size(_ file: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? 0
        }
        let figures: [(String, String)] = [
            ("devices", "\(total)"),
            ("seedSeconds", String(format: "%.2f", seconds(seeding))),
            ("seedPerSecond", "\(Int(Double(total) / seconds(seeding)))"),
            ("lookupsPerSecond", "\(Int(Double(total) / seconds(looking)))"),
            ("lookupP50Ms", String(format: "%.4f", milliseconds(at: 0.5))),
            ("lookupP99Ms", String(format: "%.4f", milliseconds(at: 0.99))),
            ("lookupMaxMs", String(format: "%.3f", seconds(latencies.last ?? .zero) * 1000)),
            ("eventCommitsPerSecond", "\(Int(Double(total) / seconds(committing)))"),
            ("fileMB", String(format: "%.1f", Double(size(path) + size(path + "-wal")) / 1e6)),
        ]
        print("{" + figures.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }
}
