//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore
import Testing

/// What only the SQLite store has: a file, its lock, and the journal beside the claims.
@Suite struct SQLiteClaimStoreTests {
    // MARK: files

    @Test func committedClaimsSurviveClosingAndReopening() async throws {
        let folder = try StateFolder()
        do {
            let first = try folder.open(exclusive: true)
            _ = try await first.claim(
                [ClaimRequest(key: key(1), upstream: "up-a")],
                options: by("A", at: 0, lease: 60_000)
            )
            _ = try await first.claim(
                [ClaimRequest(key: key(2), upstream: "up-a")],
                options: by("A", at: 0, lease: 60_000)
            )
            try await first.record(key(1), ["sink-1"], deadLettered: true, complete: true)
            try await first.record(key(2), ["sink-1"], complete: false)
        }
        // A second instance (the next run) finds every committed write, the leases included.
        let second = try folder.open(synchronous: .full, exclusive: true)
        #expect(try await second.claimCount() == 2)
        #expect(try await second.claim(key(1), by("B", at: 10)) == .done(upstream: "up-a", deadLettered: true))
        #expect(try await second.claim(key(2), by("B", at: 10)) == .inFlight(owner: "A", upstream: "up-a"))
        #expect(
            try await second.claim(key(2), by("B", at: 11, othersGone: true))
                == .claimed(terminalTargets: ["sink-1"], conflict: false)
        )
    }

    @Test func theJournalAndTheClaimsShareTheFile() async throws {
        let folder = try StateFolder()
        do {
            let store = try folder.open()
            try await store.setMetadata(migrationId: "m1", key: "fingerprint", value: "f")
            _ = try await store.claim(key(1), by("A", at: 0))
        }
        let store = try folder.open()
        #expect(try await store.metadata(migrationId: "m1", key: "fingerprint") == "f")
        #expect(try await store.claimCount() == 1)
    }

    @Test func aSecondExclusiveStoreIsRefusedWithTheHoldersPid() throws {
        let folder = try StateFolder()
        let first = try folder.open(exclusive: true)
        let error = #expect(throws: StateStoreError.self) { try folder.open(exclusive: true) }
        let pid = ProcessInfo.processInfo.processIdentifier
        #expect(
            error?.description
                == "state store \(folder.statePath): another iotbridge (pid \(pid)) uses this state file"
                + " — one bridge per state file; give each its own `state:`"
        )
        // The migration tools open without the lock, alongside.
        _ = try folder.open()
        withExtendedLifetime(first) {}
    }

    @Test func theLockIsReleasedWithTheStore() throws {
        let folder = try StateFolder()
        do {
            _ = try folder.open(exclusive: true)
        }
        _ = try folder.open(exclusive: true)
    }
}
