//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore
import TestSupport
import Testing

/// Migration v4 of the SQLite store (the outbox without secondary indexes, and its delivery cursor) on a file that
/// an earlier build wrote: the v3 outbox is made by Python's sqlite3, an independent writer of the same format.
@Suite struct SQLiteOutboxMigrationTests {
    /// Turns a current state file back into v3's outbox (the shipped DDL) holding three events of migration `m`,
    /// the first two delivered.
    static func rewriteAsVersion3(_ path: String) async throws {
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.executescript('''
            BEGIN;
            DROP TABLE outbox;
            DROP TABLE outboxCursor;
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
            INSERT INTO outbox (id, type, source, subject, time, migrationId, sequence, data, delivered) VALUES
                ('e1', 'com.iotbridge.migration.device.migrated', 's', 'a1PK/dev-1', 1, 'm', 1, '{}', 1),
                ('e2', 'com.iotbridge.migration.device.migrated', 's', 'a1PK/dev-2', 2, 'm', 2, '{}', 1),
                ('e3', 'com.iotbridge.migration.device.migrated', 's', 'a1PK/dev-3', 3, 'm', 3, '{"a":1}', 0);
            INSERT OR REPLACE INTO migrationSequence (migrationId, last) VALUES ('m', 3);
            DELETE FROM grdb_migrations WHERE identifier = 'v4';
            COMMIT;
            ''')
            print(db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'outbox%'").fetchone()[0])
            """
        let run = try await ChildProcess.run("/usr/bin/python3", ["-c", script, path])
        guard run.status == 0, run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3" else {
            throw RewriteFailed(status: run.status, output: run.stdout + run.stderr)
        }
    }

    struct RewriteFailed: Error {
        let status: Int32
        let output: String
    }

    @Test func aVersion3OutboxKeepsItsPositionsDeliveredFlagsAndSequences() async throws {
        let folder = try StateFolder()
        do {
            let store = try folder.open()
            _ = try await store.seed([RegistrySeed(device: DeviceKey(productKey: "a1PK", deviceName: "dev-9"), iotInstanceId: "")], at: 1)
        }
        try await Self.rewriteAsVersion3(folder.statePath)

        let store = try folder.open()
        let all = try await store.outboxEvents(fromPosition: 0, limit: 10)
        #expect(all.map(\.position) == [1, 2, 3])
        #expect(all.map(\.draft.id) == ["e1", "e2", "e3"])
        #expect(all.map(\.delivered) == [true, true, false])
        #expect(all.last?.draft.data == "{\"a\":1}")
        #expect(try await store.undeliveredEvents(limit: 10).map(\.position) == [3])
        #expect(try await store.counts().outbox == OutboxCounts(written: 3, undelivered: 1))

        // New events continue the positions and the migration's sequence.
        let next = try await store.commit([
            OutboxDraft(
                id: "e4",
                type: "com.iotbridge.migration.device.migrated",
                source: "s",
                subject: "a1PK/dev-9",
                time: 4,
                migrationId: "m",
                data: "{}",
                registryUpdate: RegistryUpdate(
                    device: DeviceKey(productKey: "a1PK", deviceName: "dev-9"),
                    iotInstanceId: "iot-b",
                    sourceInstanceId: ""
                )
            )
        ])
        #expect(next.map(\.position) == [4] && next.map(\.sequence) == [4])
        #expect(try await store.lookup(DeviceKey(productKey: "a1PK", deviceName: "dev-9"))?.iotInstanceId == "iot-b")
        try await store.markDelivered(positions: [3, 4])
        #expect(try await store.undeliveredEvents(limit: 10).isEmpty)
        #expect(try await store.counts().outbox == OutboxCounts(written: 4, undelivered: 0))
    }
}
