//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Foundation
import RuleSQL
import StateStore
import Testing

/// The event model: every type renders, validates against the committed schema, and reads back unchanged.
@Suite struct MigrationEventTests {
    /// One event of each type, shaped as the code that produces that type shapes it.
    static func oneOfEach() -> [MigrationEvent] {
        MigrationEventType.allCases.enumerated().map { index, type in
            let sequence = Int64(index + 1)
            let data: MigrationEventData
            let subject: String
            switch type {
            case .deviceMigrated, .deviceRolledBack, .deviceObservedOnTarget:
                subject = "a1PK/dev-\(index)"
                data = MigrationEventData(
                    migrationId: "platform:iot-06z00frq8umvkx2:a1PK",
                    sequence: sequence,
                    productKey: "a1PK",
                    deviceName: "dev-\(index)",
                    fromInstanceId: "",
                    toInstanceId: "iot-06z00frq8umvkx2",
                    status: "GRAY_EXECUTING",
                    platform: JSONObject([("taskId", JSONValue.string("t-1"))])
                )
            case .migrationStateChanged:
                subject = "platform:iot-06z00frq8umvkx2:a1PK"
                data = MigrationEventData(
                    migrationId: subject,
                    sequence: sequence,
                    toInstanceId: "iot-06z00frq8umvkx2",
                    status: "FINISHED"
                )
            default:
                subject = "new-id-\(index)"
                data = MigrationEventData(
                    migrationId: "m-2026",
                    sequence: sequence,
                    resourceKind: "consumerGroup",
                    resourceName: "analytics",
                    oldId: "old-id-\(index)",
                    newId: "new-id-\(index)",
                    status: "done"
                )
            }
            return MigrationEvent(
                source: type.isDeviceEvent ? MigrationEvent.bridgeSource : MigrationEvent.migrateSource,
                type: type,
                time: 1_795_000_000_123 + Int64(index),
                subject: subject,
                data: data
            )
        }
    }

    @Test func everyTypeValidatesAgainstTheSchema() async throws {
        let lines = Self.oneOfEach().map { String(decoding: $0.jsonBytes(), as: UTF8.self) }
        #expect(lines.count == 8)
        #expect(try await schemaViolations(lines) == [])
    }

    @Test func theSchemaRejectsBrokenEvents() async throws {
        var event = Self.oneOfEach()[0]
        var object = event.jsonObject
        // No sequence in data; an unknown envelope member; a device event without a device subject.
        guard case .object(var data)? = object["data"] else {
            Issue.record("no data")
            return
        }
        _ = data.removeValue(forKey: "sequence")
        object.updateValue(.object(data), forKey: "data")
        let missingSequence = JSONValue.object(object).jsonString()
        object = event.jsonObject
        object.updateValue(.string("x"), forKey: "extra")
        let extraMember = JSONValue.object(object).jsonString()
        event.subject = "no-slash"
        let badSubject = String(decoding: event.jsonBytes(), as: UTF8.self)
        let violations = try await schemaViolations([missingSequence, extraMember, badSubject])
        #expect(violations.contains { $0.hasPrefix("line 1:") && $0.contains("sequence") })
        #expect(violations.contains { $0.hasPrefix("line 2:") && $0.contains("extra") })
        #expect(violations.contains { $0.hasPrefix("line 3:") && $0.contains("subject") })
    }

    @Test func jsonRoundTrips() throws {
        for event in Self.oneOfEach() {
            let read = try MigrationEvent(json: event.jsonBytes())
            #expect(read == event)
        }
    }

    @Test func theEnvelopeIsCloudEventsStructuredMode() throws {
        let event = Self.oneOfEach()[0]
        let text = String(decoding: event.jsonBytes(), as: UTF8.self)
        #expect(text.hasPrefix("{\"specversion\":\"1.0\",\"id\":\"\(event.id)\""))
        #expect(text.contains("\"time\":\"2026-11-18T11:06:40.123Z\""))
        #expect(text.contains("\"datacontenttype\":\"application/json\""))
        #expect(text.contains("\"data\":{\"migrationId\":\"platform:iot-06z00frq8umvkx2:a1PK\",\"sequence\":1,"))
    }

    @Test func badJSONIsRefusedWithAReason() {
        #expect(throws: MigrationEventError.self) { try MigrationEvent(json: Array("not json".utf8)) }
        #expect(throws: MigrationEventError("unknown type \"com.example.other\"")) {
            try MigrationEvent(
                json: Array(
                    """
                    {"specversion":"1.0","id":"x","source":"s","type":"com.example.other","subject":"s",
                    "time":"2026-01-01T00:00:00Z","data":{}}
                    """.utf8
                )
            )
        }
    }

    @Test func anOutboxRowRendersWithItsSequence() async throws {
        let folder = try EventsFolder()
        let store = try folder.open()
        let events = Self.oneOfEach()
        let committed = try await store.commit(events.map { $0.draft() })
        #expect(committed.map(\.sequence) == [1, 2, 3, 1, 2, 3, 4, 4])
        let rendered = try #require(MigrationEvent(committed[1]))
        #expect(rendered.data.sequence == 2)
        #expect(rendered.id == events[1].id)
        #expect(rendered.subject == events[1].subject)
        #expect(rendered.data.platform?["taskId"] == .string("t-1"))
    }
}
