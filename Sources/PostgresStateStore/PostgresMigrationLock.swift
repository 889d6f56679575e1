//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The run lock of a migration: a session advisory lock, `pg_try_advisory_lock('iotb', hash(migration id))`, held
// on one pooled connection for the whole run. The database's own guarantee, nothing home-made: the server
// releases it when the run releases it, when its connection closes, and when the process dies (a `kill -9` closes
// the socket). The holder names itself in `application_name` on that connection, so that a second run can say who
// holds it (from `pg_locks` joined with `pg_stat_activity`).
//
// Two migration ids with the same 31-bit hash would exclude each other: harmless (the second run waits or is
// refused, naming the other migration) and, for the handful of migrations one database sees, unlikely.

import Foundation
import PostgresNIO
public import StateStore
import Synchronization

extension PostgresClaimStore: MigrationRunLocking {
    /// How often a waiting run tries the lock again.
    static let runLockRetry: Duration = .seconds(1)

    /// Takes the run lock of `migrationId`; see the file header.
    public func lockMigrationRun(
        migrationId: String,
        holder: String,
        wait: Bool,
        waiting: @escaping @Sendable (String) -> Void
    ) async throws -> any MigrationRunLease {
        // Waits for the pool and the schema, and reports an unreachable server like every other operation.
        try await self.operation("run lock") {}
        let key = Self.runLockKey(migrationId)
        let name = Self.applicationName(holder)
        let lease = PostgresRunLease()
        let acquired = AsyncThrowingStream<Void, any Error>.makeStream()
        let holding = Task {
            do {
                try await self.client.withConnection { connection in
                    try await self.acquire(
                        key: key, name: name, migrationId: migrationId, wait: wait, waiting: waiting, on: connection
                    )
                    acquired.continuation.yield()
                    await lease.released()
                    _ = try? await connection.query(
                        "SELECT pg_advisory_unlock(\(PostgresSchema.runLockClass), \(key))",
                        logger: self.logger
                    )
                    _ = try? await connection.query(
                        "SELECT set_config('application_name', 'iotbridge', false)",
                        logger: self.logger
                    )
                }
                acquired.continuation.finish()
            } catch {
                acquired.continuation.finish(throwing: error)
            }
        }
        lease.holding = holding
        do {
            for try await _ in acquired.stream { return lease }
            throw CancellationError()
        } catch let error as MigrationRunBusy {
            throw error
        } catch let error as StateStoreError {
            throw error
        } catch {
            await lease.release()
            throw StateStoreError(
                path: self.location.description,
                message: "run lock failed: \(Self.describe(error))",
                advice: Self.serverAdvice
            )
        }
    }

    /// Tries the lock until it is taken; without `wait`, throws ``MigrationRunBusy`` at the first refusal.
    private func acquire(
        key: Int32,
        name: String,
        migrationId: String,
        wait: Bool,
        waiting: @Sendable (String) -> Void,
        on connection: PostgresConnection
    ) async throws {
        try await connection.query("SELECT set_config('application_name', \(name), false)", logger: self.logger)
        var told = false
        while true {
            let rows = try await connection.query(
                "SELECT pg_try_advisory_lock(\(PostgresSchema.runLockClass), \(key))",
                logger: self.logger
            )
            var taken = false
            for try await value in rows.decode(Bool.self) { taken = value }
            if taken { return }
            let holder = try await self.holder(key: key, on: connection)
            guard wait else { throw MigrationRunBusy(migrationId: migrationId, holder: holder) }
            if !told {
                waiting(holder)
                told = true
            }
            try await Task.sleep(for: Self.runLockRetry)
        }
    }

    /// Who holds the lock: its `application_name`, server process and client address.
    private func holder(key: Int32, on connection: PostgresConnection) async throws -> String {
        let rows = try await connection.query(
            """
            SELECT a.application_name, a.pid, coalesce(host(a.client_addr), 'a local socket'),
                   to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
              AND l.classid::bigint = \(Int64(PostgresSchema.runLockClass)) AND l.objid::bigint = \(Int64(key))
            """,
            logger: self.logger
        )
        for try await (name, pid, address, since) in rows.decode((String, Int32, String, String).self) {
            return "'\(name)' (server process \(pid), connected from \(address) since \(since))"
        }
        // Released between the two queries: the next try will likely take it.
        return "another run (it just released the lock)"
    }

    /// The lock's second key: FNV-1a of the migration id, kept non-negative so that `pg_locks.objid` (an oid)
    /// compares equal to it.
    static func runLockKey(_ migrationId: String) -> Int32 {
        var hash: UInt32 = 2_166_136_261
        for byte in migrationId.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int32(bitPattern: hash & 0x7FFF_FFFF)
    }

    /// `application_name` holds at most 63 bytes; cut on a character boundary.
    static func applicationName(_ holder: String) -> String {
        var name = "iotbridge " + holder
        while name.utf8.count > 63 { name.removeLast() }
        return name
    }
}

/// The held lock: releasing it lets the holding task unlock and return its connection to the pool.
final class PostgresRunLease: MigrationRunLease, Sendable {
    private struct State {
        var released = false
        var waiter: CheckedContinuation<Void, Never>?
        var holding: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// The task holding the connection; set once, right after creation.
    var holding: Task<Void, Never>? {
        get { self.state.withLock { $0.holding } }
        set { self.state.withLock { $0.holding = newValue } }
    }

    /// Suspends the holding task until ``release()``.
    func released() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = self.state.withLock { state -> Bool in
                if state.released { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Releases the lock and waits until the server has it back.
    func release() async {
        let (waiter, holding) = self.state.withLock { state in
            state.released = true
            defer { state.waiter = nil }
            return (state.waiter, state.holding)
        }
        waiter?.resume()
        await holding?.value
    }
}
