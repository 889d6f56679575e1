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

/// Claim-log mode (the bridge's): records go to an unindexed log and an overlay in memory, folded into the claim
/// table in key order. What a lookup answers must never depend on where a record is at that moment. (The claim
/// contract tests run in this mode too, folding every 3 rows: `StoreKind.sqliteClaimLog`.)
@Suite struct SQLiteClaimLogTests {
    static let held = ClaimOptions(owner: "run", now: 100, leaseUntil: 1_100, otherOwnersAreGone: true, inFlightHeldByCaller: true)

    static func done(_ n: UInt8, upstream: String = "up-a") -> ClaimUpdate {
        ClaimUpdate(key: key(n), terminalTargets: ["sink"], deadLettered: false, complete: true, upstream: upstream)
    }

    /// Rows of a table, counted by Python's sqlite3 (an independent reader of the file).
    static func rows(_ table: String, _ path: String) async throws -> Int {
        let run = try await ChildProcess.run(
            "/usr/bin/python3",
            ["-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM \(table)').fetchone()[0])", path]
        )
        return try #require(Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(run.stderr)")
    }

    @Test func recordsWaitInTheLogAndAreFoldedWhenTheFileIsOpenedAgain() async throws {
        let folder = try StateFolder()
        do {
            let store = try folder.open(exclusive: true, claimLogFoldThreshold: 1_000)
            try await store.record((1...10).map { Self.done($0) })
            try await store.record([ClaimUpdate(key: key(11), terminalTargets: ["sink-1"], deadLettered: false, complete: false, upstream: "up-b")])
            // Below the threshold nothing is folded: the table is empty, the lookups come from the overlay.
            #expect(try await Self.rows("claim", folder.statePath) == 0)
            #expect(try await Self.rows("claimLog", folder.statePath) == 11)
            #expect(try await store.claim(key(3), from: "up-b", Self.held) == .done(upstream: "up-a", deadLettered: false))
            #expect(try await store.claim(key(11), Self.held) == .claimed(terminalTargets: ["sink-1"], conflict: false))
            #expect(try await store.claim(key(3, digest: 99), Self.held) == .claimed(terminalTargets: [], conflict: true))
            #expect(try await store.claimCount() == 11)
        }
        // A store in the ordinary mode finds every record: the log was folded when the file was opened.
        let reopened = try folder.open()
        #expect(try await Self.rows("claimLog", folder.statePath) == 0)
        #expect(try await Self.rows("claim", folder.statePath) == 11)
        #expect(try await reopened.claim(key(3), from: "up-b", Self.held) == .done(upstream: "up-a", deadLettered: false))
        #expect(try await reopened.claim(key(11), Self.held) == .claimed(terminalTargets: ["sink-1"], conflict: false))
    }

    @Test func aFoldRepeatedAfterACrashChangesNothing() async throws {
        let folder = try StateFolder()
        do {
            let store = try folder.open(exclusive: true, claimLogFoldThreshold: 1_000)
            try await store.record([ClaimUpdate(key: key(1), terminalTargets: ["sink-1"], deadLettered: false, complete: false, upstream: "up-a")])
            try await store.record([ClaimUpdate(key: key(1), terminalTargets: ["sink-2"], deadLettered: true, complete: true)])
        }
        _ = try folder.open()
        // A crash after a fold wrote the table but before it emptied the log: the same rows are in the log again.
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            key = bytes([1] * 16)
            db.execute("INSERT INTO claimLog (key, contentDigest, done, deadLettered, terminalTargets, upstream, createdAt) VALUES (?, 7, 0, 0, 'sink-1', 'up-a', 1)", (key,))
            db.execute("INSERT INTO claimLog (key, contentDigest, done, deadLettered, terminalTargets, upstream, createdAt) VALUES (?, 7, 1, 1, 'sink-2', '', 2)", (key,))
            """
        let run = try await ChildProcess.run("/usr/bin/python3", ["-c", script, folder.statePath])
        try #require(run.status == 0, "\(run.stderr)")
        // The unique index on (key, contentDigest) would refuse a second row: the fold must update the one there.
        let store = try folder.open(exclusive: true, claimLogFoldThreshold: 1_000)
        #expect(try await Self.rows("claim", folder.statePath) == 1)
        #expect(try await store.claim(key(1), from: "up-b", Self.held) == .done(upstream: "up-a", deadLettered: true))
    }

    @Test func lookupsFindEveryRecordWhileFoldsRunBesideThem() async throws {
        let folder = try StateFolder()
        let store = try folder.open(exclusive: true, claimLogFoldThreshold: 7)
        var recorded: [UInt8] = []
        for batch in 0..<20 {
            let keys = (0..<5).map { UInt8(batch * 5 + $0 + 1) }
            try await store.record(keys.map { Self.done($0) })
            recorded += keys
            // Folds start in the background as the log passes 7 rows; a lookup at any moment sees every record.
            let results = try await store.claim(recorded.map { ClaimRequest(key: key($0), upstream: "up-b") }, options: Self.held)
            #expect(results.allSatisfy { $0 == .done(upstream: "up-a", deadLettered: false) }, "batch \(batch)")
        }
        // Every record reaches the table by the next expiry at the latest (it folds first).
        _ = try await store.expire(createdBefore: 0, maxEntries: 1_000, now: 0)
        #expect(try await Self.rows("claim", folder.statePath) == 100)
        #expect(try await store.claimCount() == 100)
    }

    @Test func expiryAppliesToClaimsStillInTheLog() async throws {
        let folder = try StateFolder()
        let store = try folder.open(exclusive: true, claimLogFoldThreshold: 1_000)
        try await store.record((1...5).map { Self.done($0) })
        // The count bound: 2 remain, the 3 oldest are evicted although they were only in the log.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let bounded = try await store.expire(createdBefore: 0, maxEntries: 2, now: now)
        #expect(bounded.evictedEarly == 3)
        #expect(try await store.claimCount() == 2)
        // The time bound: everything recorded before the cutoff goes.
        let expired = try await store.expire(createdBefore: now + 60_000, maxEntries: 1_000, now: now)
        #expect(expired.expired == 2)
        #expect(try await store.claimCount() == 0)
        #expect(try await store.claim(key(5), Self.held) == .claimed(terminalTargets: [], conflict: false))
    }

    @Test func claimLogModeNeedsTheFileToBeOurs() throws {
        let folder = try StateFolder()
        #expect(throws: StateStoreError.self) { _ = try folder.open(exclusive: false, claimLogFoldThreshold: 10) }
    }
}
