//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import StateStore

/// Turns a recognised platform migration message into outbox drafts, with the registry changes they carry.
///
/// Platform messages carry no migration ID and no order, so iotbridge defines both (README, "Migration-status
/// events"): the migration ID is `platform:<targetInstance>:<productKey>` (the platform migrates per product to one
/// Enterprise instance), and the sequence is assigned by the outbox when the events commit, in the order the bridge
/// ingested the messages.
public enum PlatformMigrationEvents {
    /// The migration ID of a platform migration of `productKey` to `targetInstance`; `*` when no product is known.
    public static func migrationId(targetInstance: String, productKey: String?) -> String {
        "platform:\(targetInstance):\(productKey ?? "*")"
    }

    /// The drafts of one message. Looks each device up: a device the registry already has where the message puts it
    /// (a redelivered message) gets no second event; an unknown device is recorded with the message's source (or
    /// the legacy public instance, whose ID is empty) as its source.
    public static func drafts(
        for message: RecognizedMigrationMessage,
        time: Int64,
        registry: some InstanceRegistryStore
    ) async throws -> [OutboxDraft] {
        // Array members are device lists (failedDevices…): they go once, on a state-changed event, not on each
        // device.
        var scalarMembers = JSONObject()
        var listMembers = JSONObject()
        for member in message.unknownMembers.members {
            if case .array = member.value {
                listMembers.updateValue(member.value, forKey: member.key)
            } else {
                scalarMembers.updateValue(member.value, forKey: member.key)
            }
        }
        var drafts: [OutboxDraft] = []
        if message.kind != .other {
            for device in message.devices {
                let migrationId = Self.migrationId(
                    targetInstance: message.targetInstance,
                    productKey: device.productKey
                )
                let stored = try await registry.lookup(device)
                let source = stored?.sourceInstanceId ?? message.sourceInstance ?? ""
                let (type, from, to): (MigrationEventType, String, String) =
                    switch message.kind {
                    case .rolledBack:
                        (.deviceRolledBack, stored?.iotInstanceId ?? message.targetInstance, source)
                    default:
                        (.deviceMigrated, stored?.iotInstanceId ?? source, message.targetInstance)
                    }
                if let stored, stored.iotInstanceId == to, stored.migrationId == migrationId {
                    continue
                }
                let event = MigrationEvent(
                    source: MigrationEvent.bridgeSource,
                    type: type,
                    time: time,
                    subject: device.description,
                    data: MigrationEventData(
                        migrationId: migrationId,
                        productKey: device.productKey,
                        deviceName: device.deviceName,
                        fromInstanceId: from,
                        toInstanceId: to,
                        status: message.status,
                        platform: scalarMembers.isEmpty ? nil : scalarMembers
                    )
                )
                drafts.append(
                    event.draft(
                        registryUpdate: RegistryUpdate(device: device, iotInstanceId: to, sourceInstanceId: source)
                    )
                )
            }
        }
        if message.kind == .other || !listMembers.isEmpty {
            let migrationId = Self.migrationId(targetInstance: message.targetInstance, productKey: message.productKey)
            var platform = message.unknownMembers
            if message.kind == .other, !message.devices.isEmpty {
                platform.updateValue(.array(message.devices.map { .string($0.description) }), forKey: "devices")
            }
            let event = MigrationEvent(
                source: MigrationEvent.bridgeSource,
                type: .migrationStateChanged,
                time: time,
                subject: migrationId,
                data: MigrationEventData(
                    migrationId: migrationId,
                    productKey: message.productKey,
                    toInstanceId: message.targetInstance,
                    status: message.status,
                    platform: platform.isEmpty ? nil : platform
                )
            )
            drafts.append(event.draft())
        }
        return drafts
    }
}
