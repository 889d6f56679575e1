//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import PostgresNIO
import PostgresStateStore
import StateStore
import Testing

/// How fast the PostgreSQL store commits device.migrated events with their registry rows, printed, never asserted.
/// Off unless `IOTBRIDGE_MEASURE` is set and `IOTBRIDGE_MEASURE_STORE=postgres` (a fresh database on
/// `IOTBRIDGE_POSTGRES_URL`):
///
///     IOTBRIDGE_MEASURE=1 IOTBRIDGE_MEASURE_STORE=postgres swift test --skip-build --filter EventCommitMeasurement
///
/// The baseline in the same run, on the same server: the statements the store sent before it batched them (one
/// outbox INSERT and one registry upsert per event, in one transaction per batch). `IOTBRIDGE_MEASURE_EVENTS`
/// changes the count (default 100,000); batches of 500, as a migration message listing 500 devices.
@Suite struct EventCommitMeasurement {
    static let environment = ProcessInfo.processInfo.environment
    static let batch = 500

    @Test(
        .enabled(
            if: Self.environment["IOTBRIDGE_MEASURE"] != nil && Self.environment["IOTBRIDGE_MEASURE_STORE"] == "postgres"
        )
    )
    func batchedCommitsBesideOneStatementPerEvent() async throws {
        let total = Int(Self.environment["IOTBRIDGE_MEASURE_EVENTS"] ?? "") ?? 100_000
        let location = try await TestPostgres.freshDatabase()
        let store = try PostgresClaimStore(location: location, operationTimeout: .seconds(120), logger: testLogger)
        let runner = TestPostgres.Runner(store)
        defer { withExtendedLifetime(runner) {} }
        let devices = (0..<total).map { DeviceKey(productKey: "a1B2c3D4e5F", deviceName: "device-\($0)") }
        _ = try await store.seed(devices.map { RegistrySeed(device: $0, iotInstanceId: "") }, at: 1)
        let clock = ContinuousClock()

        var began = clock.now
        for start in stride(from: 0, to: total, by: Self.batch) {
            _ = try await store.commit(devices[start..<min(start + Self.batch, total)].map { Self.draft($0, migration: "batched") })
        }
        let batched = began.duration(to: clock.now)

        // The baseline: the same rows, one statement per outbox row and per registry row.
        let connection = try await TestPostgres.connect(to: location, id: 3)
        var sequence: Int64 = 0
        began = clock.now
        for start in stride(from: 0, to: total, by: Self.batch) {
            try await connection.query("BEGIN", logger: testLogger)
            for device in devices[start..<min(start + Self.batch, total)] {
                sequence += 1
                let draft = Self.draft(device, migration: "one-by-one")
                try await connection.query(
                    """
                    INSERT INTO iotbridge_outbox (id, type, source, subject, time, migration_id, sequence, data)
                    VALUES (\(draft.id), \(draft.type), \(draft.source), \(draft.subject), \(draft.time),
                            \(draft.migrationId), \(sequence), \(draft.data))
                    RETURNING position
                    """,
                    logger: testLogger
                )
                try await connection.query(
                    """
                    INSERT INTO iotbridge_registry AS r
                        (product_key, device_name, iot_instance_id, source_instance_id, updated_at, migration_id, sequence)
                    VALUES (\(device.productKey), \(device.deviceName), 'iot-2', '', 3, 'one-by-one', \(sequence))
                    ON CONFLICT (product_key, device_name) DO UPDATE SET
                        iot_instance_id = excluded.iot_instance_id, updated_at = excluded.updated_at,
                        migration_id = excluded.migration_id, sequence = excluded.sequence
                    WHERE (r.migration_id = excluded.migration_id AND excluded.sequence > r.sequence)
                        OR (r.migration_id <> excluded.migration_id AND excluded.updated_at > r.updated_at)
                    RETURNING 1
                    """,
                    logger: testLogger
                )
            }
            try await connection.query("COMMIT", logger: testLogger)
        }
        let oneByOne = began.duration(to: clock.now)
        try await connection.close()
        #expect(try await store.lookup(devices[total - 1])?.migrationId == "one-by-one")

        func rate(_ duration: Duration) -> String {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
            return "\(Int(Double(total) / seconds).formatted()) events/s (\(duration.formatted(.units(allowed: [.milliseconds]))))"
        }
        print(
            "PostgreSQL event commits, \(total.formatted()) device.migrated events with their registry rows, batches of \(Self.batch):\n"
                + "  iotbridge (batched, unnest): \(rate(batched))\n"
                + "  baseline (one statement per row): \(rate(oneByOne))"
        )
    }

    static func draft(_ device: DeviceKey, migration: String) -> OutboxDraft {
        OutboxDraft(
            id: UUID().uuidString.lowercased(),
            type: "com.iotbridge.migration.device.migrated",
            source: "/iotbridge/bridge",
            subject: device.description,
            time: 2,
            migrationId: migration,
            data: """
                {"productKey":"\(device.productKey)","deviceName":"\(device.deviceName)","fromInstanceId":"",\
                "toInstanceId":"iot-06z00frq8umvkx2","status":"ALL_EXECUTING"}
                """,
            registryUpdate: RegistryUpdate(device: device, iotInstanceId: "iot-06z00frq8umvkx2", sourceInstanceId: "")
        )
    }
}
