//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Bridge
import StateStore
import Testing

/// Transcripts of the delivery guarantee: nothing is settled before every target finished and the record of
/// it was taken for the store; duplicates settle with their original; abandoned flights release.
@Suite struct FlightTableTests {
    let a = ClaimKey(key: [1], contentDigest: 1)
    let b = ClaimKey(key: [2], contentDigest: 2)

    @Test func aKeyedFlightSettlesOnlyAfterEveryTargetAndTheRecord() {
        var table = FlightTable<String>()
        let (id, now) = table.begin(key: self.a, targets: ["rabbit", "hook"], delivery: "d1")
        #expect(now.isEmpty)
        let result1 = table.targetFinished(id, target: "rabbit", deadLettered: false).isEmpty
        #expect(result1)
        // The partial confirmation is recorded (so a redelivery skips rabbit) but nothing is settled.
        var taken = table.takeUpdates()
        #expect(taken.updates == [ClaimUpdate(key: self.a, terminalTargets: ["rabbit"], deadLettered: false, complete: false)])
        #expect(taken.settleAfterRecord.isEmpty)
        let result2 = table.targetFinished(id, target: "hook", deadLettered: false).isEmpty
        #expect(result2)
        taken = table.takeUpdates()
        #expect(taken.updates == [ClaimUpdate(key: self.a, terminalTargets: ["hook"], deadLettered: false, complete: true)])
        #expect(taken.settleAfterRecord == ["d1"])
        #expect(table.count == 0)
    }

    @Test func aDuplicateWaitsForItsOriginalAndSettlesWithIt() {
        var table = FlightTable<String>()
        let (id, _) = table.begin(key: self.a, targets: ["rabbit"], delivery: "source#1")
        let result3 = table.attachDuplicate(key: self.a, delivery: "target#7")
        #expect(result3)
        let result4 = table.attachDuplicate(key: self.b, delivery: "target#8")
        #expect(!result4)
        let result5 = table.takeUpdates().settleAfterRecord.isEmpty
        #expect(result5)
        _ = table.targetFinished(id, target: "rabbit", deadLettered: false)
        let result6 = table.takeUpdates().settleAfterRecord
        #expect(result6 == ["source#1", "target#7"])
    }

    @Test func aDuplicateCanBeDetachedButNeverTheOriginal() {
        var table = FlightTable<String>()
        _ = table.begin(key: self.a, targets: ["rabbit"], delivery: "orig")
        let result7 = table.attachDuplicate(key: self.a, delivery: "dup")
        #expect(result7)
        let original = table.detachDuplicate(key: self.a) { $0 == "orig" }
        let duplicate = table.detachDuplicate(key: self.a) { $0 == "dup" }
        let again = table.detachDuplicate(key: self.a) { $0 == "dup" }
        #expect(!original)
        #expect(duplicate)
        #expect(!again)
    }

    @Test func aKeylessFlightSettlesAtOnceWhenDone() {
        var table = FlightTable<String>()
        let (id, now) = table.begin(key: nil, targets: ["rabbit"], delivery: "d")
        #expect(now.isEmpty)
        let result8 = table.targetFinished(id, target: "rabbit", deadLettered: false)
        #expect(result8 == ["d"])
        #expect(!table.hasUpdates)
    }

    @Test func aFlightWithNoTargetsCompletesThroughTheRecord() {
        var table = FlightTable<String>()
        let result9 = table.begin(key: self.a, targets: [], delivery: "d").settleNow.isEmpty
        #expect(result9)
        let taken = table.takeUpdates()
        #expect(taken.updates.map(\.complete) == [true])
        #expect(taken.settleAfterRecord == ["d"])
        let result10 = table.begin(key: nil, targets: [], delivery: "e").settleNow
        #expect(result10 == ["e"])
    }

    @Test func deadLetteringIsRecorded() {
        var table = FlightTable<String>()
        let (id, _) = table.begin(key: self.a, targets: ["rabbit"], delivery: "d")
        _ = table.targetFinished(id, target: "rabbit", deadLettered: true)
        let taken = table.takeUpdates()
        #expect(taken.updates == [ClaimUpdate(key: self.a, terminalTargets: ["rabbit"], deadLettered: true, complete: true)])
    }

    @Test func aTargetFinishingTwiceOrUnknownIsIgnored() {
        var table = FlightTable<String>()
        let (id, _) = table.begin(key: self.a, targets: ["rabbit", "hook"], delivery: "d")
        _ = table.targetFinished(id, target: "rabbit", deadLettered: false)
        _ = table.targetFinished(id, target: "rabbit", deadLettered: false)
        _ = table.targetFinished(id, target: "nope", deadLettered: false)
        _ = table.targetFinished(999, target: "hook", deadLettered: false)
        #expect(table.count == 1)
        let result11 = table.takeUpdates().settleAfterRecord.isEmpty
        #expect(result11)
    }

    @Test func abandoningReleasesOriginalsAndDuplicatesAndNamesTheClaims() {
        var table = FlightTable<String>()
        _ = table.begin(key: self.a, targets: ["rabbit"], delivery: "d1")
        _ = table.attachDuplicate(key: self.a, delivery: "d1-dup")
        _ = table.begin(key: nil, targets: ["rabbit"], delivery: "d2")
        let (release, abandon) = table.abandonAll()
        #expect(Set(release) == ["d1", "d1-dup", "d2"])
        #expect(abandon == [self.a])
        #expect(table.count == 0)
        #expect(!table.isInFlight(self.a))
    }

    @Test func duplicatesThatWaitedTooLongAreDetachedButOriginalsStay() {
        var table = FlightTable<String>()
        _ = table.begin(key: self.a, targets: ["rabbit"], delivery: "old-original")
        _ = table.attachDuplicate(key: self.a, delivery: "old-dup")
        _ = table.attachDuplicate(key: self.a, delivery: "new-dup")
        let detached = table.detachDuplicates { $0.hasPrefix("old") }
        #expect(detached == ["old-dup"])
        let (release, _) = table.abandonAll()
        #expect(Set(release) == ["old-original", "new-dup"])
    }

    // MARK: reservations (keys taken in the table before the store is asked)

    @Test func aKeyBeingLookedUpMakesTheNextDeliveryAWaitingDuplicateThatJoinsTheFlight() {
        var table = FlightTable<String>()
        #expect(table.reserve(key: self.a, upstream: "source", delivery: "s1") == .reserved)
        #expect(table.reserve(key: self.a, upstream: "target", delivery: "t1") == .duplicate(original: "source"))
        #expect(table.reserve(key: self.b, upstream: "target", delivery: "t2") == .reserved)
        let (id, now) = table.begin(key: self.a, targets: ["rabbit"], delivery: "s1", upstream: "source")
        #expect(now.isEmpty)
        #expect(table.reserve(key: self.a, upstream: "target", delivery: "t3") == .duplicate(original: "source"))
        _ = table.targetFinished(id, target: "rabbit", deadLettered: false)
        let taken = table.takeUpdates()
        #expect(taken.updates == [ClaimUpdate(key: self.a, terminalTargets: ["rabbit"], deadLettered: false, complete: true, upstream: "source")])
        #expect(taken.settleAfterRecord == ["s1", "t1", "t3"])
    }

    @Test func aDeliveryArrivingWhileItsOriginalIsBeingRecordedSettlesAfterTheRecord() {
        var table = FlightTable<String>()
        _ = table.reserve(key: self.a, upstream: "source", delivery: "s1")
        let (id, _) = table.begin(key: self.a, targets: ["rabbit"], delivery: "s1", upstream: "source")
        _ = table.targetFinished(id, target: "rabbit", deadLettered: false)
        // Completed, not taken yet: waits with the original.
        #expect(table.reserve(key: self.a, upstream: "target", delivery: "t1") == .duplicate(original: "source"))
        let taken = table.takeUpdates()
        #expect(taken.settleAfterRecord == ["s1", "t1"])
        // Taken, being written: it must not look the key up (the row is not committed yet), it waits for the write.
        #expect(table.reserve(key: self.a, upstream: "target", delivery: "t2") == .duplicate(original: "source"))
        #expect(table.recorded(taken.updates) == ["t2"])
        // Written: the next delivery is the store's to answer (done).
        #expect(table.reserve(key: self.a, upstream: "target", delivery: "t3") == .reserved)
    }

    @Test func aReservationEndedWithoutAFlightHandsBackItsWaitingDuplicates() {
        var table = FlightTable<String>()
        _ = table.reserve(key: self.a, upstream: "source", delivery: "s1")
        _ = table.reserve(key: self.a, upstream: "target", delivery: "t1")
        // The store says done: the caller settles s1 and what waited.
        #expect(table.endReservation(self.a) == ["t1"])
        #expect(table.endReservation(self.a).isEmpty)
        #expect(table.reserve(key: self.a, upstream: "target", delivery: "t2") == .reserved)
    }

    @Test func aReservedKeyWithNoTargetsCompletesThroughTheRecordWithItsDuplicates() {
        var table = FlightTable<String>()
        _ = table.reserve(key: self.a, upstream: "source", delivery: "s1")
        _ = table.reserve(key: self.a, upstream: "target", delivery: "t1")
        #expect(table.begin(key: self.a, targets: [], delivery: "s1", upstream: "source").settleNow.isEmpty)
        #expect(table.takeUpdates().settleAfterRecord == ["s1", "t1"])
    }

    @Test func abandoningReleasesDuplicatesWaitingOnALookupButNotTheBatchsOwnDelivery() {
        var table = FlightTable<String>()
        _ = table.reserve(key: self.a, upstream: "source", delivery: "s1")
        _ = table.reserve(key: self.a, upstream: "target", delivery: "t1")
        let (release, abandon) = table.abandonAll()
        #expect(release == ["t1"])
        #expect(abandon.isEmpty)
    }
}
