//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Events
import Foundation
import StateStore
import Testing

@testable import Bridge

/// An event as the sinks get it: built field by field (no scan, no hash), it carries what the generic
/// `BridgeMessage(encoded:…)` would have made of the same encoding, and its AMQP message is the CloudEvent.
@Suite struct EventMessageTests {
    static func row() -> OutboxEvent {
        OutboxEvent(
            position: 7,
            sequence: 3,
            delivered: false,
            draft: OutboxDraft(
                id: "6f1c9a4e-0000-4000-8000-000000000001",
                type: MigrationEventType.deviceMigrated.rawValue,
                source: MigrationEvent.bridgeSource,
                subject: "a1PK/dev-1",
                time: 1_795_000_000_123,
                migrationId: "platform:iot-b:a1PK",
                data: "{\"productKey\":\"a1PK\",\"deviceName\":\"dev-1\",\"toInstanceId\":\"iot-b\"}"
            )
        )
    }

    @Test func theLeanMessageCarriesWhatTheGenericOneWould() throws {
        let lean = try EventMessage.sinkMessage(Self.row()).message
        let generic = BridgeMessage(
            encoded: lean.forwardedEncoding,
            decodingError: nil,
            upstream: "outbox",
            instanceLabel: "iotbridge",
            maxMessageSize: Int.max
        )
        #expect(generic.defect == nil)
        #expect(lean.topic == generic.topic)
        #expect(lean.messageId == generic.messageId)
        #expect(lean.generateTime == generic.generateTime)
        #expect(lean.payload == generic.payload)
        #expect(lean.properties == generic.properties)
        // Setting iotInstanceId again changes nothing: it is already there, with the same value.
        let forwarded = try AMQPMessage(decoding: generic.forwardedEncoding)
        let sent = try AMQPMessage(decoding: lean.forwardedEncoding)
        #expect(forwarded.applicationProperties == sent.applicationProperties)
        #expect(sent.applicationProperties["iotInstanceId"] == .string("iotbridge"))
    }

    @Test func theMessageIsTheStructuredCloudEvent() throws {
        let row = Self.row()
        let sent = try AMQPMessage(decoding: try EventMessage.sinkMessage(row).message.forwardedEncoding)
        guard case .data(let body) = sent.body else {
            Issue.record("not a data section: \(sent.body)")
            return
        }
        #expect(body == StructuredEventRenderer.render(row))
        let event = try MigrationEvent(json: body)
        #expect(event.data.sequence == 3)
        #expect(event.id == row.draft.id)
        #expect(sent.messageID == .string(row.draft.id))
        #expect(sent.subject == row.draft.type)
        #expect(sent.contentType == EventMessage.contentType)
        #expect(sent.applicationProperties["topic"] == .string("/iotbridge/events/" + row.draft.type))
        #expect(sent.applicationProperties["generateTime"] == .long(row.draft.time))
    }

    @Test func aRowThisBuildCannotReadIsAnErrorNotASkip() {
        var row = Self.row()
        row.draft.type = "com.iotbridge.migration.device.teleported"
        #expect(throws: EventDeliveryError.self) { try EventMessage.sinkMessage(row) }
        row = Self.row()
        row.draft.data = "not an object"
        #expect(throws: EventDeliveryError.self) { try EventMessage.sinkMessage(row) }
    }
}
