//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The instance registry and the event outbox in SQLite (migrations v3 and v4).
//
// Tables:
//   registry          (productKey, deviceName) → iotInstanceId, sourceInstanceId, updatedAt, migrationId, sequence;
//                     WITHOUT ROWID keyed by the device, so a lookup is one B-tree descent (500,000 devices: see
//                     Benchmarks/README.md) and an export walks the table in key order.
//   outbox            one row per event; `position` (the rowid, AUTOINCREMENT: never handed out twice) is the delivery
//                     order, `sequence` the per-migration one. No secondary index (v4): an event costs one append to
//                     the table and one registry write. The id's uniqueness comes from its being a random UUID, the
//                     (migration, sequence) pair's from `migrationSequence` below; v3's unique indexes on both cost
//                     a random B-tree insert per event (the UUID one most) and guarded nothing the writer can break.
//   outboxCursor      one row: the first position that may be undelivered (every row before it is delivered). The
//                     delivery loop reads from it along the rowid, instead of through v3's partial index of
//                     undelivered rows, which cost an index insert per event and a delete per mark; marking moves it.
//   migrationSequence the last sequence of each migration, advanced inside the transaction that writes its events,
//                     so sequences have no gaps and never repeat even when events of one migration come from
//                     several writers of the same store (SQLite serialises write transactions).
//   sighting          (productKey, deviceName, iotInstanceId) → the last time the device reported there.
//
// The commit path binds and steps its two statements through SQLiteRawStatement (GRDB's arguments box every value:
// two statements of eight and seven values per event), and a lookup reads synchronously on a reader connection of
// the pool (no hop to a GRDB queue: about 5 µs rather than 40 µs, see Benchmarks/README.md).

import Foundation
import GRDB

extension SQLiteStateStore: InstanceRegistryStore, EventOutbox {
    /// Migration v3 (as it shipped): registry, outbox, per-migration sequences and sightings. v4 rebuilds the outbox.
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

    /// Migration v4: the outbox without secondary indexes, and the delivery cursor (see the file header). The table
    /// is rebuilt (SQLite cannot drop a column's UNIQUE constraint); positions and delivered flags are kept.
    static func leanOutbox(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE outboxV4 (
                    position INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    source TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    migrationId TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    data TEXT NOT NULL,
                    delivered BOOLEAN NOT NULL DEFAULT 0
                );
                INSERT INTO outboxV4 (position, id, type, source, subject, time, migrationId, sequence, data, delivered)
                    SELECT position, id, type, source, subject, time, migrationId, sequence, data, delivered
                    FROM outbox ORDER BY position;
                DROP TABLE outbox;
                ALTER TABLE outboxV4 RENAME TO outbox;
                CREATE TABLE outboxCursor (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    firstUndelivered INTEGER NOT NULL
                );
                INSERT INTO outboxCursor (id, firstUndelivered) VALUES (1, COALESCE(
                    (SELECT MIN(position) FROM outbox WHERE NOT delivered),
                    (SELECT MAX(position) + 1 FROM outbox),
                    1
                ));
                """
        )
    }

    /// Where a device lives, or `nil`.
    public func lookup(_ device: DeviceKey) async throws -> RegistryRecord? {
        try await self.wrap { try self.lookupOnReader(device) }
    }

    /// A lookup on a reader connection, synchronously: one indexed SELECT of a few microseconds blocks the calling
    /// thread for less time than a hop to a GRDB queue and back takes. A reader never waits for a write (WAL); it
    /// waits only when every reader is busy. One statement reads one snapshot, so it needs no transaction.
    private func lookupOnReader(_ device: DeviceKey) throws -> RegistryRecord? {
        try self.database.unsafeRead { db in
            var select = SQLiteRawStatement(
                try db.cachedStatement(
                    sql: "SELECT \(Self.registryColumns) FROM registry WHERE productKey = ? AND deviceName = ?"
                ),
                in: db
            )
            select.bind(device.productKey)
            select.bind(device.deviceName)
            guard try select.step() else { return nil }
            defer { select.reset() }
            return RegistryRecord(
                device: device,
                iotInstanceId: select.string(2),
                sourceInstanceId: select.string(3),
                updatedAt: select.int64(4),
                migrationId: select.string(5),
                sequence: select.int64(6)
            )
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
    /// Each migration's last sequence is read once and written once per transaction, not bumped per event; each
    /// event is then one outbox append and, when it moves a device, one registry upsert.
    func insert(_ drafts: [OutboxDraft], _ db: Database) throws -> [OutboxEvent] {
        let readSequence = try db.cachedStatement(sql: "SELECT last FROM migrationSequence WHERE migrationId = ?")
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO outbox (id, type, source, subject, time, migrationId, sequence, data)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        let upsert = try db.cachedStatement(sql: Self.upsertSQL)
        var last: [String: Int64] = [:]
        var events: [OutboxEvent] = []
        events.reserveCapacity(drafts.count)
        for draft in drafts {
            let previous =
                try last[draft.migrationId]
                ?? Int64.fetchOne(readSequence, arguments: [draft.migrationId]) ?? 0
            let sequence = previous + 1
            last[draft.migrationId] = sequence
            var row = SQLiteRawStatement(insert, in: db)
            row.bind(draft.id)
            row.bind(draft.type)
            row.bind(draft.source)
            row.bind(draft.subject)
            row.bind(draft.time)
            row.bind(draft.migrationId)
            row.bind(sequence)
            row.bind(draft.data)
            try row.execute()
            let position = db.lastInsertedRowID
            if let update = draft.registryUpdate {
                var change = SQLiteRawStatement(upsert, in: db)
                change.bind(update.device.productKey)
                change.bind(update.device.deviceName)
                change.bind(update.iotInstanceId)
                change.bind(update.sourceInstanceId)
                change.bind(draft.time)
                change.bind(draft.migrationId)
                change.bind(sequence)
                try change.execute()
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

    /// When the device was last seen on the instance, on a reader connection.
    public func lastSeen(_ device: DeviceKey, on instance: String) async throws -> Int64? {
        try await self.wrap {
            try self.database.unsafeRead { db in
                try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT lastSeen FROM sighting WHERE productKey = ? AND deviceName = ? AND iotInstanceId = ?"),
                    arguments: [device.productKey, device.deviceName, instance]
                )
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

    /// Undelivered events after `position` in outbox order: along the rowid from the delivery cursor.
    public func undeliveredEvents(after position: Int64, limit: Int) async throws -> [OutboxEvent] {
        try await self.wrap {
            try await self.database.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.outboxColumns) FROM outbox
                        WHERE position >= max((SELECT firstUndelivered FROM outboxCursor), ? + 1) AND NOT delivered
                        ORDER BY position LIMIT ?
                        """,
                    arguments: [position, limit]
                ).map(Self.event)
            }
        }
    }

    /// Marks events delivered, and moves the delivery cursor to the first event still undelivered.
    public func markDelivered(positions: [Int64]) async throws {
        guard !positions.isEmpty else { return }
        try await self.wrap {
            try await self.database.write { db in
                let update = try db.cachedStatement(sql: "UPDATE outbox SET delivered = 1 WHERE position = ?")
                for position in positions {
                    try update.execute(arguments: [position])
                }
                // Rows are only ever appended after the cursor and marked, so every row before the first undelivered
                // one stays delivered; the scan covers what was just marked.
                try db.execute(
                    sql: """
                        UPDATE outboxCursor SET firstUndelivered = COALESCE(
                            (SELECT position FROM outbox WHERE position >= firstUndelivered AND NOT delivered
                             ORDER BY position LIMIT 1),
                            (SELECT MAX(position) + 1 FROM outbox),
                            firstUndelivered
                        )
                        """
                )
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

    /// Inserts a row, or replaces the stored row when the new one is newer; keeps the stored source instance. One
    /// statement: the WHERE of the upsert is ``RegistryRecord/isSuperseded(migrationId:sequence:updatedAt:)``.
    /// Parameters: productKey, deviceName, iotInstanceId, sourceInstanceId, updatedAt, migrationId, sequence.
    private static let upsertSQL = """
        INSERT INTO registry
        (productKey, deviceName, iotInstanceId, sourceInstanceId, updatedAt, migrationId, sequence)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (productKey, deviceName) DO UPDATE SET
            iotInstanceId = excluded.iotInstanceId, updatedAt = excluded.updatedAt,
            migrationId = excluded.migrationId, sequence = excluded.sequence
        WHERE (registry.migrationId = excluded.migrationId AND excluded.sequence > registry.sequence)
            OR (registry.migrationId != excluded.migrationId AND excluded.updatedAt > registry.updatedAt)
        """

    /// Inserts `record`, or replaces the stored row when `record` is newer; says whether the registry changed.
    private static func upsert(_ record: RegistryRecord, _ db: Database) throws -> Bool {
        let upsert = try db.cachedStatement(sql: Self.upsertSQL)
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
