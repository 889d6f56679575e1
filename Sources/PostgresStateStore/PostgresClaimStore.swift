//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The de-duplication window in PostgreSQL, shared by any number of bridge replicas: table `iotbridge_claim`, one
// row per (key, content digest), the same columns and states as SQLite's `claim` (see SQLiteClaimStore.swift).
//
// One round trip per operation: a claim batch is one call of the PL/pgSQL function `iotbridge_claim_batch`
// (PostgresSchema.swift), a record batch one `INSERT … ON CONFLICT DO UPDATE`, an abandon one statement. Each is its
// own transaction (autocommit), durable when it returns (the server's `synchronous_commit`).
//
// Expiry deletes in chunks rather than dropping time partitions. Partitions would need the partition key
// (the creation time) in every unique index, and the de-duplication rests on one unique (key, digest) across the
// whole window; they also could not keep the claims in flight under a live lease that the contract spares
// whatever their age. Each chunk is one `DELETE` of at most `expiryChunk` rows picked `FOR UPDATE SKIP LOCKED`:
// it never waits for a claim batch holding a row, and a claim batch waits at most for one chunk (milliseconds).
// One replica expires at a time (a session advisory lock; the others skip their turn), so that two do not race
// for the same oldest rows or count the same excess twice. Deleted rows are reclaimed by autovacuum.

import Foundation
public import Logging
import PostgresNIO
public import ServiceLifecycle
public import StateStore
import Synchronization

/// The PostgreSQL state store: the ``ClaimStore`` that bridge replicas share.
///
/// Run it (``run()``, a swift-service-lifecycle `Service`) for as long as it is used: it owns a connection pool
/// (postgres-nio's `PostgresClient`). The schema is brought up to date by the first operation (and again by the
/// next one if that failed), so that a bridge started while PostgreSQL is down begins once it is up.
///
/// Failures are ``StateStoreError``s naming the server (never the password). An operation that does not finish
/// within ``operationTimeout`` fails with a timeout; its outcome is then unknown, which every operation tolerates
/// when repeated: a claim repeated by the same owner finds its own claims in flight, record and abandon are
/// idempotent.
public final class PostgresClaimStore: ClaimStore, Service, Sendable {
    /// Where the store is; its description (no password) names it in errors.
    public let location: PostgresLocation
    /// How long one operation may take before it is reported failed. Default: 10 s.
    public let operationTimeout: Duration
    let client: PostgresClient
    let logger: Logger
    /// Whether the schema is known to be up to date.
    private let schemaReady = Atomic<Bool>(false)
    /// Whether ``run()`` started the pool: operations wait for it rather than queue on a pool not yet running.
    private let running = Atomic<Bool>(false)
    /// Who this store is when it holds the outbox's delivery lease: one id per process start.
    let deliveryOwner = "store-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)

    /// Rows removed per expiry statement: small enough that a claim waiting behind one waits milliseconds.
    static let expiryChunk = 2_000

    /// Creates the store; connects nothing until ``run()`` runs and an operation needs a connection.
    ///
    /// - Parameters:
    ///   - location: the server, database and credentials.
    ///   - maximumConnections: the pool's bound (each replica's; PostgreSQL's `max_connections` bounds the sum).
    ///     Default: 8.
    ///   - operationTimeout: how long one operation may take. Default: 10 s.
    ///   - logger: background messages of the pool (connection failures).
    public init(
        location: PostgresLocation,
        maximumConnections: Int = 8,
        operationTimeout: Duration = .seconds(10),
        logger: Logger
    ) throws {
        self.location = location
        self.operationTimeout = operationTimeout
        self.logger = logger
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: try Self.tls(location)
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [("application_name", "iotbridge")]
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    private static func tls(_ location: PostgresLocation) throws -> PostgresClient.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path = location.rootCertificatePath {
            configuration.trustRoots = .file(path)
        }
        switch location.tls {
        case .disable:
            return .disable
        case .prefer:
            configuration.certificateVerification = .none
            return .prefer(configuration)
        case .require:
            configuration.certificateVerification = .none
            return .require(configuration)
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
            return .require(configuration)
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            return .require(configuration)
        }
    }

    /// Runs the connection pool until the task is cancelled.
    ///
    /// Not until graceful shutdown begins: the bridge records its last confirmations while it drains, after the
    /// signal. `PostgresClient.run()` ends at graceful shutdown, so it runs detached from the service group's
    /// task-local shutdown signal and ends with this task's cancellation instead.
    public func run() async {
        let pool = Task.detached {
            self.running.store(true, ordering: .releasing)
            await self.client.run()
        }
        await withTaskCancellationHandler {
            await pool.value
        } onCancel: {
            pool.cancel()
        }
    }

    // MARK: - ClaimStore

    /// Claims each request for `options.owner`, in one transaction (one call), and says what each key's state was.
    public func claim(_ requests: [ClaimRequest], options: ClaimOptions) async throws -> [ClaimResult] {
        try self.validate(owner: options.owner)
        guard options.leaseUntil > options.now else {
            throw self.invalid("the lease (\(options.leaseUntil)) must end after now (\(options.now))")
        }
        for request in requests {
            try self.validate(request.key)
        }
        guard !requests.isEmpty else { return [] }
        let keys = requests.map { ByteBuffer(bytes: $0.key.key) }
        let digests = requests.map(\.key.contentDigest)
        let upstreams = requests.map(\.upstream)
        return try await self.operation("claim") {
            let rows = try await self.client.query(
                """
                SELECT ordinal, state, holder, origin, targets, dead, conflict
                FROM iotbridge_claim_batch(\(keys), \(digests), \(upstreams), \(options.owner), \(options.now),
                                           \(options.leaseUntil), \(options.otherOwnersAreGone))
                """,
                logger: self.logger
            )
            var results = [ClaimResult?](repeating: nil, count: requests.count)
            for try await (ordinal, state, holder, origin, targets, dead, conflict) in rows.decode(
                (Int64, Int16, String, String, [String], Bool, Bool).self
            ) {
                let index = Int(ordinal) - 1
                guard results.indices.contains(index) else { continue }
                switch state {
                case 0: results[index] = .claimed(terminalTargets: Set(targets), conflict: conflict)
                case 1: results[index] = .inFlight(owner: holder, upstream: origin)
                default: results[index] = .done(upstream: origin, deadLettered: dead)
                }
            }
            let answered = results.compactMap { $0 }
            guard answered.count == requests.count else {
                throw PostgresSchemaError(
                    "iotbridge_claim_batch answered \(answered.count) of \(requests.count) requests"
                )
            }
            return answered
        }
    }

    /// Records targets that became terminal, in one statement; writes a claim that expired meanwhile again.
    public func record(_ updates: [ClaimUpdate]) async throws {
        for update in updates {
            try self.validate(update.key)
            for target in update.terminalTargets {
                try self.validate(target: target)
            }
        }
        guard !updates.isEmpty else { return }
        // One row per claim: ON CONFLICT DO UPDATE may touch a row once per statement.
        var merged: [ClaimKey: ClaimUpdate] = [:]
        for update in updates {
            if var known = merged[update.key] {
                known.terminalTargets.formUnion(update.terminalTargets)
                known.deadLettered = known.deadLettered || update.deadLettered
                known.complete = known.complete || update.complete
                merged[update.key] = known
            } else {
                merged[update.key] = update
            }
        }
        let list = Array(merged.values)
        let keys = list.map { ByteBuffer(bytes: $0.key.key) }
        let digests = list.map(\.key.contentDigest)
        let targets = list.map { $0.terminalTargets.sorted().joined(separator: ",") }
        let dead = list.map(\.deadLettered)
        let complete = list.map(\.complete)
        // A claim written again gets the wall clock as its age: the caller's `now` is not part of this call.
        let rewrittenAt = Int64(Date().timeIntervalSince1970 * 1000)
        try await self.operation("record") {
            // Key order, as in claims: concurrent statements lock rows in the same order.
            _ = try await self.client.query(
                """
                INSERT INTO iotbridge_claim AS c (key, content_digest, owner, lease_until, done, dead_lettered,
                                                  terminal_targets, upstream, created_at)
                SELECT u.k, u.d, '', 0, u.complete, u.dead, string_to_array(u.t, ','), '', \(rewrittenAt)
                FROM unnest(\(keys)::bytea[], \(digests)::bigint[], \(targets)::text[], \(dead)::boolean[],
                            \(complete)::boolean[]) AS u(k, d, t, dead, complete)
                ORDER BY u.k, u.d
                ON CONFLICT (key, content_digest) DO UPDATE SET
                    done = c.done OR excluded.done,
                    owner = CASE WHEN c.done OR excluded.done THEN '' ELSE c.owner END,
                    dead_lettered = c.dead_lettered OR excluded.dead_lettered,
                    terminal_targets = ARRAY(
                        SELECT DISTINCT t FROM unnest(c.terminal_targets || excluded.terminal_targets) AS t ORDER BY t
                    )
                """,
                logger: self.logger
            )
        }
    }

    /// Gives up `owner`'s claims in flight: without recorded targets the claim goes; with some, it stays free for
    /// the next claimer (owner '' and lease 0), who then skips those targets.
    public func abandon(_ keys: [ClaimKey], owner: String) async throws {
        try self.validate(owner: owner)
        guard !keys.isEmpty else { return }
        let bytes = keys.map { ByteBuffer(bytes: $0.key) }
        let digests = keys.map(\.contentDigest)
        try await self.operation("abandon") {
            // Both parts see the same snapshot; their conditions on the targets keep them apart.
            _ = try await self.client.query(
                """
                WITH given AS (
                    SELECT DISTINCT g.k, g.d FROM unnest(\(bytes)::bytea[], \(digests)::bigint[]) AS g(k, d)
                ), removed AS (
                    DELETE FROM iotbridge_claim c USING given
                    WHERE c.key = given.k AND c.content_digest = given.d AND c.owner = \(owner) AND NOT c.done
                      AND cardinality(c.terminal_targets) = 0
                )
                UPDATE iotbridge_claim c SET owner = '', lease_until = 0 FROM given
                WHERE c.key = given.k AND c.content_digest = given.d AND c.owner = \(owner) AND NOT c.done
                  AND cardinality(c.terminal_targets) > 0
                """,
                logger: self.logger
            )
        }
    }

    /// Sets the lease of every claim `owner` holds in flight.
    public func renewLeases(owner: String, until leaseUntil: Int64) async throws {
        try self.validate(owner: owner)
        try await self.operation("renew leases") {
            // Rows locked in key order, as claim batches lock them: the two cannot deadlock.
            _ = try await self.client.query(
                """
                UPDATE iotbridge_claim c SET lease_until = \(leaseUntil)
                FROM (SELECT key, content_digest FROM iotbridge_claim WHERE owner = \(owner) AND NOT done
                      ORDER BY key, content_digest FOR UPDATE) AS mine
                WHERE c.key = mine.key AND c.content_digest = mine.content_digest
                """,
                logger: self.logger
            )
        }
    }

    /// Removes claims created before `createdBefore`, then the oldest beyond `maxEntries`, keeping claims in flight
    /// under a lease live at `now`; at most ``expiryChunk`` rows per statement. Returns nothing removed when another
    /// replica is expiring right now.
    public func expire(createdBefore: Int64, maxEntries: Int, now: Int64) async throws -> ClaimExpiry {
        guard maxEntries >= 0 else {
            throw self.invalid("maxEntries must not be negative (\(maxEntries))")
        }
        return try await self.operation("expire", timeout: max(self.operationTimeout, .seconds(120))) {
            try await self.client.withConnection { connection in
                let locked =
                    try await connection.query(
                        "SELECT pg_try_advisory_lock(\(PostgresSchema.expiryLock))",
                        logger: self.logger
                    ).decode(Bool.self).first { _ in true } ?? false
                guard locked else { return ClaimExpiry(expired: 0, evictedEarly: 0) }
                let expiry: ClaimExpiry
                do {
                    expiry = try await self.expire(on: connection, createdBefore: createdBefore, maxEntries: maxEntries, now: now)
                } catch {
                    _ = try? await connection.query(
                        "SELECT pg_advisory_unlock(\(PostgresSchema.expiryLock))",
                        logger: self.logger
                    )
                    throw error
                }
                try await connection.query("SELECT pg_advisory_unlock(\(PostgresSchema.expiryLock))", logger: self.logger)
                return expiry
            }
        }
    }

    private func expire(
        on connection: PostgresConnection,
        createdBefore: Int64,
        maxEntries: Int,
        now: Int64
    ) async throws -> ClaimExpiry {
        var expired = 0
        while true {
            let removed = try await self.removeOldest(
                on: connection,
                createdBefore: createdBefore,
                now: now,
                limit: Self.expiryChunk
            )
            expired += removed
            if removed < Self.expiryChunk { break }
        }
        // The count is taken once: claims made between the chunks are left for the next call.
        var excess = try await self.count(on: connection) - maxEntries
        var evictedEarly = 0
        while excess > 0 {
            let limit = min(excess, Self.expiryChunk)
            let removed = try await self.removeOldest(on: connection, createdBefore: nil, now: now, limit: limit)
            evictedEarly += removed
            excess -= removed
            // Fewer than asked: what remains beyond the bound is in flight under live leases (or locked by a
            // claim right now: the next call gets it).
            if removed < limit { break }
        }
        return ClaimExpiry(expired: expired, evictedEarly: evictedEarly)
    }

    /// Deletes up to `limit` of the oldest rows that are done or whose lease ran out (and, with `createdBefore`,
    /// older than it); rows a claim holds locked right now are skipped, not waited for.
    private func removeOldest(
        on connection: PostgresConnection,
        createdBefore: Int64?,
        now: Int64,
        limit: Int
    ) async throws -> Int {
        let before = createdBefore ?? Int64.max
        let rows = try await connection.query(
            """
            WITH doomed AS (
                SELECT ctid FROM iotbridge_claim
                WHERE created_at < \(before) AND (done OR lease_until <= \(now))
                ORDER BY created_at LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            ), removed AS (
                DELETE FROM iotbridge_claim WHERE ctid IN (SELECT ctid FROM doomed) RETURNING 1
            )
            SELECT count(*) FROM removed
            """,
            logger: self.logger
        )
        return Int(try await rows.decode(Int64.self).first { _ in true } ?? 0)
    }

    private func count(on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query("SELECT count(*) FROM iotbridge_claim", logger: self.logger)
        return Int(try await rows.decode(Int64.self).first { _ in true } ?? 0)
    }

    /// How many claims the window holds.
    public func claimCount() async throws -> Int {
        try await self.operation("count") {
            try await self.client.withConnection { try await self.count(on: $0) }
        }
    }

    // MARK: - Operations

    /// Brings the schema up to date (once per store), then runs `body` within the timeout; turns every failure
    /// into a ``StateStoreError`` naming the server.
    func operation<T: Sendable>(
        _ what: String,
        timeout: Duration? = nil,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let limit = timeout ?? self.operationTimeout
        do {
            return try await Self.within(limit) {
                while !self.running.load(ordering: .acquiring) {
                    try await Task.sleep(for: .milliseconds(5))
                }
                if !self.schemaReady.load(ordering: .acquiring) {
                    let applied = try await PostgresSchema.migrate(self.client, logger: self.logger)
                    if !applied.isEmpty {
                        self.logger.info(
                            "state store schema migrated",
                            metadata: ["store": "\(self.location)", "versions": "\(applied)"]
                        )
                    }
                    self.schemaReady.store(true, ordering: .releasing)
                }
                return try await body()
            }
        } catch let error as StateStoreError {
            throw error
        } catch is OperationTimeout {
            throw StateStoreError(
                path: self.location.description,
                message: "\(what) did not finish within \(limit) (PostgreSQL unreachable or overloaded?)",
                advice: Self.serverAdvice
            )
        } catch {
            throw StateStoreError(
                path: self.location.description,
                message: "\(what) failed: \(Self.describe(error))",
                advice: Self.serverAdvice
            )
        }
    }

    /// The advice of a failing server.
    static let serverAdvice = "check that PostgreSQL runs and accepts this user and database"

    /// Runs `body`, or throws ``OperationTimeout`` once `limit` passed. On a timeout `body` is left to finish in the
    /// background (a query already sent cannot be recalled); its result is dropped.
    static func within<T: Sendable>(
        _ limit: Duration,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = PendingOutcome<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.slot.withLock { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                outcome.slot.withLock { $0.take() }?.resume(with: result)
            }
            Task {
                try? await Task.sleep(for: limit)
                if let continuation = outcome.slot.withLock({ $0.take() }) {
                    work.cancel()
                    continuation.resume(throwing: OperationTimeout())
                }
            }
        }
    }

    /// A sentence about a postgres-nio error. `PSQLError`'s own description is deliberately blank; this one tells
    /// the server's message, SQLSTATE and the connection failure, which never contain the password.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        var parts: [String] = []
        if let info = error.serverInfo {
            let message = info[.message] ?? "server error"
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            parts.append(message + state)
            if let detail = info[.detail] { parts.append(detail) }
        } else {
            parts.append("\(error.code)")
        }
        if let underlying = error.underlying {
            parts.append("\(underlying)")
        }
        return parts.joined(separator: ": ")
    }

    // MARK: - Contract checks

    private func validate(_ key: ClaimKey) throws {
        if let problem = ClaimContract.problem(with: key) { throw self.invalid(problem) }
    }

    private func validate(owner: String) throws {
        if let problem = ClaimContract.problem(withOwner: owner) { throw self.invalid(problem) }
    }

    private func validate(target: String) throws {
        if let problem = ClaimContract.problem(withTarget: target) { throw self.invalid(problem) }
    }

    /// A request the store refuses: a bug of the caller, not of the server.
    private func invalid(_ message: String) -> StateStoreError {
        StateStoreError(path: self.location.description, message: message, advice: nil)
    }
}

/// An operation ran out of time.
struct OperationTimeout: Error {}

/// The continuation of an operation under a time limit: resumed once, by the operation or by the timer.
final class PendingOutcome<T: Sendable>: Sendable {
    let slot = Mutex<CheckedContinuation<T, any Error>?>(nil)
}
