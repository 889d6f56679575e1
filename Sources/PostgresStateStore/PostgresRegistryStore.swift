//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The instance registry and the event outbox in PostgreSQL (schema version 2), shared by bridge replicas; the same
// contract and columns as SQLiteRegistryStore.swift.
//
// A commit is a few round trips whatever its size: one statement per migration for the sequences, one for all the
// outbox rows (arrays through `unnest`), one for the registry rows (more only when a device changes twice).
//
// Sequences: each migration's last sequence is one row of `iotbridge_migration_sequence`, advanced by the number of
// events a transaction writes (`INSERT … ON CONFLICT DO UPDATE … RETURNING`). The row stays locked until the
// transaction commits, so two replicas writing events of one migration take turns: sequences have no gaps, never
// repeat, and a later transaction's events also get later outbox positions.
//
// Delivery: every replica runs the outbox delivery loop, but only the holder of the delivery lease (one row of
// `iotbridge_outbox_lease`, renewed on each read, 15 s) is handed undelivered events; the others get none. Two
// replicas sending the same batch would still be correct (subscribers de-duplicate by the event's id) but would
// interleave two copies of the sequence; with the lease a subscriber sees one ordered stream, and when the holder
// dies another replica takes over once the lease ran out and sends what was not yet marked delivered.

import Foundation
import PostgresNIO
public import StateStore

extension PostgresClaimStore: InstanceRegistryStore, EventOutbox, RegistryTotals {
    /// Schema version 2: registry, outbox, per-migration sequences, sightings and the delivery lease.
    static let registrySchema: [PostgresQuery] = [
        """
        CREATE TABLE iotbridge_registry (
            product_key text NOT NULL,
            device_name text NOT NULL,
            iot_instance_id text NOT NULL,
            source_instance_id text NOT NULL,
            updated_at bigint NOT NULL,
            migration_id text NOT NULL,
            sequence bigint NOT NULL,
            PRIMARY KEY (product_key, device_name)
        )
        """,
        """
        CREATE TABLE iotbridge_outbox (
            position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL UNIQUE,
            type text NOT NULL,
            source text NOT NULL,
            subject text NOT NULL,
            time bigint NOT NULL,
            migration_id text NOT NULL,
            sequence bigint NOT NULL,
            data text NOT NULL,
            delivered boolean NOT NULL DEFAULT false,
            UNIQUE (migration_id, sequence)
        )
        """,
        "CREATE INDEX iotbridge_outbox_undelivered ON iotbridge_outbox (position) WHERE NOT delivered",
        """
        CREATE TABLE iotbridge_migration_sequence (
            migration_id text PRIMARY KEY,
            last bigint NOT NULL
        )
        """,
        """
        CREATE TABLE iotbridge_sighting (
            product_key text NOT NULL,
            device_name text NOT NULL,
            iot_instance_id text NOT NULL,
            last_seen bigint NOT NULL,
            PRIMARY KEY (product_key, device_name, iot_instance_id)
        )
        """,
        """
        CREATE TABLE iotbridge_outbox_lease (
            id integer PRIMARY KEY CHECK (id = 1),
            owner text NOT NULL,
            until bigint NOT NULL
        )
        """,
    ]

    /// How long the delivery lease lasts without a renewal: the longest events wait when its holder died.
    static let deliveryLease: Int64 = 15_000

    // MARK: - Registry

    /// Where a device lives, or `nil`.
    public func lookup(_ device: DeviceKey) async throws -> RegistryRecord? {
        try await self.operation("registry lookup") {
            let rows = try await self.client.query(
                """
                SELECT \(unescaped: Self.registryColumns) FROM iotbridge_registry
                WHERE product_key = \(device.productKey) AND device_name = \(device.deviceName)
                """,
                logger: self.logger
            )
            return try await Self.records(rows).first
        }
    }

    /// Seeds devices not yet known, on their source instance; returns how many were new.
    public func seed(_ devices: [RegistrySeed], at time: Int64) async throws -> Int {
        guard !devices.isEmpty else { return 0 }
        let products = devices.map(\.device.productKey)
        let names = devices.map(\.device.deviceName)
        let instances = devices.map(\.iotInstanceId)
        return try await self.operation("registry seed") {
            let rows = try await self.client.query(
                """
                INSERT INTO iotbridge_registry
                    (product_key, device_name, iot_instance_id, source_instance_id, updated_at, migration_id, sequence)
                SELECT s.p, s.n, s.i, s.i, \(time), '', 0
                FROM unnest(\(products)::text[], \(names)::text[], \(instances)::text[]) AS s(p, n, i)
                ORDER BY s.p, s.n
                ON CONFLICT DO NOTHING
                RETURNING 1
                """,
                logger: self.logger
            )
            var added = 0
            for try await _ in rows { added += 1 }
            return added
        }
    }

    /// Registry rows in device order, after `after`, at most `limit`; only `product`'s when given.
    public func records(product: String?, after: DeviceKey?, limit: Int) async throws -> [RegistryRecord] {
        try await self.operation("registry list") {
            let rows = try await self.client.query(Self.page(product: product, after: after, limit: limit), logger: self.logger)
            return try await Self.records(rows)
        }
    }

    /// Appends events and applies their registry updates, in one transaction.
    public func commit(_ drafts: [OutboxDraft]) async throws -> [OutboxEvent] {
        guard !drafts.isEmpty else { return [] }
        return try await self.operation("event commit") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await self.insert(drafts, on: connection)
            }
        }
    }

    /// Appends drafts inside the caller's transaction; see the file header for how sequences are taken.
    func insert(_ drafts: [OutboxDraft], on connection: PostgresConnection) async throws -> [OutboxEvent] {
        var counts: [String: Int64] = [:]
        for draft in drafts { counts[draft.migrationId, default: 0] += 1 }
        // Migration order, so that two transactions lock sequence rows in the same order and cannot deadlock.
        var next: [String: Int64] = [:]
        for migrationId in counts.keys.sorted() {
            let count = counts[migrationId]!
            let rows = try await connection.query(
                """
                INSERT INTO iotbridge_migration_sequence AS s (migration_id, last) VALUES (\(migrationId), \(count))
                ON CONFLICT (migration_id) DO UPDATE SET last = s.last + excluded.last
                RETURNING last
                """,
                logger: self.logger
            )
            var last: Int64 = count
            for try await value in rows.decode(Int64.self) { last = value }
            next[migrationId] = last - count + 1
        }
        // The events in one statement: arrays in, each row's position out. Rows are inserted in draft order
        // (ORDER BY ordinality), so positions follow sequences; they are matched back by (migration, sequence).
        var sequences: [Int64] = []
        sequences.reserveCapacity(drafts.count)
        for draft in drafts {
            let sequence = next[draft.migrationId]!
            next[draft.migrationId] = sequence + 1
            sequences.append(sequence)
        }
        let rows = try await connection.query(
            """
            INSERT INTO iotbridge_outbox (id, type, source, subject, time, migration_id, sequence, data)
            SELECT e.id, e.type, e.source, e.subject, e.time, e.migration_id, e.sequence, e.data
            FROM unnest(\(drafts.map(\.id))::text[], \(drafts.map(\.type))::text[], \(drafts.map(\.source))::text[],
                        \(drafts.map(\.subject))::text[], \(drafts.map(\.time))::bigint[],
                        \(drafts.map(\.migrationId))::text[], \(sequences)::bigint[], \(drafts.map(\.data))::text[])
                 WITH ORDINALITY AS e(id, type, source, subject, time, migration_id, sequence, data, ordinal)
            ORDER BY e.ordinal
            RETURNING position, migration_id, sequence
            """,
            logger: self.logger
        )
        var positions: [OutboxKey: Int64] = [:]
        for try await (position, migrationId, sequence) in rows.decode((Int64, String, Int64).self) {
            positions[OutboxKey(migrationId: migrationId, sequence: sequence)] = position
        }
        var events: [OutboxEvent] = []
        events.reserveCapacity(drafts.count)
        var updates: [RegistryRecord] = []
        for (draft, sequence) in zip(drafts, sequences) {
            guard let position = positions[OutboxKey(migrationId: draft.migrationId, sequence: sequence)] else {
                throw PostgresSchemaError("the outbox insert returned no position for \(draft.migrationId) #\(sequence)")
            }
            if let update = draft.registryUpdate {
                updates.append(
                    RegistryRecord(
                        device: update.device,
                        iotInstanceId: update.iotInstanceId,
                        sourceInstanceId: update.sourceInstanceId,
                        updatedAt: draft.time,
                        migrationId: draft.migrationId,
                        sequence: sequence
                    )
                )
            }
            var stored = draft
            stored.registryUpdate = nil
            events.append(OutboxEvent(position: position, sequence: sequence, delivered: false, draft: stored))
        }
        _ = try await self.upsert(updates, on: connection)
        return events
    }

    /// Applies rows received from elsewhere, each only when newer; returns how many changed the registry.
    public func apply(_ records: [RegistryRecord]) async throws -> Int {
        guard !records.isEmpty else { return 0 }
        return try await self.operation("registry apply") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await self.upsert(records, on: connection)
            }
        }
    }

    /// The registry's and the outbox's totals (a replica's `/status`; the counts scan the registry, so the bridge
    /// reads them every 10 s once they take long).
    public func counts() async throws -> (registry: RegistryCounts, outbox: OutboxCounts) {
        try await self.operation("registry totals") {
            var registry = RegistryCounts()
            let rows = try await self.client.query(
                """
                SELECT iot_instance_id, COUNT(*)::bigint, COUNT(*) FILTER (WHERE iot_instance_id <> source_instance_id)::bigint
                FROM iotbridge_registry GROUP BY iot_instance_id
                """,
                logger: self.logger
            )
            for try await (instance, devices, migrated) in rows.decode((String, Int64, Int64).self) {
                registry.byInstance[instance] = Int(devices)
                registry.devices += Int(devices)
                registry.migrated += Int(migrated)
            }
            let totals = try await self.client.query(
                """
                SELECT COALESCE(MAX(position), 0)::bigint, COUNT(*) FILTER (WHERE NOT delivered)::bigint FROM iotbridge_outbox
                """,
                logger: self.logger
            )
            var outbox = OutboxCounts()
            for try await (written, undelivered) in totals.decode((Int64, Int64).self) {
                outbox = OutboxCounts(written: Int(written), undelivered: Int(undelivered))
            }
            return (registry, outbox)
        }
    }

    /// When the device was last seen on the instance.
    public func lastSeen(_ device: DeviceKey, on instance: String) async throws -> Int64? {
        try await self.operation("sighting lookup") {
            let rows = try await self.client.query(
                """
                SELECT last_seen FROM iotbridge_sighting
                WHERE product_key = \(device.productKey) AND device_name = \(device.deviceName)
                  AND iot_instance_id = \(instance)
                """,
                logger: self.logger
            )
            var seen: Int64?
            for try await value in rows.decode(Int64.self) { seen = value }
            return seen
        }
    }

    /// Records the latest time each device reported on an instance.
    public func recordSightings(_ sightings: [DeviceSighting]) async throws {
        guard !sightings.isEmpty else { return }
        // One row per key: ON CONFLICT DO UPDATE may touch a row once per statement.
        var latest: [String: DeviceSighting] = [:]
        for sighting in sightings {
            let key = "\(sighting.device.productKey)\u{0}\(sighting.device.deviceName)\u{0}\(sighting.iotInstanceId)"
            if let known = latest[key], known.at >= sighting.at { continue }
            latest[key] = sighting
        }
        let list = Array(latest.values)
        let products = list.map(\.device.productKey)
        let names = list.map(\.device.deviceName)
        let instances = list.map(\.iotInstanceId)
        let times = list.map(\.at)
        try await self.operation("sightings") {
            _ = try await self.client.query(
                """
                INSERT INTO iotbridge_sighting AS s (product_key, device_name, iot_instance_id, last_seen)
                SELECT u.p, u.n, u.i, u.t
                FROM unnest(\(products)::text[], \(names)::text[], \(instances)::text[], \(times)::bigint[])
                     AS u(p, n, i, t)
                ORDER BY u.p, u.n, u.i
                ON CONFLICT (product_key, device_name, iot_instance_id)
                DO UPDATE SET last_seen = greatest(s.last_seen, excluded.last_seen)
                """,
                logger: self.logger
            )
        }
    }

    /// Registry rows with every instance each device was seen on.
    public func activity(product: String?, after: DeviceKey?, limit: Int) async throws -> [DeviceActivity] {
        try await self.operation("registry activity") {
            try await self.client.withConnection { connection in
                let rows = try await connection.query(
                    Self.page(product: product, after: after, limit: limit),
                    logger: self.logger
                )
                var result: [DeviceActivity] = []
                for record in try await Self.records(rows) {
                    var lastSeen: [String: Int64] = [:]
                    let sightings = try await connection.query(
                        """
                        SELECT iot_instance_id, last_seen FROM iotbridge_sighting
                        WHERE product_key = \(record.device.productKey) AND device_name = \(record.device.deviceName)
                        """,
                        logger: self.logger
                    )
                    for try await (instance, at) in sightings.decode((String, Int64).self) {
                        lastSeen[instance] = at
                    }
                    result.append(DeviceActivity(record: record, lastSeen: lastSeen))
                }
                return result
            }
        }
    }

    // MARK: - Outbox

    /// Undelivered events after `position` in outbox order, to the holder of the delivery lease; none to the other
    /// replicas.
    public func undeliveredEvents(after position: Int64, limit: Int) async throws -> [OutboxEvent] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let owner = self.deliveryOwner
        return try await self.operation("outbox read") {
            let lease = try await self.client.query(
                """
                INSERT INTO iotbridge_outbox_lease AS l (id, owner, until) VALUES (1, \(owner), \(now + Self.deliveryLease))
                ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, until = excluded.until
                WHERE l.owner = excluded.owner OR l.until < \(now)
                RETURNING owner
                """,
                logger: self.logger
            )
            var holds = false
            for try await _ in lease { holds = true }
            guard holds else { return [] }
            let rows = try await self.client.query(
                """
                SELECT \(unescaped: Self.outboxColumns) FROM iotbridge_outbox WHERE NOT delivered AND position > \(position)
                ORDER BY position LIMIT \(Int64(limit))
                """,
                logger: self.logger
            )
            return try await Self.events(rows)
        }
    }

    /// Marks events delivered.
    public func markDelivered(positions: [Int64]) async throws {
        guard !positions.isEmpty else { return }
        try await self.operation("outbox mark") {
            _ = try await self.client.query(
                "UPDATE iotbridge_outbox SET delivered = true WHERE position = ANY(\(positions)::bigint[])",
                logger: self.logger
            )
        }
    }

    /// Events from a position on, delivered or not.
    public func outboxEvents(fromPosition position: Int64, limit: Int) async throws -> [OutboxEvent] {
        try await self.operation("outbox read") {
            let rows = try await self.client.query(
                """
                SELECT \(unescaped: Self.outboxColumns) FROM iotbridge_outbox WHERE position >= \(position)
                ORDER BY position LIMIT \(Int64(limit))
                """,
                logger: self.logger
            )
            return try await Self.events(rows)
        }
    }

    // MARK: - Rows

    private static let registryColumns =
        "product_key, device_name, iot_instance_id, source_instance_id, updated_at, migration_id, sequence"
    private static let outboxColumns =
        "position, id, type, source, subject, time, migration_id, sequence, data, delivered"

    /// Applies `records` in their order, each inserted or replacing the stored row when newer (the rule of
    /// ``RegistryRecord/isSuperseded(migrationId:sequence:updatedAt:)``), keeping the stored source instance;
    /// returns how many changed the registry.
    ///
    /// One statement per round: `ON CONFLICT DO UPDATE` may touch a row once per statement, so a device's second
    /// change in the batch goes to the second round, and so on. Within a round the devices differ, so their order
    /// does not matter (rows are locked in key order, so that two replicas cannot deadlock); across rounds each
    /// device's changes apply in batch order, as one statement per change would. Usually one round.
    func upsert(_ records: [RegistryRecord], on connection: PostgresConnection) async throws -> Int {
        var rounds: [[RegistryRecord]] = []
        var seen: [DeviceKey: Int] = [:]
        for record in records {
            let round = seen[record.device, default: 0]
            seen[record.device] = round + 1
            if round == rounds.count { rounds.append([]) }
            rounds[round].append(record)
        }
        var changed = 0
        for round in rounds {
            let rows = try await connection.query(
                """
                INSERT INTO iotbridge_registry AS r
                    (product_key, device_name, iot_instance_id, source_instance_id, updated_at, migration_id, sequence)
                SELECT u.p, u.n, u.i, u.s, u.t, u.m, u.q
                FROM unnest(\(round.map(\.device.productKey))::text[], \(round.map(\.device.deviceName))::text[],
                            \(round.map(\.iotInstanceId))::text[], \(round.map(\.sourceInstanceId))::text[],
                            \(round.map(\.updatedAt))::bigint[], \(round.map(\.migrationId))::text[],
                            \(round.map(\.sequence))::bigint[]) AS u(p, n, i, s, t, m, q)
                ORDER BY u.p, u.n
                ON CONFLICT (product_key, device_name) DO UPDATE SET
                    iot_instance_id = excluded.iot_instance_id, updated_at = excluded.updated_at,
                    migration_id = excluded.migration_id, sequence = excluded.sequence
                WHERE (r.migration_id = excluded.migration_id AND excluded.sequence > r.sequence)
                    OR (r.migration_id <> excluded.migration_id AND excluded.updated_at > r.updated_at)
                RETURNING 1
                """,
                logger: self.logger
            )
            for try await _ in rows { changed += 1 }
        }
        return changed
    }

    /// A page of registry rows: the product filter and the cursor are NULL when absent.
    private static func page(product: String?, after: DeviceKey?, limit: Int) -> PostgresQuery {
        let afterProduct = after?.productKey
        let afterName = after?.deviceName
        return """
            SELECT \(unescaped: Self.registryColumns) FROM iotbridge_registry
            WHERE (\(product)::text IS NULL OR product_key = \(product)::text)
              AND (\(afterProduct)::text IS NULL OR (product_key, device_name) > (\(afterProduct)::text, \(afterName)::text))
            ORDER BY product_key, device_name LIMIT \(Int64(limit))
            """
    }

    private static func records(_ rows: PostgresRowSequence) async throws -> [RegistryRecord] {
        var result: [RegistryRecord] = []
        for try await (product, name, instance, source, updatedAt, migrationId, sequence) in rows.decode(
            (String, String, String, String, Int64, String, Int64).self
        ) {
            result.append(
                RegistryRecord(
                    device: DeviceKey(productKey: product, deviceName: name),
                    iotInstanceId: instance,
                    sourceInstanceId: source,
                    updatedAt: updatedAt,
                    migrationId: migrationId,
                    sequence: sequence
                )
            )
        }
        return result
    }

    private static func events(_ rows: PostgresRowSequence) async throws -> [OutboxEvent] {
        var result: [OutboxEvent] = []
        for try await (position, id, type, source, subject, time, migrationId, sequence, data, delivered) in rows.decode(
            (Int64, String, String, String, String, Int64, String, Int64, String, Bool).self
        ) {
            result.append(
                OutboxEvent(
                    position: position,
                    sequence: sequence,
                    delivered: delivered,
                    draft: OutboxDraft(
                        id: id,
                        type: type,
                        source: source,
                        subject: subject,
                        time: time,
                        migrationId: migrationId,
                        data: data
                    )
                )
            )
        }
        return result
    }
}

/// An outbox row's identity within its migration: how a batch insert's returned positions find their drafts.
private struct OutboxKey: Hashable {
    let migrationId: String
    let sequence: Int64
}
