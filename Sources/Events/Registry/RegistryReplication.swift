//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import StateStore

/// How a subscriber's registry follows the events: the registry row a device event implies.
public enum RegistryReplication {
    /// The row `event` sets, or `nil` when the event moves no device (resource events, state changes, and
    /// `observed-on-target`, which reports a sighting, not a move). Applied with
    /// ``InstanceRegistryStore/apply(_:)``, so that an old or repeated event changes nothing.
    public static func record(_ event: MigrationEvent) -> RegistryRecord? {
        guard event.type == .deviceMigrated || event.type == .deviceRolledBack,
            let productKey = event.data.productKey, let deviceName = event.data.deviceName,
            let to = event.data.toInstanceId
        else { return nil }
        let from = event.data.fromInstanceId ?? ""
        return RegistryRecord(
            device: DeviceKey(productKey: productKey, deviceName: deviceName),
            iotInstanceId: to,
            // A migration leaves from the source; a rollback returns to it.
            sourceInstanceId: event.type == .deviceRolledBack ? to : from,
            updatedAt: event.time,
            migrationId: event.data.migrationId,
            sequence: event.data.sequence
        )
    }
}
