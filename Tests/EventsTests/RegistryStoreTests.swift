//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Foundation
import StateStore
import Testing

/// The registry and outbox of the SQLite store: seeds, lookups, commits, idempotent updates, the outbox's order.
@Suite struct RegistryStoreTests {
    static let target = "iot-06z00frq8umvkx2"

    static func device(_ n: Int, product: String = "a1PK") -> DeviceKey {
        DeviceKey(productKey: product, deviceName: "dev-\(n)")
    }

    static func moved(_ device: DeviceKey, to instance: String, migration: String, time: Int64) -> OutboxDraft {
        MigrationEvent(
            source: MigrationEvent.bridgeSource,
            type: .deviceMigrated,
            time: time,
            subject: device.description,
            data: MigrationEventData(
                migrationId: migration,
                productKey: device.productKey,
                deviceName: device.deviceName,
                fromInstanceId: "",
                toInstanceId: instance
            )
        ).draft(registryUpdate: RegistryUpdate(device: device, iotInstanceId: instance, sourceInstanceId: ""))
    }

    @Test func seedThenLookup() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let added = try await store.seed(
            [RegistrySeed(device: Self.device(1), iotInstanceId: ""), RegistrySeed(device: Self.device(2), iotInstanceId: "")],
            at: 5
        )
        #expect(added == 2)
        let record = try #require(try await store.lookup(Self.device(1)))
        #expect(record.iotInstanceId == "" && record.sourceInstanceId == "" && !record.isMigrated)
        #expect(try await store.lookup(Self.device(3)) == nil)
        // A second seed never moves a known device.
        _ = try await store.commit([Self.moved(Self.device(1), to: Self.target, migration: "m", time: 10)])
        #expect(try await store.seed([RegistrySeed(device: Self.device(1), iotInstanceId: "")], at: 20) == 0)
        #expect(try await store.lookup(Self.device(1))?.iotInstanceId == Self.target)
    }

    @Test func aCommitWritesTheEventAndTheRegistryRowTogether() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let events = try await store.commit([
            Self.moved(Self.device(1), to: Self.target, migration: "m", time: 10),
            Self.moved(Self.device(2), to: Self.target, migration: "m", time: 11),
        ])
        #expect(events.map(\.sequence) == [1, 2])
        #expect(events[1].position > events[0].position)
        let record = try #require(try await store.lookup(Self.device(2)))
        #expect(record.iotInstanceId == Self.target && record.migrationId == "m" && record.sequence == 2)
        #expect(record.updatedAt == 11 && record.isMigrated)
        #expect(try await store.undeliveredEvents(limit: 10).map(\.sequence) == [1, 2])
    }

    @Test func anOlderSequenceNeverOverwritesANewerOne() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let device = Self.device(1)
        let newer = RegistryRecord(
            device: device, iotInstanceId: Self.target, sourceInstanceId: "", updatedAt: 20, migrationId: "m", sequence: 5
        )
        let older = RegistryRecord(
            device: device, iotInstanceId: "", sourceInstanceId: "", updatedAt: 30, migrationId: "m", sequence: 4
        )
        #expect(try await store.apply([newer]) == 1)
        #expect(try await store.apply([older]) == 0)
        #expect(try await store.lookup(device) == newer)
        // Across migrations, time decides.
        let otherEarlier = RegistryRecord(
            device: device, iotInstanceId: "x", sourceInstanceId: "", updatedAt: 19, migrationId: "n", sequence: 99
        )
        #expect(try await store.apply([otherEarlier]) == 0)
        let otherLater = RegistryRecord(
            device: device, iotInstanceId: "y", sourceInstanceId: "", updatedAt: 21, migrationId: "n", sequence: 1
        )
        #expect(try await store.apply([otherLater]) == 1)
        #expect(try await store.lookup(device)?.iotInstanceId == "y")
    }

    @Test func replayingTwiceGivesTheSameRegistry() async throws {
        let folder = try EventsFolder()
        let source = try folder.open()
        // A migration, a rollback of one device, and a second move: the order matters.
        var drafts: [OutboxDraft] = []
        for n in 0..<50 { drafts.append(Self.moved(Self.device(n), to: Self.target, migration: "m", time: Int64(n))) }
        drafts.append(Self.moved(Self.device(7), to: "", migration: "m", time: 100))
        drafts.append(Self.moved(Self.device(8), to: "", migration: "m", time: 101))
        drafts.append(Self.moved(Self.device(8), to: Self.target, migration: "m", time: 102))
        _ = try await source.commit(drafts)
        let events = try await source.outboxEvents(fromPosition: 0, limit: 1_000).compactMap(MigrationEvent.init)
        let expected = try await source.records(product: nil, after: nil, limit: 1_000)

        // A subscriber applies the events twice, the second time in reverse: same registry.
        let replicaFolder = try EventsFolder()
        let replica = try replicaFolder.open()
        let rows = events.compactMap(RegistryReplication.record)
        _ = try await replica.apply(rows)
        let once = try await replica.records(product: nil, after: nil, limit: 1_000)
        _ = try await replica.apply(rows.reversed())
        let twice = try await replica.records(product: nil, after: nil, limit: 1_000)
        #expect(once == expected)
        #expect(twice == expected)
        #expect(try await replica.lookup(Self.device(7))?.iotInstanceId == "")
        #expect(try await replica.lookup(Self.device(8))?.iotInstanceId == Self.target)
    }

    @Test func pagesAreInDeviceOrderAndFilterByProduct() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let seeds = (0..<10).map { RegistrySeed(device: Self.device($0, product: $0 % 2 == 0 ? "pA" : "pB"), iotInstanceId: "") }
        _ = try await store.seed(seeds.shuffled(), at: 1)
        let first = try await store.records(product: "pA", after: nil, limit: 3)
        #expect(first.map(\.device.description) == ["pA/dev-0", "pA/dev-2", "pA/dev-4"])
        let rest = try await store.records(product: "pA", after: first.last?.device, limit: 10)
        #expect(rest.map(\.device.description) == ["pA/dev-6", "pA/dev-8"])
        #expect(try await store.records(product: nil, after: nil, limit: 100).count == 10)
    }

    @Test func deliveredEventsLeaveTheUndeliveredList() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let events = try await store.commit((0..<3).map { Self.moved(Self.device($0), to: Self.target, migration: "m", time: 1) })
        try await store.markDelivered(positions: [events[0].position])
        #expect(try await store.undeliveredEvents(limit: 10).map(\.sequence) == [2, 3])
        #expect(try await store.outboxEvents(fromPosition: events[1].position, limit: 10).map(\.sequence) == [2, 3])
    }
}
