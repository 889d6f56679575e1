//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import PostgresStateStore
import StateStore

/// Where a plan's journal lives: a SQLite file (the default, `<plan>.journal.sqlite`), or a PostgreSQL database
/// that bridge replicas and other operators may share.
public enum JournalLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresLocation)

    /// Reads `--state`: a file path, or `postgres://USER:${VAR}@HOST:PORT/DB` checked like `state:` in the config.
    ///
    /// - Throws: ``MigrationError`` `.config` naming what is wrong (never a password).
    public init(option text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard PostgresLocation.isURL(text) else {
            self = .sqlite(path: text)
            return
        }
        do {
            self = .postgres(try PostgresLocation(configured: text, key: "--state", environment: environment))
        } catch {
            throw MigrationError(.config, "\(error)")
        }
    }

    /// The file, or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let location): return location.description
        }
    }

    /// Opens the journal. A PostgreSQL journal runs its connection pool for as long as the returned store lives
    /// and brings its schema up to date on first use.
    public func open() throws -> any StateStore {
        switch self {
        case .sqlite(let path):
            do {
                return try SQLiteStateStore(path: path)
            } catch {
                throw MigrationError(.journal, "\(error)")
            }
        case .postgres(let location):
            var logger = Logger(label: "iotbridge.state")
            // The pool logs every refused connection; the operation's own error says it once, with advice.
            logger.logLevel = .critical
            do {
                return RunningPostgresJournal(try PostgresClaimStore(location: location, maximumConnections: 4, logger: logger))
            } catch {
                throw MigrationError(.journal, "state store \(location): \(error)")
            }
        }
    }
}

/// A PostgreSQL store whose pool runs while the value lives: the migration commands are not a service group, and
/// need the store only for the length of one command.
final class RunningPostgresJournal: StateStore, MigrationRunLocking, Sendable {
    let store: PostgresClaimStore
    private let pool: Task<Void, Never>

    init(_ store: PostgresClaimStore) {
        self.store = store
        self.pool = Task { await store.run() }
    }

    deinit {
        self.pool.cancel()
    }

    func entries(migrationId: String) async throws -> [JournalEntry] {
        try await self.store.entries(migrationId: migrationId)
    }

    func save(_ entry: JournalEntry) async throws {
        try await self.store.save(entry)
    }

    func save(_ entry: JournalEntry, events: [OutboxDraft]) async throws {
        try await self.store.save(entry, events: events)
    }

    func events(migrationId: String) async throws -> [StepEvent] {
        try await self.store.events(migrationId: migrationId)
    }

    func metadata(migrationId: String, key: String) async throws -> String? {
        try await self.store.metadata(migrationId: migrationId, key: key)
    }

    func setMetadata(migrationId: String, key: String, value: String) async throws {
        try await self.store.setMetadata(migrationId: migrationId, key: key, value: value)
    }

    func lockMigrationRun(
        migrationId: String,
        holder: String,
        wait: Bool,
        waiting: @escaping @Sendable (String) -> Void
    ) async throws -> any MigrationRunLease {
        try await self.store.lockMigrationRun(migrationId: migrationId, holder: holder, wait: wait, waiting: waiting)
    }
}
