//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration
import Synchronization

/// An instance migration between two simulated instances (reference §7): grayscale batches, a full migration,
/// rollback. Moving a device is what the platform does to it: it is forced offline on the source (an `offline`
/// status notice there), reconnects to the target (`online` there) and publishes there from then on; for the data
/// synchronisation window its messages are copied to the source as well, with the same messageId. Each step
/// emits a migration status message on the source (§7.3).
///
/// Choices where §7.3 leaves questions open (written in the README too): the topic is
/// `/sys/{productKey}/{jobId}/migration/status`; the status of a rollback is `ROLLBACK_EXECUTING` (with
/// `targetInstance` still the target, as the task's); `successDevices` items are `{"productKey","deviceName"}`;
/// the payload adds `jobId`, `productKey`, `sourceInstance` (empty for a legacy instance), `failedDevices` (always
/// empty) and `gmtCreate`. Migration messages go to the source's consumer groups subscribed to the product's
/// device data (the platform delivers them through a forwarding rule on the source).
public final class SimulatedMigration: Sendable {
    /// What one step did.
    public struct StepReport: Sendable, Hashable {
        /// `GRAY_EXECUTING`, `ALL_EXECUTING` or `ROLLBACK_EXECUTING`.
        public var status: String
        /// The devices moved, sorted.
        public var devices: [SimulatedDevice]
        /// The messageIds of the migration messages emitted (one per product).
        public var migrationMessageIds: [String]
    }

    /// The status of a grayscale batch.
    public static let grayStatus = "GRAY_EXECUTING"
    /// The status of the full migration.
    public static let allStatus = "ALL_EXECUTING"
    /// The status of a rollback (not documented; see the type's notes).
    public static let rollbackStatus = "ROLLBACK_EXECUTING"

    /// The simulation it moves devices in.
    public let simulation: Simulation
    /// The instance devices leave.
    public let source: SimulatedInstance
    /// The instance devices go to.
    public let target: SimulatedInstance
    /// How long a moved device's messages are copied to the instance it left.
    public let syncWindow: Duration
    /// The migration task's ID, in every migration message.
    public let jobId: String
    private let steps = Mutex<[StepReport]>([])

    /// Creates a migration between two instances of `simulation`.
    public init(simulation: Simulation, source: String, target: String, syncWindow: Duration, jobId: String = "sim-migration-1") throws(SimulatorError) {
        guard let sourceInstance = simulation.instance(source) else {
            throw SimulatorError(.migration, "no instance named '\(source)' to migrate from")
        }
        guard let targetInstance = simulation.instance(target), target != source else {
            throw SimulatorError(.migration, "no instance named '\(target)' (other than the source) to migrate to")
        }
        self.simulation = simulation
        self.source = sourceInstance
        self.target = targetInstance
        self.syncWindow = syncWindow
        self.jobId = jobId
    }

    /// The steps done so far, oldest first.
    public var history: [StepReport] { self.steps.withLock { $0 } }

    /// Batch `number` (1-based) of `count` equal slices of all devices, in sorted order: those of its devices still
    /// on the source move. Running a batch again moves nothing and emits nothing.
    @discardableResult
    public func startBatch(_ number: Int, of count: Int) async throws(SimulatorError) -> StepReport {
        guard count >= 1, (1...count).contains(number) else {
            throw SimulatorError(.migration, "batch \(number) of \(count) does not exist: batches are numbered 1 to \(max(count, 1))")
        }
        let all = self.simulation.fleet.devices
        let size = (all.count + count - 1) / count
        let slice = Array(all.dropFirst((number - 1) * size).prefix(size))
        return await self.move(slice, status: Self.grayStatus)
    }

    /// Moves the given devices in one grayscale batch (those already on the target are skipped).
    @discardableResult
    public func migrate(_ devices: [SimulatedDevice]) async -> StepReport {
        await self.move(devices, status: Self.grayStatus)
    }

    /// The full migration: every device still on the source moves.
    @discardableResult
    public func migrateAll() async -> StepReport {
        await self.move(self.simulation.fleet.devices(on: self.source.name), status: Self.allStatus)
    }

    /// Moves devices back to the source (all those on the target when `devices` is nil).
    @discardableResult
    public func rollback(_ devices: [SimulatedDevice]? = nil) async -> StepReport {
        let onTarget = Set(self.simulation.fleet.devices(on: self.target.name))
        let chosen = (devices ?? Array(onTarget)).filter { onTarget.contains($0) }.sorted()
        for device in chosen {
            await self.simulation.sendStatus(device, online: false, on: self.target)
        }
        self.simulation.fleet.move(chosen, to: self.source.name, copyUntil: .now.advanced(by: self.syncWindow))
        for device in chosen {
            await self.simulation.sendStatus(device, online: true, on: self.source)
        }
        return await self.report(chosen, status: Self.rollbackStatus)
    }

    private func move(_ devices: [SimulatedDevice], status: String) async -> StepReport {
        let onSource = Set(self.simulation.fleet.devices(on: self.source.name))
        let chosen = devices.filter { onSource.contains($0) }.sorted()
        // Forced offline on the source, then online on the target, then publishing there.
        for device in chosen {
            await self.simulation.sendStatus(device, online: false, on: self.source)
        }
        self.simulation.fleet.move(chosen, to: self.target.name, copyUntil: .now.advanced(by: self.syncWindow))
        for device in chosen {
            await self.simulation.sendStatus(device, online: true, on: self.target)
        }
        return await self.report(chosen, status: status)
    }

    /// Emits one migration message per product on the source and records the step.
    private func report(_ devices: [SimulatedDevice], status: String) async -> StepReport {
        var ids: [String] = []
        let byProduct = Dictionary(grouping: devices, by: \.productKey)
        for productKey in byProduct.keys.sorted() {
            let time = Simulation.nowMillis()
            let payload = MigrationStatusPayload.make(
                jobId: self.jobId,
                status: status,
                productKey: productKey,
                sourceInstance: self.source.iotInstanceId ?? "",
                targetInstance: self.target.instanceLabel,
                devices: byProduct[productKey]!,
                time: time
            )
            let message = self.simulation.message(topic: "/sys/\(productKey)/\(self.jobId)/migration/status", time: time, payload: payload)
            await self.source.publish(message, productKey: productKey, flag: .deviceData)
            ids.append(message.messageId)
        }
        let step = StepReport(status: status, devices: devices, migrationMessageIds: ids)
        if !devices.isEmpty { self.steps.withLock { $0.append(step) } }
        return step
    }
}

/// The JSON body of a migration status message (reference §7.3, with the choices in `SimulatedMigration`).
enum MigrationStatusPayload {
    static func make(
        jobId: String,
        status: String,
        productKey: String,
        sourceInstance: String,
        targetInstance: String,
        devices: [SimulatedDevice],
        time: Int64
    ) -> [UInt8] {
        let items = devices.map { "{\"productKey\":\"\($0.productKey)\",\"deviceName\":\"\($0.deviceName)\"}" }
        return Array(
            ("{\"jobId\":\"\(jobId)\",\"status\":\"\(status)\",\"productKey\":\"\(productKey)\","
                + "\"sourceInstance\":\"\(sourceInstance)\",\"targetInstance\":\"\(targetInstance)\","
                + "\"successDevices\":[\(items.joined(separator: ","))],\"failedDevices\":[],\"gmtCreate\":\(time)}").utf8
        )
    }
}
