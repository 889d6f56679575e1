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

/// The registry and outbox contract, run against every store: SQLite always, PostgreSQL when scripts/test.sh
/// started one. On PostgreSQL, two stores on one database stand for two bridge replicas.
@Suite struct RegistryStoreContractTests {
    typealias FactStore = any InstanceRegistryStore & EventOutbox

    /// A fresh store of `kind`, and what keeps it alive.
    static func open(_ kind: StoreKind) async throws -> (FactStore, any Sendable) {
        try await kind.openStateStore()
    }

    static func device(_ n: Int, product: String = "a1PK") -> DeviceKey {
        DeviceKey(productKey: product, deviceName: "dev-\(n)")
    }

    /// A draft that moves `device` to `instance` (what a `device.migrated` event carries).
    static func moved(_ device: DeviceKey, to instance: String, migration: String, time: Int64) -> OutboxDraft {
        OutboxDraft(
            id: UUID().uuidString,
            type: "com.iotbridge.migration.device.migrated",
            source: "test",
            subject: device.description,
            time: time,
            migrationId: migration,
            data: "{\"toInstanceId\":\"\(instance)\"}",
            registryUpdate: RegistryUpdate(device: device, iotInstanceId: instance, sourceInstanceId: "")
        )
    }

    @Test(arguments: StoreKind.available)
    func seedsLookupsAndPages(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        let seeds =
            [3, 1, 2].map { RegistrySeed(device: Self.device($0), iotInstanceId: "") }
            + [RegistrySeed(device: Self.device(9, product: "b2PK"), iotInstanceId: "")]
        #expect(try await store.seed(seeds, at: 5) == 4)
        #expect(try await store.seed(seeds, at: 6) == 0, "a known device keeps its row")
        let record = try #require(try await store.lookup(Self.device(1)))
        #expect(record.iotInstanceId == "" && record.updatedAt == 5 && !record.isMigrated)
        #expect(try await store.lookup(Self.device(7)) == nil)
        let page = try await store.records(product: "a1PK", after: nil, limit: 2)
        #expect(page.map(\.device) == [Self.device(1), Self.device(2)])
        let next = try await store.records(product: "a1PK", after: page.last?.device, limit: 10)
        #expect(next.map(\.device) == [Self.device(3)])
        #expect(try await store.records(product: nil, after: nil, limit: 10).count == 4)
    }

    @Test(arguments: StoreKind.available)
    func commitsNumberEachMigrationWithoutGapsAndMoveTheRegistry(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        let first = try await store.commit([
            Self.moved(Self.device(1), to: "iot-b", migration: "m1", time: 10),
            Self.moved(Self.device(2), to: "iot-b", migration: "m2", time: 10),
            Self.moved(Self.device(3), to: "iot-b", migration: "m1", time: 11),
        ])
        let second = try await store.commit([Self.moved(Self.device(4), to: "iot-b", migration: "m1", time: 12)])
        #expect(first.map(\.sequence) == [1, 1, 2] && second.map(\.sequence) == [3])
        let positions = (first + second).map(\.position)
        #expect(positions == positions.sorted() && Set(positions).count == 4)
        #expect(first.allSatisfy { $0.draft.registryUpdate == nil }, "the stored event has no registry update")
        let moved = try #require(try await store.lookup(Self.device(3)))
        #expect(moved.iotInstanceId == "iot-b" && moved.migrationId == "m1" && moved.sequence == 2 && moved.updatedAt == 11)
        // An older sequence of the same migration never overwrites a newer one; apply says what changed.
        let stale = RegistryRecord(
            device: Self.device(3), iotInstanceId: "", sourceInstanceId: "", updatedAt: 99, migrationId: "m1", sequence: 1
        )
        let newer = RegistryRecord(
            device: Self.device(3), iotInstanceId: "", sourceInstanceId: "", updatedAt: 99, migrationId: "m1", sequence: 5
        )
        #expect(try await store.apply([stale]) == 0)
        #expect(try await store.lookup(Self.device(3))?.iotInstanceId == "iot-b")
        #expect(try await store.apply([newer]) == 1)
        #expect(try await store.lookup(Self.device(3))?.iotInstanceId == "")
    }

    @Test(arguments: StoreKind.available)
    func aFailedCommitWritesNothing(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        _ = try await store.commit([Self.moved(Self.device(1), to: "iot-b", migration: "m", time: 10)])
        // The third draft's insert fails (an injected fault): the whole batch rolls back, the registry rows too.
        try await EventInsertFault.install(into: store)
        var poisoned = Self.moved(Self.device(3), to: "iot-b", migration: "m", time: 11)
        poisoned.id = EventInsertFault.poisonId
        await #expect(throws: StateStoreError.self) {
            try await store.commit([
                Self.moved(Self.device(2), to: "iot-b", migration: "m", time: 11),
                Self.moved(Self.device(4), to: "iot-b", migration: "m2", time: 11),
                poisoned,
            ])
        }
        #expect(try await store.lookup(Self.device(2)) == nil)
        #expect(try await store.lookup(Self.device(4)) == nil)
        #expect(try await store.outboxEvents(fromPosition: 0, limit: 10).count == 1)
        // The sequences did not advance either: no gap.
        let next = try await store.commit([
            Self.moved(Self.device(5), to: "iot-b", migration: "m", time: 12),
            Self.moved(Self.device(6), to: "iot-b", migration: "m2", time: 12),
        ])
        #expect(next.map(\.sequence) == [2, 1])
    }

    @Test(arguments: StoreKind.available)
    func theOutboxHandsOutUndeliveredEventsInOrderUntilMarked(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        let events = try await store.commit((1...5).map { Self.moved(Self.device($0), to: "iot-b", migration: "m", time: Int64($0)) })
        let undelivered = try await store.undeliveredEvents(limit: 3)
        #expect(undelivered.map(\.position) == Array(events.prefix(3).map(\.position)))
        #expect(undelivered.map(\.draft.id) == Array(events.prefix(3).map(\.draft.id)))
        try await store.markDelivered(positions: undelivered.map(\.position))
        #expect(try await store.undeliveredEvents(limit: 10).map(\.sequence) == [4, 5])
        let all = try await store.outboxEvents(fromPosition: events[1].position, limit: 10)
        #expect(all.map(\.sequence) == [2, 3, 4, 5])
        #expect(all.map(\.delivered) == [true, true, false, false])
    }

    @Test(arguments: StoreKind.available)
    func eventsMarkedOutOfOrderLeaveTheOthersUndeliveredInOrder(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        let events = try await store.commit((1...5).map { Self.moved(Self.device($0), to: "iot-b", migration: "m", time: 1) })
        let positions = events.map(\.position)
        try await store.markDelivered(positions: [positions[1], positions[3]])
        #expect(try await store.undeliveredEvents(limit: 10).map(\.sequence) == [1, 3, 5])
        try await store.markDelivered(positions: [positions[0]])
        #expect(try await store.undeliveredEvents(limit: 10).map(\.sequence) == [3, 5])
        try await store.markDelivered(positions: [positions[2], positions[4]])
        #expect(try await store.undeliveredEvents(limit: 10).isEmpty)
        // Events committed after everything was delivered are handed out.
        let later = try await store.commit([Self.moved(Self.device(6), to: "iot-b", migration: "m", time: 2)])
        #expect(try await store.undeliveredEvents(limit: 10).map(\.position) == later.map(\.position))
        #expect(try await store.outboxEvents(fromPosition: 0, limit: 10).map(\.delivered) == [true, true, true, true, true, false])
    }

    @Test(arguments: StoreKind.available)
    func aDeviceChangedTwiceInOneCommitEndsWhereTheChangesAppliedInOrderLeaveIt(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        _ = try await store.seed([Self.device(1), Self.device(2)].map { RegistrySeed(device: $0, iotInstanceId: "") }, at: 1)
        let events = try await store.commit([
            Self.moved(Self.device(1), to: "iot-b", migration: "m", time: 5),
            Self.moved(Self.device(2), to: "iot-b", migration: "m2", time: 10),
            Self.moved(Self.device(1), to: "iot-c", migration: "m", time: 5),
            // Another migration, earlier: not newer than m2's change, so it leaves device 2 alone.
            Self.moved(Self.device(2), to: "iot-c", migration: "m1", time: 7),
            Self.moved(Self.device(1), to: "", migration: "m", time: 6),
        ])
        #expect(events.map(\.sequence) == [1, 1, 2, 1, 3])
        let one = try #require(try await store.lookup(Self.device(1)))
        #expect(one.iotInstanceId == "" && one.sequence == 3 && one.updatedAt == 6 && one.sourceInstanceId == "")
        let two = try #require(try await store.lookup(Self.device(2)))
        #expect(two.iotInstanceId == "iot-b" && two.migrationId == "m2")
        #expect(
            try await store.apply([
                RegistryRecord(device: Self.device(2), iotInstanceId: "x", sourceInstanceId: "", updatedAt: 20, migrationId: "m3", sequence: 1),
                RegistryRecord(device: Self.device(2), iotInstanceId: "y", sourceInstanceId: "", updatedAt: 21, migrationId: "m3", sequence: 2),
                RegistryRecord(device: Self.device(2), iotInstanceId: "z", sourceInstanceId: "", updatedAt: 22, migrationId: "m3", sequence: 1),
            ]) == 2
        )
        #expect(try await store.lookup(Self.device(2))?.iotInstanceId == "y")
    }

    @Test(arguments: StoreKind.available)
    func totalsCountDevicesByInstanceAndEventsWrittenAndPending(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        let totals = try #require(store as? any RegistryTotals, "both stores total their registry and outbox")
        _ = try await store.seed((1...3).map { RegistrySeed(device: Self.device($0), iotInstanceId: "") }, at: 1)
        let events = try await store.commit([
            Self.moved(Self.device(1), to: "iot-b", migration: "m1", time: 10),
            Self.moved(Self.device(2), to: "iot-b", migration: "m1", time: 11),
        ])
        try await store.markDelivered(positions: [events[0].position])
        let (registry, outbox) = try await totals.counts()
        #expect(registry == RegistryCounts(devices: 3, migrated: 2, byInstance: ["": 1, "iot-b": 2]))
        #expect(outbox.written == Int(events[1].position))
        #expect(outbox.undelivered == 1)
    }

    @Test(arguments: StoreKind.available)
    func sightingsKeepTheLatestTimePerInstance(_ kind: StoreKind) async throws {
        let (store, resources) = try await Self.open(kind)
        defer { _ = resources }
        _ = try await store.seed([RegistrySeed(device: Self.device(1), iotInstanceId: "")], at: 1)
        try await store.recordSightings([
            DeviceSighting(device: Self.device(1), iotInstanceId: "", at: 50),
            DeviceSighting(device: Self.device(1), iotInstanceId: "iot-b", at: 70),
            DeviceSighting(device: Self.device(1), iotInstanceId: "", at: 40),
        ])
        try await store.recordSightings([DeviceSighting(device: Self.device(1), iotInstanceId: "iot-b", at: 60)])
        let activity = try await store.activity(product: nil, after: nil, limit: 10)
        #expect(activity.count == 1)
        #expect(activity.first?.lastSeen == ["": 50, "iot-b": 70])
        #expect(try await store.lastSeen(Self.device(1), on: "iot-b") == 70)
        #expect(try await store.lastSeen(Self.device(1), on: "iot-c") == nil)
        #expect(try await store.lastSeen(Self.device(2), on: "") == nil)
    }

    // MARK: - PostgreSQL replicas

    @Test(.enabled(if: TestPostgres.location != nil))
    func twoReplicasCommittingOneMigrationGetEverySequenceOnce() async throws {
        let location = try await TestPostgres.freshDatabase()
        // The point is the numbering, not the latency: a generous timeout for a loaded CI machine running many
        // PostgreSQL tests at once.
        let a = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
        let b = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
        let runners = (TestPostgres.Runner(a), TestPostgres.Runner(b))
        defer { _ = runners }
        let sequences = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (index, store) in [a, b].enumerated() {
                group.addTask {
                    var mine: [Int64] = []
                    for round in 0..<8 {
                        let drafts = (0..<5).map { n in
                            Self.moved(Self.device(index * 1_000 + round * 10 + n), to: "iot-b", migration: "m", time: 1)
                        }
                        mine += try await store.commit(drafts).map(\.sequence)
                    }
                    return mine
                }
            }
            var all: [Int64] = []
            for try await part in group { all += part }
            return all
        }
        #expect(sequences.sorted() == Array(1...80), "no gap, no repeat")
        // Positions follow sequences: a later transaction of the migration has later positions.
        let outbox = try await a.outboxEvents(fromPosition: 0, limit: 1_000)
        #expect(outbox.map(\.sequence) == Array(1...80))
    }

    @Test(.enabled(if: TestPostgres.location != nil))
    func onlyTheHolderOfTheDeliveryLeaseIsHandedEvents() async throws {
        let location = try await TestPostgres.freshDatabase()
        let a = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
        let b = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
        let runners = (TestPostgres.Runner(a), TestPostgres.Runner(b))
        defer { _ = runners }
        _ = try await a.commit([Self.moved(Self.device(1), to: "iot-b", migration: "m", time: 1)])
        #expect(try await a.undeliveredEvents(limit: 10).count == 1)
        #expect(try await b.undeliveredEvents(limit: 10).isEmpty, "the other replica holds the lease")
        #expect(try await a.undeliveredEvents(limit: 10).count == 1, "the holder renews it")
        // The holder is gone: once the lease ran out, the other replica takes over.
        _ = try await PostgresClaimStoreTests.query(location, "UPDATE iotbridge_outbox_lease SET until = 0")
        #expect(try await b.undeliveredEvents(limit: 10).count == 1)
        #expect(try await a.undeliveredEvents(limit: 10).isEmpty)
    }
}
