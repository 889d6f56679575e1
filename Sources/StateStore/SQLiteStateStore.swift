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
/// Every write is one transaction, so a kill leaves the journal at the last completed write.
public final class SQLiteStateStore: StateStore, Sendable {
    /// The file.
    public let path: String
    /// GRDB serializes access on its own queue and its async `read`/`write` suspend rather than block the caller's
    /// thread; `DatabaseQueue` is `Sendable`.
    private let database: DatabaseQueue

    /// Opens (or creates) the store and brings its schema up to date.
    public init(path: String) throws {
        self.path = path
        do {
            var configuration = Configuration()
            // Another run holding the file should wait briefly rather than fail at once.
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                // WAL with synchronous=NORMAL: a killed process never loses a committed transaction (only a power
                // cut may lose the last few), and a run of thousands of steps does not wait on an fsync per write.
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            self.database = try DatabaseQueue(path: path, configuration: configuration)
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
        return migrator
    }

    private func wrap<T>(_ body: () async throws -> T) async throws -> T {
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
        try await self.wrap {
            try await self.database.write { db in
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
