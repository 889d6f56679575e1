//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Logging
import RuleSQL
import StateStore
import Testing

/// The bridge's view of the stream: migration messages, inference, sightings, and bad input counted.
@Suite struct MigrationStreamObserverTests {
    static let target = "iot-t"

    static func message(_ topic: String, _ payload: String, on instance: String, at time: Int64) -> ObservedMessage {
        ObservedMessage(topic: topic, payload: Array(payload.utf8), iotInstanceId: instance, time: time)
    }

    @Test func observedOnTargetIsInferredOncePerDeviceAcrossRestarts() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let d3 = DeviceKey(productKey: "pk", deviceName: "d3")
        _ = try await store.seed([RegistrySeed(device: d3, iotInstanceId: "")], at: 1)
        let first = MigrationStreamObserver(store: store, sightingInterval: 1_000, logger: Logger(label: "test"))
        try await first.observe([Self.message("/pk/d3/user/update", "{}", on: Self.target, at: 10)])
        // The next process (a restart) sees d3 on the target again, still on the source in the registry.
        let second = MigrationStreamObserver(store: store, sightingInterval: 1_000, logger: Logger(label: "test"))
        try await second.observe([Self.message("/pk/d3/user/update", "{}", on: Self.target, at: 5_000)])
        let events = try await store.outboxEvents(fromPosition: 0, limit: 10).compactMap(MigrationEvent.init)
        #expect(events.map(\.type) == [.deviceObservedOnTarget])
        #expect(first.counters.observedOnTarget == 1 && second.counters.observedOnTarget == 0)
        #expect(try await store.lastSeen(d3, on: Self.target) == 5_000)
    }

    @Test func inferenceMigrationAndBadMessages() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let d1 = DeviceKey(productKey: "pk", deviceName: "d1")
        let d2 = DeviceKey(productKey: "pk", deviceName: "d2")
        _ = try await store.seed([RegistrySeed(device: d1, iotInstanceId: ""), RegistrySeed(device: d2, iotInstanceId: "")], at: 1)
        let observer = MigrationStreamObserver(store: store, sightingInterval: 1_000, logger: Logger(label: "test"))

        try await observer.observe([
            Self.message("/pk/d1/user/update", "{\"t\":1}", on: "", at: 10),
            // d2 on the target while the registry has it on the source: observed-on-target, once.
            Self.message("/sys/pk/d2/thing/event/property/post", "{}", on: Self.target, at: 11),
            Self.message("/pk/d2/user/update", "{}", on: Self.target, at: 12),
            // Not migration messages at all (no topic filter): counted nowhere.
            Self.message("/pk/d1/user/update", "garbage", on: "", at: 13),
            Self.message(
                "/pk/x/migration",
                "{\"status\":\"ALL_EXECUTING\",\"targetInstance\":\"\(Self.target)\",\"successDevices\":[\"pk/d1\",7]}",
                on: "",
                at: 14
            ),
        ])
        let events = try await store.outboxEvents(fromPosition: 0, limit: 10).compactMap(MigrationEvent.init)
        #expect(events.map(\.type) == [.deviceObservedOnTarget, .deviceMigrated])
        #expect(events.map(\.subject) == ["pk/d2", "pk/d1"])
        #expect(events.map(\.data.sequence) == [1, 2])
        #expect(try await store.lookup(d2)?.iotInstanceId == "", "observation does not move a device")
        #expect(try await store.lookup(d1)?.iotInstanceId == Self.target)
        let counters = observer.counters
        #expect(counters.migrationMessages == 1 && counters.badDeviceItems == 1 && counters.malformedMessages == 0)
        #expect(counters.observedOnTarget == 1 && counters.eventsWritten == 2)

        // Sightings: what `registry status` reads.
        let activity = try await store.activity(product: "pk", after: nil, limit: 10)
        #expect(activity.first { $0.record.device == d2 }?.lastSeen == [Self.target: 11])
        #expect(activity.first { $0.record.device == d1 }?.lastSeen == ["": 10])
        var report = RegistryStatusReport(now: 20, silenceThreshold: 1_000)
        report.add(activity)
        #expect(report.products.first?.counts == [.silent: 1, .reportingOnBoth: 1])
    }

    @Test func withATopicFilterBadMessagesAreCountedAndChangeNothing() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let observer = MigrationStreamObserver(
            store: store,
            recognizer: MigrationMessageRecognizer(topicFilter: try .init("/sys/+/+/migration/#")),
            logger: Logger(label: "test")
        )
        try await observer.observe([
            Self.message("/sys/pk/p/migration/status", "not json", on: "", at: 1),
            Self.message("/sys/pk/p/migration/status", "{\"status\":\"GRAY_EXECUTING\"}", on: "", at: 2),
            Self.message("/sys/pk/p/migration/status", "[1,2]", on: "", at: 3),
        ])
        #expect(observer.counters.malformedMessages == 3)
        #expect(try await store.outboxEvents(fromPosition: 0, limit: 10).isEmpty)
        #expect(try await store.records(product: nil, after: nil, limit: 10).isEmpty)
    }

    @Test func concurrentBatchesMoveADeviceOnce() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let observer = MigrationStreamObserver(store: store, logger: Logger(label: "test"))
        let payload = "{\"status\":\"GRAY_EXECUTING\",\"targetInstance\":\"\(Self.target)\",\"successDevices\":[\"pk/d1\"]}"
        // Eight receivers deliver the same migration message at once (a redelivery on every connection).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<8 {
                group.addTask {
                    try await observer.observe([Self.message("/sys/pk/x/migration", payload, on: "", at: Int64(n))])
                }
            }
            try await group.waitForAll()
        }
        let events = try await store.outboxEvents(fromPosition: 0, limit: 100).compactMap(MigrationEvent.init)
        #expect(events.map(\.type) == [.deviceMigrated])
        #expect(observer.counters.migrationMessages == 8)
    }

    @Test func devicesFromTopics() {
        #expect(MigrationStreamObserver.device(topic: "/a1/dev/user/update")?.description == "a1/dev")
        #expect(MigrationStreamObserver.device(topic: "/sys/a1/dev/thing/event/property/post")?.description == "a1/dev")
        #expect(MigrationStreamObserver.device(topic: "/as/mqtt/status/a1/dev")?.description == "a1/dev")
        #expect(MigrationStreamObserver.device(topic: "/ext/session/a1/dev/combine/login") == nil)
        #expect(MigrationStreamObserver.device(topic: "relative/a1/dev") == nil)
        #expect(MigrationStreamObserver.device(topic: "/a1") == nil)
        #expect(MigrationStreamObserver.device(topic: "/a1/dev")?.description == "a1/dev")
        #expect(MigrationStreamObserver.device(topic: "/as/mqtt/status/a1/dev/more/segments")?.description == "a1/dev")
        #expect(MigrationStreamObserver.device(topic: "//dev/x") == nil)
        #expect(MigrationStreamObserver.device(topic: "/a1//x") == nil)
        #expect(MigrationStreamObserver.device(topic: "/a+/dev/x") == nil)
        #expect(MigrationStreamObserver.device(topic: "") == nil)
        #expect(MigrationStreamObserver.device(topic: "/a1/dev/")?.description == "a1/dev")
        #expect(MigrationStreamObserver.device(topic: "/sys/a1")?.description == "sys/a1", "too short for /sys/PK/DN")
        #expect(MigrationStreamObserver.device(topic: "/as/mqtt/status/a1") == nil)
        #expect(MigrationStreamObserver.device(topic: "/a1/设备-1/user/get")?.description == "a1/设备-1")
        #expect(MigrationStreamObserver.device(topic: "/shadow/update/a1/dev") == nil)
    }
}
