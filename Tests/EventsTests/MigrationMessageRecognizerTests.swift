//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import RuleSQL
import StateStore
import Testing

/// Platform migration messages: recognised by shape or topic, turned into events and registry rows; bad ones refused.
@Suite struct MigrationMessageRecognizerTests {
    static let target = "iot-06z00frq8umvkx2"
    let recognizer = MigrationMessageRecognizer()

    func recognize(_ text: String, topic: String = "/a1PK/dev/user/update") -> MigrationMessageRecognizer.Outcome {
        self.recognizer.recognize(topic: topic, payload: Array(text.utf8))
    }

    @Test func grayExecutingListsMigratedDevices() throws {
        let outcome = self.recognize(
            """
            {"status":"GRAY_EXECUTING","targetInstance":"\(Self.target)","taskId":"t1",
             "successDevices":[{"productKey":"a1PK","deviceName":"d1"},{"productKey":"a1PK","deviceName":"d2"}]}
            """
        )
        guard case .migration(let message) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(message.kind == .migrated)
        #expect(message.devices.map(\.description) == ["a1PK/d1", "a1PK/d2"])
        #expect(message.unknownMembers["taskId"] == .string("t1"))
        #expect(message.badItems == 0)
    }

    @Test func statusesMapToKinds() {
        func kind(_ status: String) -> RecognizedMigrationMessage.Kind? {
            if case .migration(let message) = self.recognize(
                "{\"status\":\"\(status)\",\"targetInstance\":\"\(Self.target)\",\"successDevices\":[]}"
            ) {
                return message.kind
            }
            return nil
        }
        #expect(kind("ALL_EXECUTING") == .migrated)
        #expect(kind("GRAY_EXECUTING") == .migrated)
        #expect(kind("ROLLBACK_EXECUTING") == .rolledBack)
        #expect(kind("gray_rollback") == .rolledBack)
        #expect(kind("FINISHED") == .other)
    }

    @Test func ordinaryMessagesAreNotMigrationMessages() {
        #expect(self.recognize("{\"temperature\":21}") == .notMigration)
        #expect(self.recognize("not json, but mentions \"status\" and \"targetInstance\"") == .notMigration)
        #expect(self.recognize("{\"status\":\"on\"}") == .notMigration)
        #expect(self.recognize("{\"status\":1,\"targetInstance\":\"x\"}") == .notMigration)
    }

    @Test func withATopicFilterBadMessagesAreMalformed() throws {
        let recognizer = MigrationMessageRecognizer(topicFilter: try TopicFilter("/sys/+/+/migration/#"))
        func outcome(_ text: String) -> MigrationMessageRecognizer.Outcome {
            recognizer.recognize(topic: "/sys/a1PK/d1/migration/status", payload: Array(text.utf8))
        }
        #expect(outcome("garbage") == .malformed("payload is not a JSON object"))
        #expect(outcome("{\"targetInstance\":\"x\"}") == .malformed("member \"status\" is missing or not a non-empty string"))
        #expect(outcome("{\"status\":\"GRAY_EXECUTING\"}") == .malformed("member \"targetInstance\" is missing or not a string"))
        #expect(
            outcome("{\"status\":\"GRAY_EXECUTING\",\"targetInstance\":\"x\",\"successDevices\":7}")
                == .malformed("the device list is a integer, not an array")
        )
        #expect(outcome("{\"status\":\"GRAY_EXECUTING\",\"targetInstance\":\"\"}") != .notMigration)
        #expect(recognizer.recognize(topic: "/a1PK/d1/user/data", payload: Array("garbage".utf8)) == .notMigration)
    }

    @Test func badDeviceItemsAreCountedAndSkipped() {
        let outcome = self.recognize(
            """
            {"status":"ALL_EXECUTING","targetInstance":"\(Self.target)","productKey":"a1PK",
             "successDevices":[{"deviceName":"d1"},"a1PK/d2",{"productKey":"a1PK"},3,"no-slash"]}
            """
        )
        guard case .migration(let message) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(message.devices.map(\.description) == ["a1PK/d1", "a1PK/d2"])
        #expect(message.badItems == 3)
    }

    @Test func eventsAndRegistryRowsFromMessages() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        _ = try await store.seed(
            [RegistrySeed(device: DeviceKey(productKey: "a1PK", deviceName: "d1"), iotInstanceId: "")],
            at: 1
        )
        func process(_ text: String, at time: Int64) async throws -> [OutboxEvent] {
            guard case .migration(let message) = self.recognize(text) else { return [] }
            let drafts = try await PlatformMigrationEvents.drafts(for: message, time: time, registry: store)
            return try await store.commit(drafts)
        }
        let gray = """
            {"status":"GRAY_EXECUTING","targetInstance":"\(Self.target)","failedDevices":[{"deviceName":"d9"}],
             "successDevices":[{"productKey":"a1PK","deviceName":"d1"},{"productKey":"a1PK","deviceName":"d2"}]}
            """
        let first = try await process(gray, at: 10).compactMap(MigrationEvent.init)
        #expect(first.map(\.type) == [.deviceMigrated, .deviceMigrated, .migrationStateChanged])
        #expect(first.map(\.data.sequence) == [1, 2, 1])
        #expect(first[0].data.migrationId == "platform:\(Self.target):a1PK")
        #expect(first[0].data.fromInstanceId == "" && first[0].data.toInstanceId == Self.target)
        #expect(first[2].data.platform?["failedDevices"] != nil)
        #expect(try await store.lookup(DeviceKey(productKey: "a1PK", deviceName: "d2"))?.iotInstanceId == Self.target)

        // The same message again (a redelivery): no second device event.
        let again = try await process(gray, at: 11).compactMap(MigrationEvent.init)
        #expect(again.map(\.type) == [.migrationStateChanged])

        let rollback = """
            {"status":"ROLLBACK_EXECUTING","targetInstance":"\(Self.target)","successDevices":["a1PK/d1"]}
            """
        let back = try await process(rollback, at: 12).compactMap(MigrationEvent.init)
        #expect(back.map(\.type) == [.deviceRolledBack])
        #expect(back[0].data.fromInstanceId == Self.target && back[0].data.toInstanceId == "")
        #expect(back[0].data.sequence == 3)
        #expect(try await store.lookup(DeviceKey(productKey: "a1PK", deviceName: "d1"))?.iotInstanceId == "")

        let unknown = try await process(
            "{\"status\":\"PAUSED\",\"targetInstance\":\"\(Self.target)\",\"productKey\":\"a1PK\",\"reason\":\"ops\"}",
            at: 13
        ).compactMap(MigrationEvent.init)
        #expect(unknown.map(\.type) == [.migrationStateChanged])
        #expect(unknown[0].data.status == "PAUSED" && unknown[0].data.platform?["reason"] == .string("ops"))
        #expect(unknown[0].data.migrationId == "platform:\(Self.target):a1PK")

        let lines = try await store.outboxEvents(fromPosition: 0, limit: 100)
            .compactMap(MigrationEvent.init).map { String(decoding: $0.jsonBytes(), as: UTF8.self) }
        #expect(lines.count == 6)
        #expect(try await schemaViolations(lines) == [])
    }
}
