//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The CloudEvents `type` of a migration-status event: one per kind of fact, under `com.iotbridge.migration.`.
public enum MigrationEventType: String, Sendable, Hashable, CaseIterable {
    /// A device now lives on the target instance (a platform migration message said so).
    case deviceMigrated = "com.iotbridge.migration.device.migrated"
    /// A device was rolled back to its source instance.
    case deviceRolledBack = "com.iotbridge.migration.device.rolled-back"
    /// A device reported on the target instance while the registry still had it on the source.
    case deviceObservedOnTarget = "com.iotbridge.migration.device.observed-on-target"
    /// `migrate run` recreated a consumer group on the target (old ID → new ID).
    case consumerGroupRecreated = "com.iotbridge.migration.consumer-group.recreated"
    /// `migrate run` translated an MNS or HTTP/2 subscription to AMQP.
    case subscriptionTranslated = "com.iotbridge.migration.subscription.translated"
    /// `migrate run` created an old-version rule on the target.
    case ruleMigrated = "com.iotbridge.migration.rule.migrated"
    /// `migrate run` created a new-version parser on the target.
    case parserMigrated = "com.iotbridge.migration.parser.migrated"
    /// A migration changed state in a way no other type covers (an unknown platform status, a step that failed).
    case migrationStateChanged = "com.iotbridge.migration.migration.state-changed"

    /// The prefix every type shares.
    public static let prefix = "com.iotbridge.migration."

    /// The type without the prefix, e.g. `device.migrated`.
    public var shortName: String { String(self.rawValue.dropFirst(Self.prefix.count)) }

    /// Whether the subject is a device (`PK/DN`) rather than a resource ID or a migration.
    public var isDeviceEvent: Bool {
        switch self {
        case .deviceMigrated, .deviceRolledBack, .deviceObservedOnTarget: true
        default: false
        }
    }
}
