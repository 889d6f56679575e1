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

    // MARK: claims held by the caller (the bridge on its own file)

    @Test func aCallerHoldingItsClaimsInFlightMakesClaimOnlyRead() async throws {
        let folder = try StateFolder()
        let store = try folder.open(exclusive: true)
        let held = ClaimOptions(owner: "run-2", now: 100, leaseUntil: 1_100, otherOwnersAreGone: true, inFlightHeldByCaller: true)
        // Nothing recorded: claimed, and no row is written for it.
        #expect(try await store.claim(key(1), from: "up-a", held) == .claimed(terminalTargets: [], conflict: false))
        #expect(try await store.claimCount() == 0)
        // The record writes the row, with the upstream the update names; a later lookup finds it done.
        try await store.record([ClaimUpdate(key: key(1), terminalTargets: ["sink-1"], deadLettered: false, complete: true, upstream: "up-a")])
        #expect(try await store.claimCount() == 1)
        #expect(try await store.claim(key(1), from: "up-b", held) == .done(upstream: "up-a", deadLettered: false))
        // A partial record (one sink of two) is taken over with what it finished.
        try await store.record([ClaimUpdate(key: key(2), terminalTargets: ["sink-1"], deadLettered: false, complete: false, upstream: "up-b")])
        #expect(try await store.claim(key(2), held) == .claimed(terminalTargets: ["sink-1"], conflict: false))
        // An earlier run's claim in flight (a row written by a writing claim) counts as absent.
        _ = try await store.claim(key(3), by("run-1", at: 0, lease: 60_000))
        #expect(try await store.claim(key(3), held) == .claimed(terminalTargets: [], conflict: false))
        // The same key with another content digest is a conflict.
        #expect(try await store.claim(key(1, digest: 99), held) == .claimed(terminalTargets: [], conflict: true))
        #expect(try await store.claimCount() == 3)
    }

    @Test func holdingClaimsInFlightNeedsTheStoreToBeOnesOwn() {
        // With replicas (other owners may be alive) the store must write claims in flight: the flag is ignored.
        let shared = ClaimOptions(owner: "r1", now: 0, leaseUntil: 10, otherOwnersAreGone: false, inFlightHeldByCaller: true)
        #expect(!shared.inFlightHeldByCaller)
    }
}
