//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore
import Testing

/// The ``ClaimStore`` contract, one transition per test, run against every store (SQLite always; PostgreSQL when
/// `IOTBRIDGE_POSTGRES_URL` names a server): the stores are interchangeable only if each passes every test.
/// Time is passed in (`now`), never slept.
@Suite struct ClaimStoreContractTests {
    // MARK: claim

    @Test(arguments: StoreKind.available)
    func anAbsentKeyIsClaimed(kind: StoreKind) async throws {
        let store = try await kind.open()
        #expect(try await store.claim(key(1), by("A", at: 0)) == .claimed(terminalTargets: [], conflict: false))
        #expect(try await store.claimCount() == 1)
    }

    @Test(arguments: StoreKind.available)
    func ourOwnClaimInFlightIsInFlight(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), from: "up-a", by("A", at: 0))
        #expect(
            try await store.claim(key(1), from: "up-b", by("A", at: 999)) == .inFlight(owner: "A", upstream: "up-a")
        )
    }

    @Test(arguments: StoreKind.available)
    func anotherOwnersLiveLeaseIsInFlight(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), from: "up-a", by("A", at: 0))
        // The lease holds while now < leaseUntil (1,000).
        #expect(
            try await store.claim(key(1), from: "up-b", by("B", at: 999)) == .inFlight(owner: "A", upstream: "up-a")
        )
    }

    @Test(arguments: StoreKind.available)
    func anotherOwnersExpiredLeaseIsTakenOver(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), from: "up-a", by("A", at: 0))
        #expect(try await store.claim(key(1), by("B", at: 1_000)) == .claimed(terminalTargets: [], conflict: false))
        // B holds it now, under B's lease, with the first claimer's upstream.
        #expect(try await store.claim(key(1), by("A", at: 1_001)) == .inFlight(owner: "B", upstream: "up-a"))
    }

    @Test(arguments: StoreKind.available)
    func ourOwnExpiredLeaseIsTakenOverWithTheRecordedTargets(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        try await store.record(key(1), ["sink-1"], complete: false)
        #expect(
            try await store.claim(key(1), by("A", at: 1_500)) == .claimed(terminalTargets: ["sink-1"], conflict: false)
        )
        #expect(try await store.claim(key(1), by("A", at: 1_600)) == .inFlight(owner: "A", upstream: "up-a"))
    }

    @Test(arguments: StoreKind.available)
    func goneOwnersLoseTheirClaimsDespiteLiveLeases(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0, lease: 60_000))
        try await store.record(key(1), ["sink-1"], complete: false)
        #expect(
            try await store.claim(key(1), by("B", at: 1, othersGone: true))
                == .claimed(terminalTargets: ["sink-1"], conflict: false)
        )
        // otherOwnersAreGone concerns other owners only: our own live claim stays in flight.
        #expect(
            try await store.claim(key(1), by("B", at: 2, othersGone: true)) == .inFlight(owner: "B", upstream: "up-a")
        )
    }

    @Test(arguments: StoreKind.available)
    func aDoneClaimReportsTheFirstUpstream(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), from: "up-a", by("A", at: 0))
        try await store.record(key(1), ["sink-1", "sink-2"], complete: true)
        #expect(
            try await store.claim(key(1), from: "up-b", by("B", at: 1)) == .done(upstream: "up-a", deadLettered: false)
        )
        #expect(
            try await store.claim(key(1), from: "up-b", by("A", at: 5_000))
                == .done(upstream: "up-a", deadLettered: false)
        )
    }

    @Test(arguments: StoreKind.available)
    func aDoneClaimTellsADeadLetterThatCameBefore(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        try await store.record(key(1), ["sink-1"], deadLettered: true, complete: false)
        try await store.record(key(1), ["sink-2"], deadLettered: false, complete: true)
        #expect(try await store.claim(key(1), by("B", at: 1)) == .done(upstream: "up-a", deadLettered: true))
    }

    @Test(arguments: StoreKind.available)
    func aKeyWithAnotherDigestIsAConflictReportedOnce(kind: StoreKind) async throws {
        let store = try await kind.open()
        #expect(
            try await store.claim(key(1, digest: 1), by("A", at: 0)) == .claimed(terminalTargets: [], conflict: false)
        )
        #expect(
            try await store.claim(key(1, digest: 2), by("A", at: 0)) == .claimed(terminalTargets: [], conflict: true)
        )
        // Two claims, each with its own state.
        #expect(try await store.claimCount() == 2)
        try await store.record(key(1, digest: 1), ["sink-1"], complete: true)
        #expect(
            try await store.claim(key(1, digest: 1), by("B", at: 1)) == .done(upstream: "up-a", deadLettered: false)
        )
        #expect(try await store.claim(key(1, digest: 2), by("B", at: 1)) == .inFlight(owner: "A", upstream: "up-a"))
        // Taking the conflicting claim over does not count the conflict again.
        #expect(
            try await store.claim(key(1, digest: 2), by("B", at: 2_000))
                == .claimed(terminalTargets: [], conflict: false)
        )
    }

    @Test(arguments: StoreKind.available)
    func aKeyTwiceInOneBatchIsClaimedByTheFirstRequest(kind: StoreKind) async throws {
        let store = try await kind.open()
        let results = try await store.claim(
            [
                ClaimRequest(key: key(1), upstream: "up-a"),
                ClaimRequest(key: key(1), upstream: "up-b"),
                ClaimRequest(key: key(2), upstream: "up-b"),
            ],
            options: by("A", at: 0)
        )
        #expect(
            results == [
                .claimed(terminalTargets: [], conflict: false),
                .inFlight(owner: "A", upstream: "up-a"),
                .claimed(terminalTargets: [], conflict: false),
            ]
        )
    }

    @Test(arguments: StoreKind.available)
    func aBatchMixesEveryState(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim([ClaimRequest(key: key(2), upstream: "up-a")], options: by("A", at: 0))
        _ = try await store.claim([ClaimRequest(key: key(3), upstream: "up-a")], options: by("A", at: 0))
        try await store.record(key(3), ["sink-1"], complete: true)
        let results = try await store.claim(
            [key(1), key(2), key(3)].map { ClaimRequest(key: $0, upstream: "up-b") },
            options: by("B", at: 10)
        )
        #expect(
            results == [
                .claimed(terminalTargets: [], conflict: false),
                .inFlight(owner: "A", upstream: "up-a"),
                .done(upstream: "up-a", deadLettered: false),
            ]
        )
    }

    // MARK: record

    @Test(arguments: StoreKind.available)
    func recordUnionsTheTargets(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        try await store.record(key(1), ["sink-2"], complete: false)
        try await store.record(key(1), ["sink-1", "sink-2"], complete: false)
        try await store.record(key(1), ["rule-3"], complete: false)
        // Still in flight: nothing was complete.
        #expect(try await store.claim(key(1), by("B", at: 1)) == .inFlight(owner: "A", upstream: "up-a"))
        #expect(
            try await store.claim(key(1), by("B", at: 1_000))
                == .claimed(terminalTargets: ["rule-3", "sink-1", "sink-2"], conflict: false)
        )
    }

    @Test(arguments: StoreKind.available)
    func recordAfterExpiryWritesADoneClaimAgain(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        // The lease ran out and the window moved on while the delivery was still going.
        #expect(
            try await store.expire(createdBefore: 1, maxEntries: 10, now: 2_000)
                == ClaimExpiry(expired: 1, evictedEarly: 0)
        )
        try await store.record(key(1), ["sink-1"], deadLettered: true, complete: true)
        #expect(try await store.claimCount() == 1)
        // The upstream went with the expired row.
        #expect(try await store.claim(key(1), by("B", at: 2_001)) == .done(upstream: "", deadLettered: true))
    }

    @Test(arguments: StoreKind.available)
    func recordAfterExpiryWritesAnUnfinishedClaimAgainFreeToTakeOver(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        _ = try await store.expire(createdBefore: 1, maxEntries: 10, now: 2_000)
        try await store.record(key(1), ["sink-1"], complete: false)
        #expect(
            try await store.claim(key(1), by("B", at: 2_001)) == .claimed(terminalTargets: ["sink-1"], conflict: false)
        )
    }

    @Test(arguments: StoreKind.available, ["a,b", ""])
    func recordRefusesATargetIdThatCannotBeListed(kind: StoreKind, target: String) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        let error = await #expect(throws: StateStoreError.self) {
            try await store.record([
                ClaimUpdate(key: key(1), terminalTargets: ["sink-1"], deadLettered: false, complete: true),
                ClaimUpdate(key: key(1), terminalTargets: [target], deadLettered: false, complete: true),
            ])
        }
        #expect(error?.message.contains("comma") == true)
        // Refused before the transaction: the valid update of the same call was not written either.
        #expect(try await store.claim(key(1), by("B", at: 1)) == .inFlight(owner: "A", upstream: "up-a"))
    }

    // MARK: abandon

    @Test(arguments: StoreKind.available)
    func abandonWithoutTargetsRemovesTheClaim(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        try await store.abandon([key(1)], owner: "A")
        #expect(try await store.claimCount() == 0)
        // A's lease would still hold; the claim is simply gone.
        #expect(try await store.claim(key(1), by("B", at: 1)) == .claimed(terminalTargets: [], conflict: false))
    }

    @Test(arguments: StoreKind.available)
    func abandonWithTargetsLeavesThemForTheNextClaimer(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), from: "up-a", by("A", at: 0))
        try await store.record(key(1), ["sink-1"], complete: false)
        try await store.abandon([key(1)], owner: "A")
        #expect(try await store.claimCount() == 1)
        #expect(
            try await store.claim(key(1), from: "up-b", by("B", at: 1))
                == .claimed(terminalTargets: ["sink-1"], conflict: false)
        )
        #expect(try await store.claim(key(1), by("A", at: 2)) == .inFlight(owner: "B", upstream: "up-a"))
    }

    @Test(arguments: StoreKind.available)
    func abandonTouchesOnlyTheOwnersClaimsInFlight(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        _ = try await store.claim(key(2), by("A", at: 0))
        try await store.record(key(2), ["sink-1"], complete: true)
        try await store.abandon([key(1), key(2), key(3)], owner: "B")
        try await store.abandon([key(2)], owner: "A")
        #expect(try await store.claimCount() == 2)
        #expect(try await store.claim(key(1), by("B", at: 1)) == .inFlight(owner: "A", upstream: "up-a"))
        #expect(try await store.claim(key(2), by("B", at: 1)) == .done(upstream: "up-a", deadLettered: false))
    }

    // MARK: renewLeases

    @Test(arguments: StoreKind.available)
    func renewLeasesExtendsTheOwnersClaimsInFlight(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 0))
        _ = try await store.claim(key(2), by("C", at: 0))
        try await store.renewLeases(owner: "A", until: 5_000)
        #expect(try await store.claim(key(1), by("B", at: 4_999)) == .inFlight(owner: "A", upstream: "up-a"))
        #expect(try await store.claim(key(1), by("B", at: 5_000)) == .claimed(terminalTargets: [], conflict: false))
        // C's lease was not A's to renew.
        #expect(try await store.claim(key(2), by("B", at: 1_000)) == .claimed(terminalTargets: [], conflict: false))
    }

    // MARK: expire

    @Test(arguments: StoreKind.available)
    func expireRemovesClaimsOlderThanTheWindow(kind: StoreKind) async throws {
        let store = try await kind.open()
        for (n, createdAt) in [(UInt8(1), Int64(100)), (2, 200), (3, 300)] {
            _ = try await store.claim(key(n), by("A", at: createdAt))
            try await store.record(key(n), ["sink-1"], complete: true)
        }
        #expect(
            try await store.expire(createdBefore: 250, maxEntries: 10, now: 400)
                == ClaimExpiry(expired: 2, evictedEarly: 0)
        )
        #expect(try await store.claimCount() == 1)
        #expect(try await store.claim(key(1), by("A", at: 400)) == .claimed(terminalTargets: [], conflict: false))
        #expect(try await store.claim(key(3), by("A", at: 400)) == .done(upstream: "up-a", deadLettered: false))
    }

    @Test(arguments: StoreKind.available)
    func expireEvictsTheOldestBeyondTheCountAndSaysSo(kind: StoreKind) async throws {
        let store = try await kind.open()
        // Claimed in the order 3, 1, 2 (by age), so that age and key order differ.
        for (n, createdAt) in [(UInt8(3), Int64(1)), (1, 2), (2, 3), (4, 4), (5, 5)] {
            _ = try await store.claim(key(n), by("A", at: createdAt))
            try await store.record(key(n), ["sink-1"], complete: true)
        }
        #expect(
            try await store.expire(createdBefore: 0, maxEntries: 3, now: 10) == ClaimExpiry(expired: 0, evictedEarly: 2)
        )
        #expect(try await store.claimCount() == 3)
        #expect(try await store.claim(key(3), by("A", at: 10)) == .claimed(terminalTargets: [], conflict: false))
        #expect(try await store.claim(key(1), by("A", at: 10)) == .claimed(terminalTargets: [], conflict: false))
        #expect(try await store.claim(key(2), by("A", at: 10)) == .done(upstream: "up-a", deadLettered: false))
    }

    @Test(arguments: StoreKind.available)
    func expireKeepsClaimsInFlightUnderALiveLease(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.claim(key(1), by("A", at: 1, lease: 10_000))  // live at 500
        _ = try await store.claim(key(2), by("A", at: 2))
        try await store.record(key(2), ["sink-1"], complete: true)  // done
        _ = try await store.claim(key(3), by("A", at: 3, lease: 100))  // expired at 500
        #expect(
            try await store.expire(createdBefore: 1_000, maxEntries: 0, now: 500)
                == ClaimExpiry(expired: 2, evictedEarly: 0)
        )
        #expect(try await store.claimCount() == 1)
        #expect(try await store.claim(key(1), by("B", at: 500)) == .inFlight(owner: "A", upstream: "up-a"))

        // The count bound spares them too, and evicts what it may.
        _ = try await store.claim(key(5), by("A", at: 600, lease: 10_000))
        _ = try await store.claim(key(6), by("A", at: 700))
        try await store.record(key(6), ["sink-1"], complete: true)
        #expect(
            try await store.expire(createdBefore: 0, maxEntries: 1, now: 800)
                == ClaimExpiry(expired: 0, evictedEarly: 1)
        )
        #expect(try await store.claimCount() == 2)
    }

    @Test(arguments: StoreKind.available)
    func expireWorksThroughMoreRowsThanOneChunk(kind: StoreKind) async throws {
        let store = try await kind.open()
        // 4,500 claims for each pass: more than two chunks of 2,000 each.
        let keys = (0..<9_000).map { ClaimKey(key: Self.key16($0), contentDigest: 1) }
        for (index, batch) in stride(from: 0, to: keys.count, by: 500).map({ keys[$0..<$0 + 500] }).enumerated() {
            _ = try await store.claim(
                batch.map { ClaimRequest(key: $0, upstream: "up-a") },
                options: by("A", at: Int64(index))
            )
            try await store.record(
                batch.map { ClaimUpdate(key: $0, terminalTargets: ["s"], deadLettered: false, complete: true) }
            )
        }
        // Batches 0...8 (4,500 claims) are older than 9; the other 4,500 exceed the bound of 0.
        #expect(
            try await store.expire(createdBefore: 9, maxEntries: 0, now: 100)
                == ClaimExpiry(expired: 4_500, evictedEarly: 4_500)
        )
        #expect(try await store.claimCount() == 0)
    }

    // MARK: refusals

    @Test(arguments: StoreKind.available)
    func requestsThatBreakTheContractAreRefused(kind: StoreKind) async throws {
        let store = try await kind.open()
        let short = ClaimKey(key: [1, 2, 3], contentDigest: 1)
        await #expect(throws: StateStoreError.self) { try await store.claim(short, by("A", at: 0)) }
        await #expect(throws: StateStoreError.self) { try await store.claim(key(1), by("", at: 0)) }
        await #expect(throws: StateStoreError.self) { try await store.claim(key(1), by("A", at: 0, lease: 0)) }
        await #expect(throws: StateStoreError.self) { try await store.record(short, ["sink-1"], complete: true) }
        await #expect(throws: StateStoreError.self) { try await store.abandon([key(1)], owner: "") }
        await #expect(throws: StateStoreError.self) { try await store.renewLeases(owner: "", until: 1) }
        await #expect(throws: StateStoreError.self) { try await store.expire(createdBefore: 0, maxEntries: -1, now: 0) }
        #expect(try await store.claimCount() == 0)
    }

    /// A 16-byte key from a number.
    static func key16(_ n: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt64(n).bigEndian) { Array($0) } + [UInt8](repeating: 0xAB, count: 8)
    }
}
