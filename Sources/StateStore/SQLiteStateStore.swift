//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB

/// The embedded state store: one SQLite file (WAL), written through GRDB.
///
/// Every write is one transaction, so a kill leaves the journal at the last completed write. The same file holds
/// the de-duplication window of the bridge (``ClaimStore``, in `SQLiteClaimStore.swift`).
public final class SQLiteStateStore: StateStore, Sendable {
    /// How far a committed transaction survives.
    public enum Synchronous: Sendable, Hashable {
        /// `synchronous = NORMAL` (WAL): a killed process never loses a committed transaction; a power cut or an OS
        /// crash may lose the last ones (the WAL is synced at checkpoints only). No fsync per transaction.
        case normal
        /// `synchronous = FULL`: the WAL is synced at every commit, so a power cut loses nothing committed either.
        /// Costs one fsync per transaction (a claim batch is one transaction).
        case full
    }

    /// The file.
    public let path: String
    /// GRDB's pool: one writer connection (writes serialized on its queue) and reader connections that read the
    /// last committed state beside it (WAL), so a claim lookup, a registry lookup or an outbox read never waits
    /// for a write transaction or a checkpoint. Its async `read`/`write` suspend rather than block the caller's thread; it is `Sendable`.
    let database: DatabasePool
    /// Held for the store's lifetime when it was opened `exclusive`; released by its `deinit`.
    private let lock: StateFileLock?

    /// The page cache of the connection, in KiB: a window of a million claims (~180 MB) stays on disk and in the
    /// OS page cache rather than in the process.
    static let cacheKiB = 8 * 1024
    /// The page cache of each reader connection, in KiB: lookups read a few pages each, the rest comes from the
    /// OS page cache; small, so that readers do not add much to the bridge's memory.
    static let readerCacheKiB = 4 * 1024
    /// Reader connections beside the writer: the bridge's claim lookups (one per upstream batch at a time), the
    /// registry's lookups and the counts for /status.
    static let readers = 3
    /// WAL pages between automatic checkpoints (SQLite's default: 1,000).
    static let checkpointPages = 10_000

    /// Opens (or creates) the store and brings its schema up to date.
    ///
    /// - Parameters:
    ///   - synchronous: how far a committed write survives; ``Synchronous/normal`` unless power-loss safety is
    ///     worth an fsync per write.
    ///   - exclusive: takes an advisory lock on `path` + `.lock` for the store's lifetime and throws, naming the
    ///     holder's pid, when another store (another bridge, or another store of this process) holds it. The
    ///     bridge opens its state file exclusively (its claims assume no other process shares them); the migration
    ///     tools do not.
    public init(path: String, synchronous: Synchronous = .normal, exclusive: Bool = false) throws {
        self.path = path
        // Lock before opening, so that a second bridge neither migrates the schema nor touches the WAL.
        self.lock = exclusive ? try StateFileLock(statePath: path) : nil
        do {
            var configuration = Configuration()
            // Another run holding the file should wait briefly rather than fail at once.
            configuration.busyMode = .timeout(5)
            configuration.maximumReaderCount = Self.readers
            configuration.prepareDatabase { db in
                // Reader connections are read-only: they read the WAL the writer set up and change nothing.
                if db.configuration.readonly {
                    try db.execute(sql: "PRAGMA cache_size = -\(Self.readerCacheKiB)")
                    return
                }
                // WAL: a killed process never loses a committed transaction, and a run of thousands of steps does
                // not wait on an fsync per write unless FULL asks for it.
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                switch synchronous {
                case .normal: try db.execute(sql: "PRAGMA synchronous = NORMAL")
                case .full: try db.execute(sql: "PRAGMA synchronous = FULL")
                }
                // Negative: KiB rather than pages. Bounds the memory of a large claim window.
                try db.execute(sql: "PRAGMA cache_size = -\(Self.cacheKiB)")
                // Claims of random keys dirty a page of the key index each: checkpointing every 10,000 pages
                // rather than 1,000 writes a page dirtied by several batches once, and syncs a tenth as often
                // (claims 60,000/s rather than 47,000/s with a million claims), for a WAL of up to ~40 MB.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.checkpointPages)")
            }
            self.database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(self.database)
        } catch {
            throw StateStoreError(path: path, message: "cannot open: \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "journal") { t in
                t.column("migrationId", .text).notNull()
                t.column("stepId", .text).notNull()
                t.column("ordinal", .integer).notNull()
                t.column("action", .text).notNull()
                t.column("name", .text).notNull()
                t.column("state", .text).notNull()
                t.column("targetId", .text)
                t.column("created", .boolean).notNull()
                t.column("attempts", .integer).notNull()
                t.column("lastError", .text)
                t.column("updatedAt", .integer).notNull()
                t.primaryKey(["migrationId", "stepId"])
            }
            try db.create(table: "stepEvent") { t in
                t.autoIncrementedPrimaryKey("sequence")
                t.column("migrationId", .text).notNull().indexed()
                t.column("stepId", .text).notNull()
                t.column("state", .text).notNull()
                t.column("targetId", .text)
                t.column("at", .integer).notNull()
                t.column("delivered", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "metadata") { t in
                t.column("migrationId", .text).notNull()
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["migrationId", "key"])
            }
        }
        migrator.registerMigration("v2", migrate: Self.createClaimTable)
        migrator.registerMigration("v3", migrate: Self.createRegistryTables)
        migrator.registerMigration("v4", migrate: Self.leanOutbox)
        return migrator
    }

    /// Runs `body`, turning any failure into a ``StateStoreError`` that names the file.
    func wrap<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StateStoreError {
            throw error
        } catch {
            throw StateStoreError(path: self.path, message: "\(error)")
        }
    }

    /// Every entry of a migration, in plan order.
    public func entries(migrationId: String) async throws -> [JournalEntry] {
        try await self.wrap {
            try await self.database.read { db in
                try JournalRow.filter(Column("migrationId") == migrationId).order(Column("ordinal")).fetchAll(db)
                    .map(\.entry)
            }
        }
    }

    /// Writes an entry and, when its state changed, appends a step event in the same transaction.
    public func save(_ entry: JournalEntry) async throws {
        try await self.save(entry, events: [])
    }

    /// Writes an entry, its step event, and `events` in one transaction.
    public func save(_ entry: JournalEntry, events: [OutboxDraft]) async throws {
        try await self.wrap {
            try await self.database.write { db in
                _ = try self.insert(events, db)
                var stamped = entry
                stamped.updatedAt = Int64(Date().timeIntervalSince1970 * 1000)
                let previous = try JournalRow.fetchOne(
                    db,
                    key: ["migrationId": entry.migrationId, "stepId": entry.stepId]
                )
                try JournalRow(stamped).save(db)
                // One event per state change, in the same transaction as the change (the outbox rule).
                if previous?.state != stamped.state {
                    try db.execute(
                        sql: "INSERT INTO stepEvent (migrationId, stepId, state, targetId, at) VALUES (?, ?, ?, ?, ?)",
                        arguments: [
                            stamped.migrationId, stamped.stepId, stamped.state, stamped.targetId, stamped.updatedAt,
                        ]
                    )
                }
            }
        }
    }

    /// The outbox of a migration, in sequence order.
    public func events(migrationId: String) async throws -> [StepEvent] {
        try await self.wrap {
            try await self.database.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM stepEvent WHERE migrationId = ? ORDER BY sequence",
                    arguments: [migrationId]
                ).map { row in
                    StepEvent(
                        sequence: row["sequence"],
                        migrationId: row["migrationId"],
                        stepId: row["stepId"],
                        state: row["state"],
                        targetId: row["targetId"],
                        at: row["at"],
                        delivered: row["delivered"]
                    )
                }
            }
        }
    }

    /// A value recorded for a migration.
    public func metadata(migrationId: String, key: String) async throws -> String? {
        try await self.wrap {
            try await self.database.read { db in
                try String.fetchOne(
                    db,
                    sql: "SELECT value FROM metadata WHERE migrationId = ? AND key = ?",
                    arguments: [migrationId, key]
                )
            }
        }
    }

    /// Records a value for a migration.
    public func setMetadata(migrationId: String, key: String, value: String) async throws {
        try await self.wrap {
            try await self.database.write { db in
                try db.execute(
                    sql: "INSERT OR REPLACE INTO metadata (migrationId, key, value) VALUES (?, ?, ?)",
                    arguments: [migrationId, key, value]
                )
            }
        }
    }
}

/// The GRDB record behind ``JournalEntry``; keeps GRDB out of the public API.
private struct JournalRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "journal"

    var migrationId: String
    var stepId: String
    var ordinal: Int
    var action: String
    var name: String
    var state: String
    var targetId: String?
    var created: Bool
    var attempts: Int
    var lastError: String?
    var updatedAt: Int64

    init(_ entry: JournalEntry) {
        self.migrationId = entry.migrationId
        self.stepId = entry.stepId
        self.ordinal = entry.ordinal
        self.action = entry.action
        self.name = entry.name
        self.state = entry.state
        self.targetId = entry.targetId
        self.created = entry.created
        self.attempts = entry.attempts
        self.lastError = entry.lastError
        self.updatedAt = entry.updatedAt
    }

    var entry: JournalEntry {
        JournalEntry(
            migrationId: self.migrationId,
            stepId: self.stepId,
            ordinal: self.ordinal,
            action: self.action,
            name: self.name,
            state: self.state,
            targetId: self.targetId,
            created: self.created,
            attempts: self.attempts,
            lastError: self.lastError,
            updatedAt: self.updatedAt
        )
    }
}
