//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import PostgresStateStore
import StateStore
import Testing

/// The migration-journal contract (``StateStore``), run against every store: SQLite always, PostgreSQL when
/// scripts/test.sh started one.
@Suite struct JournalStoreContractTests {
    typealias Journal = any StateStore & EventOutbox

    /// A fresh store of `kind`, and what keeps it alive.
    static func open(_ kind: StoreKind) async throws -> (Journal, any Sendable) {
        try await kind.openStateStore()
    }

    static func entry(_ step: String, ordinal: Int, state: String, migration: String = "m1") -> JournalEntry {
        JournalEntry(migrationId: migration, stepId: step, ordinal: ordinal, action: "createRule", name: step, state: state)
    }

    static func draft(id: String, migration: String = "m1") -> OutboxDraft {
        OutboxDraft(
            id: id,
            type: "com.iotbridge.migration.step.changed",
            source: "test",
            subject: "rule:a",
            time: 10,
            migrationId: migration,
            data: "{}"
        )
    }

    @Test(arguments: StoreKind.available)
    func entriesComeInPlanOrderAndEachStateChangeIsOneStepEvent(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        try await store.save(Self.entry("rule:b", ordinal: 2, state: "pending"))
        try await store.save(Self.entry("rule:a", ordinal: 1, state: "requested"))
        try await store.save(Self.entry("rule:x", ordinal: 1, state: "pending", migration: "m2"))
        var done = Self.entry("rule:a", ordinal: 1, state: "done")
        done.targetId = "t-1"
        done.created = true
        done.attempts = 1
        try await store.save(done)
        // The same state again (a retry's attempt count, say): no new event.
        done.attempts = 2
        try await store.save(done)

        let entries = try await store.entries(migrationId: "m1")
        #expect(entries.map(\.stepId) == ["rule:a", "rule:b"])
        let first = try #require(entries.first)
        #expect(first.state == "done" && first.targetId == "t-1" && first.created && first.attempts == 2)
        #expect(first.lastError == nil && first.updatedAt > 0, "the store stamps the time of the change")

        let events = try await store.events(migrationId: "m1")
        #expect(events.map(\.stepId) == ["rule:b", "rule:a", "rule:a"])
        #expect(events.map(\.state) == ["pending", "requested", "done"])
        #expect(events.last?.targetId == "t-1" && events.allSatisfy { !$0.delivered })
        let sequences = events.map(\.sequence)
        #expect(sequences == sequences.sorted() && Set(sequences).count == 3)
        #expect(try await store.entries(migrationId: "m2").map(\.stepId) == ["rule:x"])
        #expect(try await store.entries(migrationId: "none").isEmpty)
    }

    @Test(arguments: StoreKind.available)
    func aFailedStepKeepsItsErrorAndAResumedOneClearsIt(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        var failed = Self.entry("rule:a", ordinal: 1, state: "failed")
        failed.lastError = "InternalError (HTTP 500)"
        failed.attempts = 1
        try await store.save(failed)
        #expect(try await store.entries(migrationId: "m1").first?.lastError == "InternalError (HTTP 500)")
        var resumed = failed
        resumed.state = "done"
        resumed.lastError = nil
        resumed.targetId = nil
        try await store.save(resumed)
        let entry = try #require(try await store.entries(migrationId: "m1").first)
        #expect(entry.lastError == nil && entry.targetId == nil && entry.state == "done")
    }

    @Test(arguments: StoreKind.available)
    func aStepAndItsOutboxEventsCommitTogetherOrNotAtAll(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        try await store.save(Self.entry("rule:a", ordinal: 1, state: "requested"), events: [Self.draft(id: "e1")])
        var outbox = try await store.outboxEvents(fromPosition: 0, limit: 10)
        #expect(outbox.map(\.draft.id) == ["e1"] && outbox.map(\.sequence) == [1])

        // An event whose insert fails (an injected fault) fails the transaction: the step's change and the event
        // written before it must not be kept either.
        try await EventInsertFault.install(into: store)
        await #expect(throws: (any Error).self) {
            try await store.save(
                Self.entry("rule:a", ordinal: 1, state: "done"),
                events: [Self.draft(id: "e2"), Self.draft(id: EventInsertFault.poisonId)]
            )
        }
        #expect(try await store.entries(migrationId: "m1").first?.state == "requested")
        #expect(try await store.events(migrationId: "m1").map(\.state) == ["requested"])
        outbox = try await store.outboxEvents(fromPosition: 0, limit: 10)
        #expect(outbox.map(\.draft.id) == ["e1"], "the rolled-back event e2 is not in the outbox")

        try await store.save(Self.entry("rule:a", ordinal: 1, state: "done"), events: [Self.draft(id: "e3")])
        outbox = try await store.outboxEvents(fromPosition: 0, limit: 10)
        #expect(outbox.map(\.draft.id) == ["e1", "e3"] && outbox.map(\.sequence) == [1, 2], "no gap after the rollback")
    }

    @Test(arguments: StoreKind.available)
    func metadataIsPerMigrationAndOverwritten(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        #expect(try await store.metadata(migrationId: "m1", key: "fingerprint") == nil)
        try await store.setMetadata(migrationId: "m1", key: "fingerprint", value: "f1")
        try await store.setMetadata(migrationId: "m2", key: "fingerprint", value: "f2")
        try await store.setMetadata(migrationId: "m1", key: "attempt:rule:a", value: "{\"ruleId\":\"r\"}")
        try await store.setMetadata(migrationId: "m1", key: "fingerprint", value: "f3")
        #expect(try await store.metadata(migrationId: "m1", key: "fingerprint") == "f3")
        #expect(try await store.metadata(migrationId: "m2", key: "fingerprint") == "f2")
        #expect(try await store.metadata(migrationId: "m1", key: "attempt:rule:a") == "{\"ruleId\":\"r\"}")
        try await store.setMetadata(migrationId: "m1", key: "attempt:rule:a", value: "")
        #expect(try await store.metadata(migrationId: "m1", key: "attempt:rule:a") == "")
    }
}
