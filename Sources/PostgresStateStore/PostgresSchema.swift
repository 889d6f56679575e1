//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The store's schema, as numbered migrations applied at start.
//
// Several replicas may start at once against an empty database. Each applies the migrations in one transaction
// that first takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`): the others wait for it, then find
// the versions recorded and apply nothing. DDL is transactional in PostgreSQL, so a replica killed half-way leaves
// no half-made schema. A database whose recorded version is newer than this build knows is refused: an older
// binary must not write into a schema it does not understand.

import PostgresNIO

/// The versioned schema of the PostgreSQL state store.
enum PostgresSchema {
    /// One migration: a version and the statements that make it (each sent on its own; the extended protocol
    /// takes one statement at a time).
    struct Migration {
        let version: Int32
        let summary: String
        let statements: [PostgresQuery]
    }

    /// The advisory-lock key of schema migrations ('iotb' and 1): one value every replica agrees on.
    static let migrationLock: Int64 = 0x696F_7462_0000_0001
    /// The advisory-lock key of window expiry ('iotb' and 2): one replica expires at a time.
    static let expiryLock: Int64 = 0x696F_7462_0000_0002
    /// The first half of a migration run's advisory-lock key ('iotb'); the second half is a hash of the
    /// migration id (PostgresMigrationLock.swift). The two-key form keeps these apart from the keys above.
    static let runLockClass: Int32 = 0x696F_7462

    /// Every migration, in order. Append; never edit one that has shipped.
    static let migrations: [Migration] = [
        Migration(
            version: 1,
            summary: "claims: the de-duplication window",
            statements: [
                // One row per (key, content digest); the same columns as SQLite's `claim` table.
                """
                CREATE TABLE iotbridge_claim (
                    key bytea NOT NULL,
                    content_digest bigint NOT NULL,
                    owner text NOT NULL,
                    lease_until bigint NOT NULL,
                    done boolean NOT NULL,
                    dead_lettered boolean NOT NULL,
                    terminal_targets text[] NOT NULL,
                    upstream text NOT NULL,
                    created_at bigint NOT NULL,
                    PRIMARY KEY (key, content_digest)
                )
                """,
                "CREATE INDEX iotbridge_claim_by_age ON iotbridge_claim (created_at)",
                // Only the rows in flight: renewLeases does not scan the window.
                "CREATE INDEX iotbridge_claim_in_flight ON iotbridge_claim (owner) WHERE NOT done",
                PostgresQuery(unsafeSQL: Self.claimBatchFunction),
            ]
        ),
        Migration(
            version: 2,
            summary: "registry, event outbox, migration sequences, sightings, delivery lease",
            statements: PostgresClaimStore.registrySchema
        ),
        Migration(
            version: 3,
            summary: "migration journal, step events, per-migration metadata",
            statements: PostgresClaimStore.journalSchema
        ),
    ]

    /// Claims a batch in one call (one round trip), with SQLite's sequential semantics.
    ///
    /// Requests are taken in key order, so that two replicas claiming overlapping batches lock rows in the same
    /// order and cannot deadlock. Each request first tries to insert (the common case: a new message); a key that
    /// exists is locked (`FOR UPDATE` sees the latest committed row, also one another replica committed after this
    /// statement began) and decided on: done, held under a live lease, or taken over. A row removed between the
    /// two (expiry) is inserted again. `state`: 0 claimed, 1 in flight, 2 done.
    static let claimBatchFunction = """
        CREATE FUNCTION iotbridge_claim_batch(
            keys bytea[], digests bigint[], upstreams text[], claimer text, now_ms bigint, lease_ms bigint,
            others_gone boolean
        ) RETURNS TABLE (ordinal bigint, state smallint, holder text, origin text, targets text[], dead boolean,
                         conflict boolean)
        LANGUAGE plpgsql AS $$
        DECLARE
            request record;
            stored iotbridge_claim%ROWTYPE;
        BEGIN
            FOR request IN
                SELECT q.k, q.d, q.u, q.i FROM unnest(keys, digests, upstreams) WITH ORDINALITY AS q(k, d, u, i)
                ORDER BY q.k, q.d, q.i
            LOOP
                LOOP
                    INSERT INTO iotbridge_claim (key, content_digest, owner, lease_until, done, dead_lettered,
                                                 terminal_targets, upstream, created_at)
                    VALUES (request.k, request.d, claimer, lease_ms, false, false, '{}', request.u, now_ms)
                    ON CONFLICT DO NOTHING;
                    IF FOUND THEN
                        ordinal := request.i; state := 0; holder := claimer; origin := request.u;
                        targets := '{}'; dead := false;
                        conflict := EXISTS (SELECT 1 FROM iotbridge_claim c
                                            WHERE c.key = request.k AND c.content_digest <> request.d);
                        RETURN NEXT;
                        EXIT;
                    END IF;
                    SELECT * INTO stored FROM iotbridge_claim c
                    WHERE c.key = request.k AND c.content_digest = request.d FOR UPDATE;
                    CONTINUE WHEN NOT FOUND;
                    ordinal := request.i; origin := stored.upstream; targets := stored.terminal_targets;
                    dead := stored.dead_lettered; conflict := false;
                    IF stored.done THEN
                        state := 2; holder := '';
                    ELSIF stored.lease_until > now_ms AND (stored.owner = claimer OR NOT others_gone) THEN
                        state := 1; holder := stored.owner;
                    ELSE
                        UPDATE iotbridge_claim c SET owner = claimer, lease_until = lease_ms
                        WHERE c.key = request.k AND c.content_digest = request.d;
                        state := 0; holder := claimer;
                    END IF;
                    RETURN NEXT;
                    EXIT;
                END LOOP;
            END LOOP;
        END
        $$
        """

    /// Applies the migrations this database lacks, under the migration lock; returns the versions applied.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int32] {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS iotbridge_schema (
                    version integer PRIMARY KEY,
                    summary text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var applied: Set<Int32> = []
            for try await version in try await connection.query(
                "SELECT version FROM iotbridge_schema",
                logger: logger
            ).decode(Int32.self) {
                applied.insert(version)
            }
            let known = Set(Self.migrations.map(\.version))
            if let newer = applied.subtracting(known).max() {
                throw PostgresSchemaError(
                    "the database has schema version \(newer), newer than this iotbridge knows "
                        + "(\(known.max() ?? 0)); run the newer iotbridge, or another database"
                )
            }
            var done: [Int32] = []
            for migration in Self.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(statement, logger: logger)
                }
                try await connection.query(
                    "INSERT INTO iotbridge_schema (version, summary) VALUES (\(migration.version), \(migration.summary))",
                    logger: logger
                )
                done.append(migration.version)
            }
            return done
        }
    }
}

/// The schema cannot be used by this build.
struct PostgresSchemaError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
