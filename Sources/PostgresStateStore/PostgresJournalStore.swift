//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The migration journal in PostgreSQL (schema version 3): the same contract and columns as SQLiteStateStore.swift,
// so that `migrate run` and the bridge replicas may share one database (issue 14).
//
// A save is one transaction: the outbox events (PostgresRegistryStore.swift's `insert(_:on:)`, which takes the
// migration's sequence row), the journal row and, when the state changed, its step event. The previous state is
// read `FOR UPDATE`, so two writers of one step (which the run lock, PostgresMigrationLock.swift, prevents anyway)
// would still take turns rather than both skip or both write the step event.

import Foundation
import PostgresNIO
public import StateStore

extension PostgresClaimStore: StateStore {
    /// Schema version 3: journal, step events, per-migration metadata.
    static let journalSchema: [PostgresQuery] = [
        """
        CREATE TABLE iotbridge_journal (
            migration_id text NOT NULL,
            step_id text NOT NULL,
            ordinal integer NOT NULL,
            action text NOT NULL,
            name text NOT NULL,
            state text NOT NULL,
            target_id text,
            created boolean NOT NULL,
            attempts integer NOT NULL,
            last_error text,
            updated_at bigint NOT NULL,
            PRIMARY KEY (migration_id, step_id)
        )
        """,
        """
        CREATE TABLE iotbridge_step_event (
            sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            migration_id text NOT NULL,
            step_id text NOT NULL,
            state text NOT NULL,
            target_id text,
            at bigint NOT NULL,
            delivered boolean NOT NULL DEFAULT false
        )
        """,
        "CREATE INDEX iotbridge_step_event_by_migration ON iotbridge_step_event (migration_id, sequence)",
        """
        CREATE TABLE iotbridge_migration_metadata (
            migration_id text NOT NULL,
            key text NOT NULL,
            value text NOT NULL,
            PRIMARY KEY (migration_id, key)
        )
        """,
    ]

    private static let journalColumns =
        "migration_id, step_id, ordinal, action, name, state, target_id, created, attempts, last_error, updated_at"

    /// Every entry of a migration, in plan order.
    public func entries(migrationId: String) async throws -> [JournalEntry] {
        try await self.operation("journal read") {
            let rows = try await self.client.query(
                """
                SELECT \(unescaped: Self.journalColumns) FROM iotbridge_journal
                WHERE migration_id = \(migrationId) ORDER BY ordinal, step_id
                """,
                logger: self.logger
            )
            var result: [JournalEntry] = []
            for try await (migration, step, ordinal, action, name, state, targetId, created, attempts, lastError, at)
                in rows.decode((String, String, Int32, String, String, String, String?, Bool, Int32, String?, Int64).self)
            {
                result.append(
                    JournalEntry(
                        migrationId: migration,
                        stepId: step,
                        ordinal: Int(ordinal),
                        action: action,
                        name: name,
                        state: state,
                        targetId: targetId,
                        created: created,
                        attempts: Int(attempts),
                        lastError: lastError,
                        updatedAt: at
                    )
                )
            }
            return result
        }
    }

    /// Writes an entry and, when its state changed, appends a step event in the same transaction.
    public func save(_ entry: JournalEntry) async throws {
        try await self.save(entry, events: [])
    }

    /// Writes an entry, its step event, and `events` in one transaction.
    public func save(_ entry: JournalEntry, events: [OutboxDraft]) async throws {
        var stamped = entry
        stamped.updatedAt = Int64(Date().timeIntervalSince1970 * 1000)
        guard let ordinal = Int32(exactly: stamped.ordinal), let attempts = Int32(exactly: stamped.attempts) else {
            throw StateStoreError(
                path: self.location.description,
                message: "step \(stamped.stepId): ordinal \(stamped.ordinal) or attempts \(stamped.attempts) out of range",
                advice: nil
            )
        }
        let row = stamped
        try await self.operation("journal save") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                _ = try await self.insert(events, on: connection)
                let previous = try await connection.query(
                    """
                    SELECT state FROM iotbridge_journal
                    WHERE migration_id = \(row.migrationId) AND step_id = \(row.stepId) FOR UPDATE
                    """,
                    logger: self.logger
                )
                var previousState: String?
                for try await state in previous.decode(String.self) { previousState = state }
                try await connection.query(
                    """
                    INSERT INTO iotbridge_journal (\(unescaped: Self.journalColumns))
                    VALUES (\(row.migrationId), \(row.stepId), \(ordinal), \(row.action), \(row.name), \(row.state),
                            \(row.targetId), \(row.created), \(attempts), \(row.lastError), \(row.updatedAt))
                    ON CONFLICT (migration_id, step_id) DO UPDATE SET
                        ordinal = excluded.ordinal, action = excluded.action, name = excluded.name,
                        state = excluded.state, target_id = excluded.target_id, created = excluded.created,
                        attempts = excluded.attempts, last_error = excluded.last_error,
                        updated_at = excluded.updated_at
                    """,
                    logger: self.logger
                )
                // One event per state change, in the same transaction as the change (the outbox rule).
                if previousState != row.state {
                    try await connection.query(
                        """
                        INSERT INTO iotbridge_step_event (migration_id, step_id, state, target_id, at)
                        VALUES (\(row.migrationId), \(row.stepId), \(row.state), \(row.targetId), \(row.updatedAt))
                        """,
                        logger: self.logger
                    )
                }
            }
        }
    }

    /// The step events of a migration, in sequence order.
    public func events(migrationId: String) async throws -> [StepEvent] {
        try await self.operation("step events read") {
            let rows = try await self.client.query(
                """
                SELECT sequence, migration_id, step_id, state, target_id, at, delivered FROM iotbridge_step_event
                WHERE migration_id = \(migrationId) ORDER BY sequence
                """,
                logger: self.logger
            )
            var result: [StepEvent] = []
            for try await (sequence, migration, step, state, targetId, at, delivered) in rows.decode(
                (Int64, String, String, String, String?, Int64, Bool).self
            ) {
                result.append(
                    StepEvent(
                        sequence: sequence,
                        migrationId: migration,
                        stepId: step,
                        state: state,
                        targetId: targetId,
                        at: at,
                        delivered: delivered
                    )
                )
            }
            return result
        }
    }

    /// A value recorded for a migration.
    public func metadata(migrationId: String, key: String) async throws -> String? {
        try await self.operation("metadata read") {
            let rows = try await self.client.query(
                """
                SELECT value FROM iotbridge_migration_metadata WHERE migration_id = \(migrationId) AND key = \(key)
                """,
                logger: self.logger
            )
            var value: String?
            for try await text in rows.decode(String.self) { value = text }
            return value
        }
    }

    /// Records a value for a migration.
    public func setMetadata(migrationId: String, key: String, value: String) async throws {
        try await self.operation("metadata write") {
            _ = try await self.client.query(
                """
                INSERT INTO iotbridge_migration_metadata (migration_id, key, value)
                VALUES (\(migrationId), \(key), \(value))
                ON CONFLICT (migration_id, key) DO UPDATE SET value = excluded.value
                """,
                logger: self.logger
            )
        }
    }
}
