//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The de-duplication window in SQLite: table `claim`, one row per (key, contentDigest).
//
// Schema. An ordinary rowid table with a UNIQUE index on (key, contentDigest), an index on createdAt for expiry,
// and a partial index on owner over the rows in flight (for renewLeases; it holds only what is in flight, so it
// stays a few pages). The alternative, a WITHOUT ROWID table keyed by (key, contentDigest), stores each whole row
// at a random place of one big B-tree. Measured with 1,000,000 claims in batches of 500 (claim a batch, then
// record it done, as the bridge does; Python's sqlite3 on this machine, same SQLite 3.40.1, 8 MB page cache):
//
//                    claims/s   records/s   file       expiry of 100,000 rows
//     WITHOUT ROWID    80,000      37,000   157 MB     1.7 s
//     rowid + index    48,000     176,000   170 MB     1.4 s
//
// WITHOUT ROWID inserts faster (one B-tree instead of two) but updates slowly, because every update rewrites a
// whole row in a random page. A message costs a claim and a record, so the rowid table is faster per message
// (about 26 µs against 40 µs) for 8 % more file, and expiry deletes the oldest rows from neighbouring table pages.
//
// Through this file (ClaimThroughputMeasurement, the same million claims, release build, synchronous NORMAL,
// checkpoints every 10,000 WAL pages): 60,000 claims/s (the slowest batch, which pays a checkpoint, 130 ms),
// 143,000 records/s, 235,000 duplicate claims/s; a 178 MB file and a WAL of up to 44 MB; expiry removes 100,000
// claims in 1.2 s (chunks of 2,000, ~25 ms each); the process peaks at 45 MB (VmHWM). synchronous FULL: 53,000
// claims/s on this machine. A debug build claims 38,000/s (GRDB's generic code is slow unoptimized). Each claim
// dirties a random page of the key index, so the cost is the WAL writing those pages, not SQL.
//
// The bridge on its own file (`ClaimOptions.inFlightHeldByCaller`) holds its claims in flight in memory: `claim`
// is then a lookup on a reader connection (it waits for no write and no checkpoint) and `record` inserts the row
// once the message is done, so a relayed message costs one row write instead of an insert and an update.
//
// Row states: in flight (done = 0) for `owner` until `leaseUntil` (ms); owner '' and leaseUntil 0 mark an
// abandoned claim, which the next claimer takes over. Done rows keep no owner (it is never asked for again, and
// 36 bytes a row is a fifth of the window's size). terminalTargets is the sorted, comma-separated set of targets
// already terminal. upstream is the first claimer's.

import Foundation
import GRDB

extension SQLiteStateStore: ClaimStore {
    /// Rows removed per expiry transaction: small enough that a claim batch waiting behind one waits a few
    /// milliseconds (2,000 rows took ~25 ms with a million claims: a p99 spike at a steady 5,000 msg/s).
    static let expiryChunk = 500

    /// Migration v2: the claim table and its indexes.
    static func createClaimTable(_ db: Database) throws {
        try db.create(table: "claim") { t in
            t.column("key", .blob).notNull()
            t.column("contentDigest", .integer).notNull()
            t.column("owner", .text).notNull()
            t.column("leaseUntil", .integer).notNull()
            t.column("done", .boolean).notNull()
            t.column("deadLettered", .boolean).notNull()
            t.column("terminalTargets", .text).notNull()
            t.column("upstream", .text).notNull()
            t.column("createdAt", .integer).notNull()
        }
        try db.create(index: "claimByKey", on: "claim", columns: ["key", "contentDigest"], options: .unique)
        try db.create(index: "claimByAge", on: "claim", columns: ["createdAt"])
        // Partial: only rows in flight, so that renewLeases does not scan the window. Queries use it when their
        // WHERE contains the very term `NOT done`.
        try db.create(index: "claimInFlight", on: "claim", columns: ["owner"], condition: !Column("done"))
    }

    /// Claims each request for `options.owner`, in one transaction, and says what each key's state was.
    public func claim(_ requests: [ClaimRequest], options: ClaimOptions) async throws -> [ClaimResult] {
        try self.validate(owner: options.owner)
        guard options.leaseUntil > options.now else {
            throw self.invalid("the lease (\(options.leaseUntil)) must end after now (\(options.now))")
        }
        for request in requests {
            try self.validate(request.key)
        }
        guard !requests.isEmpty else { return [] }
        if options.inFlightHeldByCaller {
            return try await self.wrap { try await self.database.read { db in try Self.lookUp(requests, db) } }
        }
        return try await self.wrap {
            try await self.database.write { db in
                // Every row of the key: the one with our digest, and whether another digest exists (a conflict).
                let select = try db.cachedStatement(sql: Self.selectByKey)
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO claim
                        (key, contentDigest, owner, leaseUntil, done, deadLettered, terminalTargets, upstream, createdAt)
                        VALUES (?, ?, ?, ?, 0, 0, '', ?, ?)
                        """
                )
                let takeOver = try db.cachedStatement(sql: "UPDATE claim SET owner = ?, leaseUntil = ? WHERE rowid = ?")
                var results: [ClaimResult] = []
                results.reserveCapacity(requests.count)
                for request in requests {
                    let (stored, conflict) = try Self.rows(of: request.key, select, db)
                    guard let stored else {
                        var row = SQLiteRawStatement(insert, in: db)
                        row.bind(request.key.key)
                        row.bind(request.key.contentDigest)
                        row.bind(options.owner)
                        row.bind(options.leaseUntil)
                        row.bind(request.upstream)
                        row.bind(options.now)
                        try row.execute()
                        results.append(.claimed(terminalTargets: [], conflict: conflict))
                        continue
                    }
                    if stored.done {
                        results.append(.done(upstream: stored.upstream, deadLettered: stored.deadLettered))
                    } else if stored.isHeld(against: options) {
                        results.append(.inFlight(owner: stored.owner, upstream: stored.upstream))
                    } else {
                        var row = SQLiteRawStatement(takeOver, in: db)
                        row.bind(options.owner)
                        row.bind(options.leaseUntil)
                        row.bind(stored.rowID)
                        try row.execute()
                        results.append(
                            .claimed(terminalTargets: Self.decodeTargets(stored.terminalTargets), conflict: false)
                        )
                    }
                }
                return results
            }
        }
    }

    /// Claims held by the caller (`ClaimOptions.inFlightHeldByCaller`): reads what is recorded, writes nothing. A
    /// row not done (an earlier run's claim, finished for some targets or for none) is free to take over.
    static func lookUp(_ requests: [ClaimRequest], _ db: Database) throws -> [ClaimResult] {
        let select = try db.cachedStatement(sql: Self.selectByKey)
        var results: [ClaimResult] = []
        results.reserveCapacity(requests.count)
        for request in requests {
            let (stored, conflict) = try Self.rows(of: request.key, select, db)
            if let stored, stored.done {
                results.append(.done(upstream: stored.upstream, deadLettered: stored.deadLettered))
            } else {
                let finished = stored.map { Self.decodeTargets($0.terminalTargets) } ?? []
                results.append(.claimed(terminalTargets: finished, conflict: stored == nil && conflict))
            }
        }
        return results
    }

    /// Every row of a key (`selectByKey`): the one with the key's content digest, and whether another digest
    /// exists (a conflict).
    private static func rows(of key: ClaimKey, _ select: Statement, _ db: Database) throws -> (StoredClaim?, conflict: Bool) {
        var rows = SQLiteRawStatement(select, in: db)
        rows.bind(key.key)
        var stored: StoredClaim?
        var conflict = false
        while try rows.step() {
            if rows.int64(1) == key.contentDigest {
                stored = StoredClaim(rows)
            } else {
                conflict = true
            }
        }
        return (stored, conflict)
    }

    /// The rows of a key, read by ``rows(of:_:_:)``.
    static let selectByKey = """
        SELECT rowid, contentDigest, owner, leaseUntil, done, deadLettered, terminalTargets, upstream
        FROM claim WHERE key = ?
        """

    /// Records targets that became terminal, in one transaction; writes a claim that expired meanwhile again.
    public func record(_ updates: [ClaimUpdate]) async throws {
        for update in updates {
            try self.validate(update.key)
            for target in update.terminalTargets {
                try self.validate(target: target)
            }
        }
        guard !updates.isEmpty else { return }
        // A claim written again gets the wall clock as its age: the caller's `now` is not part of this call.
        let rewrittenAt = Int64(Date().timeIntervalSince1970 * 1000)
        try await self.wrap {
            try await self.database.write { db in
                // Most updates create their row (the bridge on SQLite holds its claims in flight in memory): insert
                // first, and read the row only when there is one, which saves a descent of the key index per message.
                // Owner '' and lease 0: an unfinished claim written here is free for the next claimer.
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO claim
                        (key, contentDigest, owner, leaseUntil, done, deadLettered, terminalTargets, upstream, createdAt)
                        VALUES (?, ?, '', 0, ?, ?, ?, ?, ?)
                        ON CONFLICT (key, contentDigest) DO NOTHING
                        """
                )
                let select = try db.cachedStatement(
                    sql: """
                        SELECT rowid, owner, done, deadLettered, terminalTargets
                        FROM claim WHERE key = ? AND contentDigest = ?
                        """
                )
                let update = try db.cachedStatement(
                    sql: "UPDATE claim SET owner = ?, done = ?, deadLettered = ?, terminalTargets = ? WHERE rowid = ?"
                )
                for change in updates {
                    var written = SQLiteRawStatement(insert, in: db)
                    written.bind(change.key.key)
                    written.bind(change.key.contentDigest)
                    written.bind(change.complete)
                    written.bind(change.deadLettered)
                    written.bind(Self.encodeTargets(change.terminalTargets))
                    written.bind(change.upstream)
                    written.bind(rewrittenAt)
                    try written.execute()
                    if db.changesCount > 0 { continue }
                    // The row exists (written by `claim`, or by an earlier run): merge into it.
                    var row = SQLiteRawStatement(select, in: db)
                    row.bind(change.key.key)
                    row.bind(change.key.contentDigest)
                    guard try row.step() else { continue }
                    let rowID = row.int64(0)
                    let done = row.bool(2) || change.complete
                    let owner = done ? "" : row.string(1)
                    let deadLettered = row.bool(3) || change.deadLettered
                    let targets = Self.decodeTargets(row.string(4)).union(change.terminalTargets)
                    row.reset()
                    var changed = SQLiteRawStatement(update, in: db)
                    changed.bind(owner)
                    changed.bind(done)
                    changed.bind(deadLettered)
                    changed.bind(Self.encodeTargets(targets))
                    changed.bind(rowID)
                    try changed.execute()
                }
            }
        }
    }

    /// Gives up `owner`'s claims in flight: without recorded targets the claim goes; with some, it stays free for
    /// the next claimer (owner '' and lease 0), who then skips those targets.
    public func abandon(_ keys: [ClaimKey], owner: String) async throws {
        try self.validate(owner: owner)
        guard !keys.isEmpty else { return }
        try await self.wrap {
            try await self.database.write { db in
                let delete = try db.cachedStatement(
                    sql: """
                        DELETE FROM claim
                        WHERE key = ? AND contentDigest = ? AND owner = ? AND NOT done AND terminalTargets = ''
                        """
                )
                let release = try db.cachedStatement(
                    sql: """
                        UPDATE claim SET owner = '', leaseUntil = 0
                        WHERE key = ? AND contentDigest = ? AND owner = ? AND NOT done
                        """
                )
                for key in keys {
                    let arguments: StatementArguments = [Data(key.key), key.contentDigest, owner]
                    try delete.execute(arguments: arguments)
                    if db.changesCount == 0 {
                        try release.execute(arguments: arguments)
                    }
                }
            }
        }
    }

    /// Sets the lease of every claim `owner` holds in flight.
    public func renewLeases(owner: String, until leaseUntil: Int64) async throws {
        try self.validate(owner: owner)
        try await self.wrap {
            try await self.database.write { db in
                try db.cachedStatement(sql: "UPDATE claim SET leaseUntil = ? WHERE owner = ? AND NOT done")
                    .execute(arguments: [leaseUntil, owner])
            }
        }
    }

    /// Removes claims created before `createdBefore`, then the oldest beyond `maxEntries`, keeping claims in flight
    /// under a lease live at `now`; at most ``expiryChunk`` rows per transaction.
    public func expire(createdBefore: Int64, maxEntries: Int, now: Int64) async throws -> ClaimExpiry {
        guard maxEntries >= 0 else {
            throw self.invalid("maxEntries must not be negative (\(maxEntries))")
        }
        return try await self.wrap {
            // Both passes walk claimByAge from the oldest row; `done OR leaseUntil <= now` spares live claims.
            var expired = 0
            while true {
                let removed = try await self.removeOldest(
                    filter: "createdAt < ? AND (done OR leaseUntil <= ?)",
                    arguments: [createdBefore, now],
                    limit: Self.expiryChunk
                )
                expired += removed
                if removed < Self.expiryChunk { break }
            }
            // The count is taken once: claims made between the chunks are left for the next call.
            var excess = try await self.claimCount() - maxEntries
            var evictedEarly = 0
            while excess > 0 {
                let limit = min(excess, Self.expiryChunk)
                let removed = try await self.removeOldest(
                    filter: "done OR leaseUntil <= ?",
                    arguments: [now],
                    limit: limit
                )
                evictedEarly += removed
                excess -= removed
                // Fewer than asked: what remains beyond the bound is in flight under live leases.
                if removed < limit { break }
            }
            return ClaimExpiry(expired: expired, evictedEarly: evictedEarly)
        }
    }

    /// How many claims the window holds.
    public func claimCount() async throws -> Int {
        try await self.wrap {
            try await self.database.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM claim") ?? 0
            }
        }
    }

    /// Deletes up to `limit` of the oldest rows matching `filter`, in one transaction; returns how many went.
    private func removeOldest(filter: String, arguments: StatementArguments, limit: Int) async throws -> Int {
        try await self.database.write { db in
            try db.cachedStatement(
                sql: """
                    DELETE FROM claim WHERE rowid IN
                    (SELECT rowid FROM claim INDEXED BY claimByAge WHERE \(filter) ORDER BY createdAt LIMIT ?)
                    """
            ).execute(arguments: arguments + [limit])
            return db.changesCount
        }
    }

    private func validate(_ key: ClaimKey) throws {
        if let problem = ClaimContract.problem(with: key) { throw self.invalid(problem) }
    }

    private func validate(owner: String) throws {
        if let problem = ClaimContract.problem(withOwner: owner) { throw self.invalid(problem) }
    }

    private func validate(target: String) throws {
        if let problem = ClaimContract.problem(withTarget: target) { throw self.invalid(problem) }
    }

    /// A request the store refuses: a bug of the caller, not of the file.
    private func invalid(_ message: String) -> StateStoreError {
        StateStoreError(path: self.path, message: message, advice: nil)
    }

    private static func encodeTargets(_ targets: Set<String>) -> String {
        targets.sorted().joined(separator: ",")
    }

    private static func decodeTargets(_ text: String) -> Set<String> {
        text.isEmpty ? [] : Set(text.split(separator: ",").map(String.init))
    }
}

/// The columns of a claim row that `claim` decides on.
private struct StoredClaim {
    var rowID: Int64
    var owner: String
    var leaseUntil: Int64
    var done: Bool
    var deadLettered: Bool
    var terminalTargets: String
    var upstream: String

    /// Reads the current row of `SELECT rowid, contentDigest, owner, leaseUntil, done, deadLettered,
    /// terminalTargets, upstream`.
    init(_ row: SQLiteRawStatement) {
        self.rowID = row.int64(0)
        self.owner = row.string(2)
        self.leaseUntil = row.int64(3)
        self.done = row.bool(4)
        self.deadLettered = row.bool(5)
        self.terminalTargets = row.string(6)
        self.upstream = row.string(7)
    }

    /// Whether this claim in flight keeps `options.owner` out: its lease is live, and it is ours or its owner may
    /// still be running. An expired lease, an abandoned claim (lease 0) or a gone owner lets the claimer take over.
    func isHeld(against options: ClaimOptions) -> Bool {
        guard self.leaseUntil > options.now else { return false }
        return self.owner == options.owner || !options.otherOwnersAreGone
    }
}
