//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import StateStore

/// Grayscale verification: per product, which devices moved and report on the target, which moved but are silent,
/// which are still on the source, and which report on both instances.
///
/// The platform's guide says to verify after each batch that the migrated devices are online and report normally;
/// this report is that check. A device counts as reporting on an instance when a message of it was seen there at or
/// after the time the registry moved it (before that, its messages on the source are normal).
public struct RegistryStatusReport: Sendable, Hashable {
    /// Where one device stands.
    public enum DeviceState: String, Sendable, Hashable, CaseIterable {
        /// Migrated, and seen on the target since; not on the source since.
        case reportingOnTarget = "migrated and reporting on target"
        /// Migrated, and not seen on the target since.
        case silent = "migrated but silent"
        /// The registry has it on its source instance, and it was not seen elsewhere.
        case onSource = "still on source"
        /// Seen on two instances: migrated but still reporting on the source, or on the source but seen elsewhere
        /// (data synchronisation, or a migration message not seen yet).
        case reportingOnBoth = "reporting on both"
    }

    /// One device worth listing.
    public struct Device: Sendable, Hashable {
        /// The registry row.
        public var record: RegistryRecord
        /// Where it stands.
        public var state: DeviceState
        /// The last time it was seen on any instance, epoch milliseconds; `nil` if never.
        public var lastSeen: Int64?
        /// Whether it is silent beyond the threshold.
        public var silentTooLong: Bool
    }

    /// The counts of one product.
    public struct ProductSummary: Sendable, Hashable {
        /// The product key.
        public var productKey: String
        /// Devices per state.
        public var counts: [DeviceState: Int]
        /// Migrated devices silent beyond the threshold.
        public var silentTooLong: Int
    }

    /// How long a migrated device may stay silent before the report fails, in milliseconds.
    public var silenceThreshold: Int64
    /// The time of the report, epoch milliseconds.
    public var now: Int64
    /// One summary per product, in product order.
    public private(set) var products: [ProductSummary] = []
    /// The devices that are not simply where they should be (silent or reporting on both), in device order.
    public private(set) var attention: [Device] = []
    /// Devices listed in ``attention`` at most; the counts cover every device.
    public var attentionLimit: Int

    /// Creates an empty report.
    public init(now: Int64, silenceThreshold: Int64, attentionLimit: Int = 1_000) {
        self.now = now
        self.silenceThreshold = silenceThreshold
        self.attentionLimit = attentionLimit
    }

    /// Whether any migrated device is silent beyond the threshold (the command exits 1 then).
    public var hasSilentDevices: Bool { self.products.contains { $0.silentTooLong > 0 } }

    /// Where one device stands.
    public static func classify(_ activity: DeviceActivity) -> DeviceState {
        let record = activity.record
        let since = record.isMigrated ? record.updatedAt : Int64.min
        let onCurrent = activity.lastSeen[record.iotInstanceId].map { $0 >= since } ?? false
        let elsewhere = activity.lastSeen.contains { instance, at in instance != record.iotInstanceId && at >= since }
        if record.isMigrated {
            if !onCurrent { return .silent }
            return elsewhere ? .reportingOnBoth : .reportingOnTarget
        }
        return elsewhere ? .reportingOnBoth : .onSource
    }

    /// Adds devices (in device order, as the store pages them).
    public mutating func add(_ activities: [DeviceActivity]) {
        for activity in activities {
            let state = Self.classify(activity)
            let lastSeen = activity.lastSeen.values.max()
            // Silent since the move: the clock runs from the migration, whatever the source saw afterwards.
            let silentTooLong = state == .silent && self.now - activity.record.updatedAt > self.silenceThreshold
            let product = activity.record.device.productKey
            if self.products.last?.productKey != product {
                self.products.append(ProductSummary(productKey: product, counts: [:], silentTooLong: 0))
            }
            self.products[self.products.count - 1].counts[state, default: 0] += 1
            if silentTooLong { self.products[self.products.count - 1].silentTooLong += 1 }
            if state == .silent || state == .reportingOnBoth, self.attention.count < self.attentionLimit {
                self.attention.append(
                    Device(record: activity.record, state: state, lastSeen: lastSeen, silentTooLong: silentTooLong)
                )
            }
        }
    }
}
