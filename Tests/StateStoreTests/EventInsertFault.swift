//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import PostgresStateStore
import StateStore
import TestSupport

/// A failure injected into a real store: a trigger that aborts the insert of the outbox event with id
/// ``poisonId``, so that a test can watch a transaction roll back half-way (after the rows before the poisoned
/// event were written). SQLite's trigger is created by Python's sqlite3 on the file, PostgreSQL's over a
/// connection of its own.
enum EventInsertFault {
    /// The event id whose insert fails.
    static let poisonId = "poison"

    /// Installs the trigger into `store` (a ``SQLiteStateStore`` or a ``PostgresClaimStore``).
    static func install(into store: any Sendable) async throws {
        if let sqlite = store as? SQLiteStateStore {
            try await Self.python(
                """
                import sqlite3, sys
                db = sqlite3.connect(sys.argv[1], isolation_level=None)
                db.execute('''CREATE TRIGGER poison BEFORE INSERT ON outbox WHEN NEW.id = '\(Self.poisonId)'
                              BEGIN SELECT RAISE(ABORT, 'injected failure'); END''')
                """,
                sqlite.path
            )
        } else if let postgres = store as? PostgresClaimStore {
            // The store creates its schema on its first operation: make sure the table exists first.
            _ = try await postgres.outboxEvents(fromPosition: 0, limit: 1)
            _ = try await PostgresClaimStoreTests.query(
                postgres.location,
                """
                CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'injected failure'; END $$
                """
            )
            _ = try await PostgresClaimStoreTests.query(
                postgres.location,
                """
                CREATE TRIGGER poison BEFORE INSERT ON iotbridge_outbox
                FOR EACH ROW WHEN (NEW.id = '\(Self.poisonId)') EXECUTE FUNCTION poison()
                """
            )
        } else {
            throw Unsupported()
        }
    }

    struct Unsupported: Error {}

    struct PythonFailed: Error {
        let status: Int32
    }

    /// Runs a Python script with one argument, through the system interpreter (its sqlite3 is Debian's SQLite).
    static func python(_ script: String, _ argument: String) async throws {
        let run = try await ChildProcess.run("/usr/bin/python3", ["-c", script, argument])
        guard run.status == 0 else { throw PythonFailed(status: run.status) }
    }
}
