//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The instance registry and the event outbox in SQLite (migration v3).
//
// Tables:
//   registry          (productKey, deviceName) → iotInstanceId, sourceInstanceId, updatedAt, migrationId, sequence;
//                     WITHOUT ROWID keyed by the device, so a lookup is one B-tree descent (500,000 devices: see
//                     Benchmarks/README.md) and an export walks the table in key order.
//   outbox            one row per event; `position` (rowid) is the delivery order, `sequence` the per-migration one.
//   migrationSequence the last sequence of each migration, advanced inside the transaction that writes its events,
//                     so sequences have no gaps and never repeat even when events of one migration come from
//                     several writers of the same store (SQLite serialises write transactions).
//   sighting          (productKey, deviceName, iotInstanceId) → the last time the device reported there.

import Foundation
import GRDB

extension SQLiteStateStore: InstanceRegistryStore, EventOutbox {
    /// Migration v3: registry, outbox, per-migration sequences and sightings.
    static func createRegistryTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE registry (
                    productKey TEXT NOT NULL,
                    deviceName TEXT NOT NULL,
                    iotInstanceId TEXT NOT NULL,
                    sourceInstanceId TEXT NOT NULL,
                    updatedAt INTEGER NOT NULL,
                    migrationId TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    PRIMARY KEY (productKey, deviceName)
                ) WITHOUT ROWID;
                CREATE TABLE outbox (
                    position INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    source TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    migrationId TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    data TEXT NOT NULL,
                    delivered BOOLEAN NOT NULL DEFAULT 0
                );
                CREATE UNIQUE INDEX outboxByMigration ON outbox (migrationId, sequence);
                CREATE INDEX outboxUndelivered ON outbox (position) WHERE NOT delivered;
                CREATE TABLE migrationSequence (
                    migrationId TEXT PRIMARY KEY NOT NULL,
                    last INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE sighting (
                    productKey TEXT NOT NULL,
                    deviceName TEXT NOT NULL,
                    iotInstanceId TEXT NOT NULL,
                    lastSeen INTEGER NOT NULL,
                    PRIMARY KEY (productKey, deviceName, iotInstanceId)
                ) WITHOUT ROWID;
                """
        )
    }

    /// Where a device lives, or `nil`.
    public func lookup(_ device: DeviceKey) async throws -> RegistryRecord? {
        try await self.wrap {
            try await self.database.read { db in
                let statement = try db.cachedStatement(
                    sql: "SELECT \(Self.registryColumns) FROM registry WHERE productKey = ? AND deviceName = ?"
                )
                return try Row.fetchOne(statement, arguments: [device.productKey, device.deviceName])
                    .map(Self.record)
            }
        }
    }

    /// Seeds devices not yet known, on their source instance.
    public func seed(_ devices: [RegistrySeed], at time: Int64) async throws -> Int {
        guard !devices.isEmpty else { return 0 }
        return try await self.wrap {
            try await self.database.write { db in
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO registry
                        (productKey, deviceName, iotInstanceId, sourceInstanceId, updatedAt, migrationId, sequence)
                        VALUES (?, ?, ?, ?, ?, '', 0)
                        """
                )
                var added = 0
                for seed in devices {
                    try insert.execute(arguments: [
                        seed.device.productKey, seed.device.deviceName, seed.iotInstanceId, seed.iotInstanceId, time,
                    ])
                    added += db.changesCount
                }
                return added
            }
        }
    }

    /// Registry rows in device order.
    public func records(product: String?, after: DeviceKey?, limit: Int) async throws -> [RegistryRecord] {
        try await self.wrap {
            try await self.database.read { db in
                let (sql, arguments) = Self.page(
                    select: "SELECT \(Self.registryColumns) FROM registry",
                    product: product,
                    after: after,
                    limit: limit
                )
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.record)
            }
        }
    }

    /// Appends events and applies their registry updates, in one transaction.
    public func commit(_ drafts: [OutboxDraft]) async throws -> [OutboxEvent] {
        guard !drafts.isEmpty else { return [] }
        return try await self.wrap {
            try await self.database.write { db in try self.insert(drafts, db) }
        }
    }

    /// Appends drafts inside the caller's transaction (``commit(_:)``, and journal saves with their events).
    ///
    /// Each migration's last sequence is read once and written once per transaction, not bumped per event: at
    /// 500 events a commit that is two statements fewer per event.
    func insert(_ drafts: [OutboxDraft], _ db: Database) throws -> [OutboxEvent] {
        let readSequence = try db.cachedStatement(sql: "SELECT last FROM migrationSequence WHERE migrationId = ?")
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO outbox (id, type, source, subject, time, migrationId, sequence, data)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        var last: [String: Int64] = [:]
        var events: [OutboxEvent] = []
        events.reserveCapacity(drafts.count)
        for draft in drafts {
            let previous =
                try last[draft.migrationId]
                ?? Int64.fetchOne(readSequence, arguments: [draft.migrationId]) ?? 0
            let sequence = previous + 1
            last[draft.migrationId] = sequence
            try insert.execute(arguments: [
                draft.id, draft.type, draft.source, draft.subject, draft.time, draft.migrationId, sequence,
                draft.data,
            ])
            let position = db.lastInsertedRowID
            if let update = draft.registryUpdate {
                let record = RegistryRecord(
                    device: update.device,
                    iotInstanceId: update.iotInstanceId,
                    sourceInstanceId: update.sourceInstanceId,
                    updatedAt: draft.time,
                    migrationId: draft.migrationId,
                    sequence: sequence
                )
                _ = try Self.upsert(record, db)
            }
            var stored = draft
            stored.registryUpdate = nil
            events.append(OutboxEvent(position: position, sequence: sequence, delivered: false, draft: stored))
        }
        let writeSequence = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO migrationSequence (migrationId, last) VALUES (?, ?)"
        )
        for (migrationId, sequence) in last {
            try writeSequence.execute(arguments: [migrationId, sequence])
        }
        return events
    }

    /// Applies rows received from elsewhere, each only when newer.
    public func apply(_ records: [RegistryRecord]) async throws -> Int {
        guard !records.isEmpty else { return 0 }
        return try await self.wrap {
            try await self.database.write { db in
                var changed = 0
                for record in records where try Self.upsert(record, db) {
                    changed += 1
                }
                return changed
            }
        }
    }

    /// Records the latest time each device reported on an instance.
    public func recordSightings(_ sightings: [DeviceSighting]) async throws {
        guard !sightings.isEmpty else { return }
        try await self.wrap {
            try await self.database.write { db in
                let upsert = try db.cachedStatement(
                    sql: """
                        INSERT INTO sighting (productKey, deviceName, iotInstanceId, lastSeen) VALUES (?, ?, ?, ?)
                        ON CONFLICT (productKey, deviceName, iotInstanceId)
                        DO UPDATE SET lastSeen = max(lastSeen, excluded.lastSeen)
                        """
                )
                for sighting in sightings {
                    try upsert.execute(arguments: [
                        sighting.device.productKey, sighting.device.deviceName, sighting.iotInstanceId, sighting.at,
                    ])
                }
            }
        }
    }

    /// Registry rows with their sightings.
    public func activity(product: String?, after: DeviceKey?, limit: Int) async throws -> [DeviceActivity] {
        try await self.wrap {
            try await self.database.read { db in
                let (sql, arguments) = Self.page(
                    select: "SELECT \(Self.registryColumns) FROM registry",
                    product: product,
                    after: after,
                    limit: limit
                )
                let sightings = try db.cachedStatement(
                    sql: "SELECT iotInstanceId, lastSeen FROM sighting WHERE productKey = ? AND deviceName = ?"
                )
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                    let record = Self.record(row)
                    var lastSeen: [String: Int64] = [:]
                    let rows = try Row.fetchCursor(
                        sightings,
                        arguments: [record.device.productKey, record.device.deviceName]
                    )
                    while let sighting = try rows.next() {
                        lastSeen[sighting[0]] = sighting[1]
                    }
                    return DeviceActivity(record: record, lastSeen: lastSeen)
                }
            }
        }
    }

    /// Undelivered events in outbox order.
    public func undeliveredEvents(limit: Int) async throws -> [OutboxEvent] {
        try await self.wrap {
            try await self.database.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.outboxColumns) FROM outbox WHERE NOT delivered ORDER BY position LIMIT ?",
                    arguments: [limit]
                ).map(Self.event)
            }
        }
    }

    /// Marks events delivered.
    public func markDelivered(positions: [Int64]) async throws {
        guard !positions.isEmpty else { return }
        try await self.wrap {
            try await self.database.write { db in
                let update = try db.cachedStatement(sql: "UPDATE outbox SET delivered = 1 WHERE position = ?")
                for position in positions {
                    try update.execute(arguments: [position])
                }
            }
        }
    }

    /// Events from a position on.
    public func outboxEvents(fromPosition position: Int64, limit: Int) async throws -> [OutboxEvent] {
        try await self.wrap {
            try await self.database.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.outboxColumns) FROM outbox WHERE position >= ? ORDER BY position LIMIT ?",
                    arguments: [position, limit]
                ).map(Self.event)
            }
        }
    }

    // MARK: Rows

    private static let registryColumns =
        "productKey, deviceName, iotInstanceId, sourceInstanceId, updatedAt, migrationId, sequence"
    private static let outboxColumns =
        "position, id, type, source, subject, time, migrationId, sequence, data, delivered"

    /// Inserts `record`, or replaces the stored row when `record` is newer; keeps the stored source instance.
    /// One statement: the WHERE of the upsert is ``RegistryRecord/isSuperseded(migrationId:sequence:updatedAt:)``.
    private static func upsert(_ record: RegistryRecord, _ db: Database) throws -> Bool {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO registry
                (productKey, deviceName, iotInstanceId, sourceInstanceId, updatedAt, migrationId, sequence)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (productKey, deviceName) DO UPDATE SET
                    iotInstanceId = excluded.iotInstanceId, updatedAt = excluded.updatedAt,
                    migrationId = excluded.migrationId, sequence = excluded.sequence
                WHERE (registry.migrationId = excluded.migrationId AND excluded.sequence > registry.sequence)
                    OR (registry.migrationId != excluded.migrationId AND excluded.updatedAt > registry.updatedAt)
                """
        )
        try upsert.execute(arguments: [
            record.device.productKey, record.device.deviceName, record.iotInstanceId, record.sourceInstanceId,
            record.updatedAt, record.migrationId, record.sequence,
        ])
        return db.changesCount > 0
    }

    private static func page(
        select: String,
        product: String?,
        after: DeviceKey?,
        limit: Int
    ) -> (String, StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let product {
            conditions.append("productKey = ?")
            arguments += [product]
        }
        if let after {
            conditions.append("(productKey, deviceName) > (?, ?)")
            arguments += [after.productKey, after.deviceName]
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments += [limit]
        return (select + filter + " ORDER BY productKey, deviceName LIMIT ?", arguments)
    }

    private static func record(_ row: Row) -> RegistryRecord {
        RegistryRecord(
            device: DeviceKey(productKey: row[0], deviceName: row[1]),
            iotInstanceId: row[2],
            sourceInstanceId: row[3],
            updatedAt: row[4],
            migrationId: row[5],
            sequence: row[6]
        )
    }

    private static func event(_ row: Row) -> OutboxEvent {
        OutboxEvent(
            position: row[0],
            sequence: row[7],
            delivered: row[9],
            draft: OutboxDraft(
                id: row[1],
                type: row[2],
                source: row[3],
                subject: row[4],
                time: row[5],
                migrationId: row[6],
                data: row[8]
            )
        )
    }
}
