//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// Claim-log mode of the SQLite store: the bridge's records of finished claims go to an append-only table first.
//
// Why: recording a claim with a random key dirties a random page of the claim table's key index, and a WAL commit
// writes every page it dirtied whole. The bridge commits a few hundred records at a time into an index of thousands
// of pages, so each record cost about one 4 KB page of WAL, then the checkpoint's copy of it: perf put the store's
// writer thread at ~40 % of the bridge's CPU while it served one consumer through the listener (Benchmarks/
// listener, 200,000 messages), most of it in the kernel writing those pages. In claim-log mode a record appends a
// row to `claimLog`, which has no secondary index (a commit writes the few pages at its end), and enters an overlay
// in memory that lookups read besides the table. The log is folded into `claim` in key order, `foldChunk` keys per
// transaction, once it holds `foldThreshold` rows, before every expiry and when the file is opened: an index page
// is then written once per fold rather than once per commit, and no transaction is long enough to hold records up.
//
// A fold is idempotent (targets are a union; `done` and `deadLettered` only ever turn on; the first upstream stays),
// so a crash in the middle of one only means that the next fold repeats part of it. Only a store that owns its file
// (the bridge's) may use the mode: the overlay is this process's, and another process would not see it.

import Foundation
import GRDB
import Synchronization

/// The claims recorded in the log and not folded yet, in memory: what lookups read besides the claim table.
final class ClaimLogOverlay: Sendable {
    /// A claim's state as the log's rows for it say (folded in order).
    struct Entry: Sendable {
        var contentDigest: Int64
        var done: Bool
        var deadLettered: Bool
        var terminalTargets: Set<String>
        var upstream: String
        /// The newest log row that contributed: the entry may leave memory once a fold covered that row.
        var lastRow: Int64
    }

    private struct State {
        /// Entries by the message key's bytes (usually one content digest each; more is a conflict).
        var byKey: [[UInt8]: [Entry]] = [:]
        var entries = 0
        /// Rows in the log table (not yet deleted by a fold).
        var rows = 0
        var folding = false
    }

    private let state = Mutex(State())
    /// Log rows after which a record starts a fold.
    let foldThreshold: Int

    init(foldThreshold: Int, rows: Int) {
        self.foldThreshold = foldThreshold
        self.state.withLock { $0.rows = rows }
    }

    /// Claims not folded yet (a key recorded twice since the last fold counts once).
    var count: Int { self.state.withLock { $0.entries } }

    /// Enters updates whose log rows are `firstRow`, `firstRow + 1`, … (in order); true when the log is now long
    /// enough to fold and no fold runs.
    func enter(_ updates: [ClaimUpdate], firstRow: Int64) -> Bool {
        self.state.withLock { state in
            for (offset, update) in updates.enumerated() {
                let row = firstRow + Int64(offset)
                var list = state.byKey[update.key.key] ?? []
                if let index = list.firstIndex(where: { $0.contentDigest == update.key.contentDigest }) {
                    list[index].done = list[index].done || update.complete
                    list[index].deadLettered = list[index].deadLettered || update.deadLettered
                    list[index].terminalTargets.formUnion(update.terminalTargets)
                    if list[index].upstream.isEmpty { list[index].upstream = update.upstream }
                    list[index].lastRow = row
                } else {
                    list.append(
                        Entry(
                            contentDigest: update.key.contentDigest,
                            done: update.complete,
                            deadLettered: update.deadLettered,
                            terminalTargets: update.terminalTargets,
                            upstream: update.upstream,
                            lastRow: row
                        )
                    )
                    state.entries += 1
                }
                state.byKey[update.key.key] = list
            }
            state.rows += updates.count
            return state.rows >= self.foldThreshold && !state.folding
        }
    }

    /// For each request: its entry, and whether the key has an entry with another content digest.
    func look(_ requests: [ClaimRequest]) -> [(Entry?, otherDigest: Bool)] {
        self.state.withLock { state in
            requests.map { request in
                guard let list = state.byKey[request.key.key] else { return (nil, false) }
                let entry = list.first { $0.contentDigest == request.key.contentDigest }
                return (entry, list.count > (entry == nil ? 0 : 1))
            }
        }
    }

    /// Marks a fold as running; false when one already does.
    func beginFold() -> Bool {
        self.state.withLock { state in
            if state.folding { return false }
            state.folding = true
            return true
        }
    }

    /// Marks the fold as ended.
    func endFold() {
        self.state.withLock { $0.folding = false }
    }

    /// Forgets the entries that log rows up to `lastRow` (now folded into the table) cover, and `deleted` rows.
    func folded(upTo lastRow: Int64, deleted: Int) {
        self.state.withLock { state in
            state.rows = max(0, state.rows - deleted)
            var kept: [[UInt8]: [Entry]] = [:]
            var entries = 0
            for (key, list) in state.byKey {
                let newer = list.filter { $0.lastRow > lastRow }
                if !newer.isEmpty {
                    kept[key] = newer
                    entries += newer.count
                }
            }
            state.byKey = kept
            state.entries = entries
        }
    }
}

extension SQLiteStateStore {
    /// Log rows after which a record starts a fold (the bridge's default; ~3 MB of overlay).
    public static let defaultClaimLogFoldThreshold = 32_768
    /// Claims written to the table per fold transaction: a record waits for at most one such transaction.
    static let foldChunk = 1_000

    /// Migration v5: the claim log (AUTOINCREMENT: positions are never reused, so an overlay entry's last row
    /// always compares right against a fold's last row, even after the log was emptied).
    static func createClaimLogTable(_ db: Database) throws {
        try db.create(table: "claimLog") { t in
            t.autoIncrementedPrimaryKey("position")
            t.column("key", .blob).notNull()
            t.column("contentDigest", .integer).notNull()
            t.column("done", .boolean).notNull()
            t.column("deadLettered", .boolean).notNull()
            t.column("terminalTargets", .text).notNull()
            t.column("upstream", .text).notNull()
            t.column("createdAt", .integer).notNull()
        }
    }

    /// Appends `updates` to the log in one transaction, then enters them into the overlay; starts a fold in the
    /// background when the log is long.
    func appendToClaimLog(_ updates: [ClaimUpdate], overlay: ClaimLogOverlay) async throws {
        let createdAt = Int64(Date().timeIntervalSince1970 * 1000)
        let lastRow = try await self.wrap {
            try await self.database.write { db -> Int64 in
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO claimLog (key, contentDigest, done, deadLettered, terminalTargets, upstream, createdAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """
                )
                for update in updates {
                    var row = SQLiteRawStatement(insert, in: db)
                    row.bind(update.key.key)
                    row.bind(update.key.contentDigest)
                    row.bind(update.complete)
                    row.bind(update.deadLettered)
                    row.bind(Self.encodeTargets(update.terminalTargets))
                    row.bind(update.upstream)
                    row.bind(createdAt)
                    try row.execute()
                }
                return db.lastInsertedRowID
            }
        }
        // One writer: the transaction's rows are consecutive positions ending at `lastRow`.
        let foldNow = overlay.enter(updates, firstRow: lastRow - Int64(updates.count) + 1)
        if foldNow {
            Task { try? await self.foldClaimLog(overlay, waitForRunningFold: false) }
        }
    }

    /// Folds every log row written so far into the claim table, in key order, a chunk per transaction. With
    /// `waitForRunningFold` false it returns at once when a fold runs; otherwise it waits for that one and folds
    /// what is left.
    func foldClaimLog(_ overlay: ClaimLogOverlay, waitForRunningFold: Bool) async throws {
        while !overlay.beginFold() {
            guard waitForRunningFold else { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        defer { overlay.endFold() }
        try await self.wrap {
            let (lastRow, claims) = try await self.database.read { db in try Self.readClaimLog(db) }
            guard lastRow > 0 else { return }
            var start = 0
            while start < claims.count {
                let chunk = claims[start..<min(start + Self.foldChunk, claims.count)]
                try await self.database.write { db in try Self.writeFolded(chunk, db) }
                start += Self.foldChunk
            }
            let deleted = try await self.database.write { db -> Int in
                try db.execute(sql: "DELETE FROM claimLog WHERE position <= ?", arguments: [lastRow])
                return db.changesCount
            }
            overlay.folded(upTo: lastRow, deleted: deleted)
        }
    }

    /// Folds the whole log in one transaction (when the file is opened, before anything reads claims).
    static func foldClaimLogAtOpen(_ db: Database) throws {
        let (lastRow, claims) = try Self.readClaimLog(db)
        guard lastRow > 0 else { return }
        try Self.writeFolded(claims[...], db)
        try db.execute(sql: "DELETE FROM claimLog WHERE position <= ?", arguments: [lastRow])
    }

    /// The log's rows folded per claim (in log order), sorted by key, and the last position read.
    private static func readClaimLog(_ db: Database) throws -> (lastRow: Int64, claims: [FoldedClaim]) {
        let select = try db.makeStatement(
            sql: """
                SELECT position, key, contentDigest, done, deadLettered, terminalTargets, upstream, createdAt
                FROM claimLog ORDER BY position
                """
        )
        let rows = SQLiteRawStatement(select, in: db)
        var lastRow: Int64 = 0
        var byKey: [ClaimKey: Int] = [:]
        var claims: [FoldedClaim] = []
        while try rows.step() {
            lastRow = rows.int64(0)
            let key = ClaimKey(key: rows.bytes(1), contentDigest: rows.int64(2))
            let targets = Self.decodeTargets(rows.string(5))
            if let index = byKey[key] {
                claims[index].done = claims[index].done || rows.bool(3)
                claims[index].deadLettered = claims[index].deadLettered || rows.bool(4)
                claims[index].terminalTargets.formUnion(targets)
                if claims[index].upstream.isEmpty { claims[index].upstream = rows.string(6) }
            } else {
                byKey[key] = claims.count
                claims.append(
                    FoldedClaim(
                        key: key,
                        done: rows.bool(3),
                        deadLettered: rows.bool(4),
                        terminalTargets: targets,
                        upstream: rows.string(6),
                        createdAt: rows.int64(7)
                    )
                )
            }
        }
        // Key order: the index pages a chunk touches are neighbours, and each is written once per fold.
        claims.sort { left, right in
            left.key.key == right.key.key
                ? left.key.contentDigest < right.key.contentDigest
                : left.key.key.lexicographicallyPrecedes(right.key.key)
        }
        return (lastRow, claims)
    }

    /// Writes folded claims into the table: a new row, or the union with the row there.
    private static func writeFolded(_ claims: ArraySlice<FoldedClaim>, _ db: Database) throws {
        let statements = try RecordStatements(db)
        for claim in claims {
            try statements.apply(
                ClaimUpdate(
                    key: claim.key,
                    terminalTargets: claim.terminalTargets,
                    deadLettered: claim.deadLettered,
                    complete: claim.done,
                    upstream: claim.upstream
                ),
                createdAt: claim.createdAt,
                db
            )
        }
    }
}

/// A claim as the log's rows for it say, ready to be written into the table.
private struct FoldedClaim {
    var key: ClaimKey
    var done: Bool
    var deadLettered: Bool
    var terminalTargets: Set<String>
    var upstream: String
    var createdAt: Int64
}
