//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// Totals of the registry and the outbox, for the bridge's /status and its dashboard. Two reads of one transaction:
// the registry is counted by a scan (one pass over its rows, grouped by instance), the outbox by its rowid (the
// highest position) and from its delivery cursor on (SQLiteRegistryStore.swift), so neither grows with delivered
// history.

import GRDB

/// How many devices the registry holds, and where.
public struct RegistryCounts: Sendable, Hashable {
    /// Devices the registry knows.
    public var devices: Int
    /// Devices on an instance other than the one they were seeded (or first recorded) on.
    public var migrated: Int
    /// Devices by the instance they are on now (the empty string is a legacy public instance).
    public var byInstance: [String: Int]

    /// Creates counts.
    public init(devices: Int = 0, migrated: Int = 0, byInstance: [String: Int] = [:]) {
        self.devices = devices
        self.migrated = migrated
        self.byInstance = byInstance
    }
}

/// How many events the outbox holds.
public struct OutboxCounts: Sendable, Hashable {
    /// Events ever written (the highest outbox position: positions are never reused, so this only grows).
    public var written: Int
    /// Events not yet delivered to every event sink.
    public var undelivered: Int

    /// Creates counts.
    public init(written: Int = 0, undelivered: Int = 0) {
        self.written = written
        self.undelivered = undelivered
    }
}

/// A store that can total its registry and outbox (for `/status` and the dashboard).
public protocol RegistryTotals: Sendable {
    /// The registry's and the outbox's totals.
    func counts() async throws -> (registry: RegistryCounts, outbox: OutboxCounts)
}

extension SQLiteStateStore: RegistryTotals {
    /// The registry's and the outbox's totals, read in one transaction.
    public func counts() async throws -> (registry: RegistryCounts, outbox: OutboxCounts) {
        try await self.wrap {
            try await self.database.read { db in
                var registry = RegistryCounts()
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT iotInstanceId, COUNT(*), SUM(iotInstanceId != sourceInstanceId)
                        FROM registry GROUP BY iotInstanceId
                        """
                )
                for row in rows {
                    let instance: String = row[0]
                    let devices: Int = row[1]
                    let migrated: Int = row[2]
                    registry.byInstance[instance] = devices
                    registry.devices += devices
                    registry.migrated += migrated
                }
                // AUTOINCREMENT: a position is never handed out twice, so the highest counts every event ever written.
                let written = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(position), 0) FROM outbox") ?? 0
                let undelivered =
                    try Int.fetchOne(
                        db,
                        sql: """
                            SELECT COUNT(*) FROM outbox
                            WHERE position >= (SELECT firstUndelivered FROM outboxCursor) AND NOT delivered
                            """
                    ) ?? 0
                return (registry, OutboxCounts(written: written, undelivered: undelivered))
            }
        }
    }
}
