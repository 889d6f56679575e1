//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The instance registry (device → `IotInstanceId`) and the event outbox, as one store holds them: an event commits
/// in the same transaction as the registry change that caused it.
///
/// The protocol names no SQL type, so that the PostgreSQL store serves it unchanged. The SQLite store implements it
/// in `SQLiteRegistryStore.swift`.
public protocol InstanceRegistryStore: Sendable {
    /// Where a device lives, or `nil` when the registry does not know it.
    func lookup(_ device: DeviceKey) async throws -> RegistryRecord?

    /// Seeds devices on their source instance, in one transaction. A device already known keeps its row (a seed
    /// never moves a device back); the result says how many were new.
    func seed(_ devices: [RegistrySeed], at time: Int64) async throws -> Int

    /// Registry rows in device order, after `after` (exclusive), at most `limit`; only `product`'s when given.
    func records(product: String?, after: DeviceKey?, limit: Int) async throws -> [RegistryRecord]

    /// Appends events to the outbox and applies their registry updates, in one transaction; assigns each event the
    /// next sequence of its migration and the next outbox position. An update that is not newer than the row it
    /// would replace (``RegistryRecord/isSuperseded(migrationId:sequence:updatedAt:)``) leaves the row alone; its
    /// event is still written.
    func commit(_ drafts: [OutboxDraft]) async throws -> [OutboxEvent]

    /// Applies rows received from elsewhere (a subscriber's copy), in one transaction, each only when newer than the
    /// stored row. Returns how many changed the registry.
    func apply(_ records: [RegistryRecord]) async throws -> Int

    /// Records when devices were last seen reporting on an instance (the latest time wins).
    func recordSightings(_ sightings: [DeviceSighting]) async throws

    /// When `device` was last seen on `instance` (epoch ms), nil when never: whether an earlier process already
    /// saw it there (the observed-on-target inference looks once per device and instance, across restarts).
    func lastSeen(_ device: DeviceKey, on instance: String) async throws -> Int64?

    /// Registry rows with every instance each device was seen on, in device order, after `after`, at most `limit`.
    func activity(product: String?, after: DeviceKey?, limit: Int) async throws -> [DeviceActivity]
}

/// The outbox side: what a delivery loop reads and marks.
public protocol EventOutbox: Sendable {
    /// Undelivered events after outbox position `position` (exclusive; 0: from the start) in outbox order (per
    /// migration, that is sequence order), at most `limit`. A delivery loop with batches in flight reads the next
    /// batch after the last position it sent.
    func undeliveredEvents(after position: Int64, limit: Int) async throws -> [OutboxEvent]
    /// Marks events delivered.
    func markDelivered(positions: [Int64]) async throws
    /// Events from outbox position `position` on (inclusive), delivered or not, at most `limit`.
    func outboxEvents(fromPosition position: Int64, limit: Int) async throws -> [OutboxEvent]
}

extension EventOutbox {
    /// Undelivered events from the start of the outbox, in outbox order, at most `limit`.
    public func undeliveredEvents(limit: Int) async throws -> [OutboxEvent] {
        try await self.undeliveredEvents(after: 0, limit: limit)
    }
}

/// A device: product key and device name, the platform's identity of a device.
public struct DeviceKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The product key.
    public var productKey: String
    /// The device name.
    public var deviceName: String

    /// Creates a key.
    public init(productKey: String, deviceName: String) {
        self.productKey = productKey
        self.deviceName = deviceName
    }

    /// Parses `PK/DN` (the device name may not contain `/`; the platform forbids it too); `nil` when either part is
    /// empty or the slash is missing.
    public init?(parsing text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let product = String(text[..<slash])
        let device = String(text[text.index(after: slash)...])
        guard !product.isEmpty, !device.isEmpty, !device.contains("/") else { return nil }
        self.init(productKey: product, deviceName: device)
    }

    /// `PK/DN`.
    public var description: String { "\(self.productKey)/\(self.deviceName)" }

    /// Product key first, then device name (the order of exports and pages).
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.productKey, lhs.deviceName) < (rhs.productKey, rhs.deviceName)
    }
}

/// One row of the registry.
public struct RegistryRecord: Sendable, Hashable {
    /// The device.
    public var device: DeviceKey
    /// The instance the device lives on now; empty for a legacy public instance (it has no ID).
    public var iotInstanceId: String
    /// The instance the device was seeded on (or first recorded on): where a rollback returns it.
    public var sourceInstanceId: String
    /// Epoch milliseconds of the change that set ``iotInstanceId``.
    public var updatedAt: Int64
    /// The migration of that change; empty for a seed.
    public var migrationId: String
    /// That change's sequence within its migration; 0 for a seed.
    public var sequence: Int64

    /// Creates a row.
    public init(
        device: DeviceKey,
        iotInstanceId: String,
        sourceInstanceId: String,
        updatedAt: Int64,
        migrationId: String,
        sequence: Int64
    ) {
        self.device = device
        self.iotInstanceId = iotInstanceId
        self.sourceInstanceId = sourceInstanceId
        self.updatedAt = updatedAt
        self.migrationId = migrationId
        self.sequence = sequence
    }

    /// Whether the device has moved off its source instance.
    public var isMigrated: Bool { self.iotInstanceId != self.sourceInstanceId }

    /// Whether a change (`migrationId`, `sequence`, `updatedAt`) is newer than this row: within one migration the
    /// higher sequence wins; across migrations (sequences are per migration, so incomparable) the later time wins,
    /// and a tie keeps the row. The rule every store applies, so that replaying events twice gives the same registry.
    public func isSuperseded(migrationId: String, sequence: Int64, updatedAt: Int64) -> Bool {
        if migrationId == self.migrationId {
            return sequence > self.sequence
        }
        return updatedAt > self.updatedAt
    }
}

/// A device to seed: it lives on `iotInstanceId`, which is also its source.
public struct RegistrySeed: Sendable, Hashable {
    /// The device.
    public var device: DeviceKey
    /// Its (source) instance; empty for a legacy public instance.
    public var iotInstanceId: String

    /// Creates a seed.
    public init(device: DeviceKey, iotInstanceId: String) {
        self.device = device
        self.iotInstanceId = iotInstanceId
    }
}

/// A registry change carried by an outbox event.
public struct RegistryUpdate: Sendable, Hashable {
    /// The device.
    public var device: DeviceKey
    /// Its new instance.
    public var iotInstanceId: String
    /// Its source instance, recorded when the registry does not know the device yet (an unseeded device).
    public var sourceInstanceId: String

    /// Creates an update.
    public init(device: DeviceKey, iotInstanceId: String, sourceInstanceId: String) {
        self.device = device
        self.iotInstanceId = iotInstanceId
        self.sourceInstanceId = sourceInstanceId
    }
}

/// An event to append to the outbox. The store assigns its sequence and position; the Events module renders it.
public struct OutboxDraft: Sendable, Hashable {
    /// The event's unique id (a UUID), stable across redeliveries so that subscribers can de-duplicate.
    public var id: String
    /// The full CloudEvents type.
    public var type: String
    /// The CloudEvents source.
    public var source: String
    /// The CloudEvents subject.
    public var subject: String
    /// Epoch milliseconds.
    public var time: Int64
    /// The migration whose sequence the event takes.
    public var migrationId: String
    /// The event's `data` members other than `migrationId` and `sequence`: one JSON object, as text.
    public var data: String
    /// The registry change the event reports, if any; applied in the same transaction.
    public var registryUpdate: RegistryUpdate?

    /// Creates a draft.
    public init(
        id: String,
        type: String,
        source: String,
        subject: String,
        time: Int64,
        migrationId: String,
        data: String,
        registryUpdate: RegistryUpdate? = nil
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.subject = subject
        self.time = time
        self.migrationId = migrationId
        self.data = data
        self.registryUpdate = registryUpdate
    }
}

/// An event in the outbox.
public struct OutboxEvent: Sendable, Hashable {
    /// Its place in the outbox: monotonic per store, the delivery order.
    public var position: Int64
    /// Its sequence within its migration, from 1.
    public var sequence: Int64
    /// Whether a delivery loop delivered it.
    public var delivered: Bool
    /// The draft it was written from (without its registry update).
    public var draft: OutboxDraft

    /// Creates an event.
    public init(position: Int64, sequence: Int64, delivered: Bool, draft: OutboxDraft) {
        self.position = position
        self.sequence = sequence
        self.delivered = delivered
        self.draft = draft
    }
}

/// A device seen reporting on an instance.
public struct DeviceSighting: Sendable, Hashable {
    /// The device.
    public var device: DeviceKey
    /// The instance it reported on (empty: the legacy public instance).
    public var iotInstanceId: String
    /// Epoch milliseconds.
    public var at: Int64

    /// Creates a sighting.
    public init(device: DeviceKey, iotInstanceId: String, at: Int64) {
        self.device = device
        self.iotInstanceId = iotInstanceId
        self.at = at
    }
}

/// A registry row with the last time the device was seen on each instance.
public struct DeviceActivity: Sendable, Hashable {
    /// The row.
    public var record: RegistryRecord
    /// Instance ID → epoch milliseconds of the last message seen from the device there.
    public var lastSeen: [String: Int64]

    /// Creates an activity row.
    public init(record: RegistryRecord, lastSeen: [String: Int64]) {
        self.record = record
        self.lastSeen = lastSeen
    }
}
