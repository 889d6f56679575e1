//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Bridge
import StateStore
import Testing

@Suite struct BridgeMessageTests {
    func message(_ id: AMQPValue?, messageID: AMQPMessage.MessageID? = nil, topic: String = "/a1/dev/user/up", body: String = "{}") -> BridgeMessage {
        var properties: [String: AMQPValue] = ["topic": .string(topic), "generateTime": .long(1_700_000_000_000)]
        if let id { properties["messageId"] = id }
        let encoded = AMQPMessage(body: .data(Array(body.utf8)), applicationProperties: properties, messageID: messageID).encoded()
        return BridgeMessage(encoded: encoded, decodingError: nil, upstream: "source", instanceLabel: "iot-old", maxMessageSize: 1 << 20)
    }

    @Test func theKeyIsTypedAndIncludesTheContent() throws {
        let text = try #require(self.message(.string("42")).claimKey)
        let number = try #require(self.message(.ulong(42)).claimKey)
        #expect(text.key != number.key, "the string \"42\" is not the ulong 42")
        // SHA-256 of the type name, a 0 byte and the id's bytes, first 16 bytes: the key must not change between
        // versions, or a state file written by an earlier version stops de-duplicating after an upgrade.
        let hex = text.key.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(hex == "8015ce344a2980cb75ec3c43dc456614")
        #expect(self.message(.string("42")).claimKey == text, "the same message gives the same key")
        let otherBody = try #require(self.message(.string("42"), body: "{\"x\":1}").claimKey)
        #expect(otherBody.key == text.key)
        #expect(otherBody.contentDigest != text.contentDigest, "a reused id with other content is another claim")
    }

    @Test func fieldsReadFromTheEncodingMatchTheDecodedMessage() throws {
        // The bridge reads its fields from the encoding without decoding it (the receiver does not decode): every
        // type the platform or another sender may use must give what the decoded value gave.
        let times: [AMQPValue] = [
            .long(1_700_000_000_000), .int(-5), .ulong(42), .ulong(UInt64.max), .timestamp(1_573_489_088_171),
            .string("1700000000000"), .string("soon"), .double(1.5), .bool(true), .symbol("7"), .binary([1]),
        ]
        for time in times {
            let properties: [String: AMQPValue] = ["topic": .string("/a1/dev/user/up"), "messageId": .ulong(9), "generateTime": time, "k": .int(3)]
            let encoded = AMQPMessage(body: .data([1]), applicationProperties: properties).encoded()
            let decoded = try AMQPMessage(decoding: encoded)
            let message = BridgeMessage(encoded: encoded, decodingError: nil, upstream: "s", instanceLabel: "i", maxMessageSize: 1 << 20)
            #expect(message.generateTime == decoded.applicationProperties["generateTime"]?.int64Value, "generateTime \(time)")
            #expect(message.properties == decoded.applicationProperties)
            #expect(message.messageId == decoded.applicationProperties["messageId"]?.description, "a ulong id reads as before")
        }
    }

    @Test func theAMQPMessageIdIsTheFallbackKey() throws {
        let fromProperties = self.message(nil, messageID: .string("abc"))
        #expect(fromProperties.messageId == "abc")
        #expect(fromProperties.claimKey != nil)
        let none = self.message(nil)
        #expect(none.claimKey == nil, "no id at all: passes through without de-duplication")
        #expect(none.defect == nil)
    }

    @Test func theForwardedEncodingAddsOnlyIotInstanceId() throws {
        let message = self.message(.string("m1"))
        let forwarded = try AMQPMessage(decoding: message.forwardedEncoding)
        #expect(forwarded.applicationProperties["iotInstanceId"] == .string("iot-old"))
        #expect(forwarded.applicationProperties["messageId"] == .string("m1"))
        #expect(forwarded.applicationProperties["generateTime"] == .long(1_700_000_000_000))
        #expect(forwarded.body == .data(Array("{}".utf8)))
        #expect(message.topic == "/a1/dev/user/up")
        #expect(message.generateTime == 1_700_000_000_000)
    }

    @Test func defectsAreNamedAndStillKeyed() throws {
        let big = AMQPMessage(body: .data([UInt8](repeating: 7, count: 5000)), applicationProperties: ["messageId": .string("big")]).encoded()
        let tooLarge = BridgeMessage(encoded: big, decodingError: nil, upstream: "s", instanceLabel: "s", maxMessageSize: 1000)
        #expect(tooLarge.defect?.contains("exceeds limits.maxMessageSize (1000)") == true)
        #expect(tooLarge.messageId == "big")
        #expect(tooLarge.claimKey != nil, "claimed, so a redelivery is dropped rather than dead-lettered twice")
        let garbage = BridgeMessage(
            encoded: [0x00, 0x53, 0x75, 0xa0, 0xff], decodingError: nil, upstream: "s", instanceLabel: "s", maxMessageSize: 1000)
        #expect(garbage.defect?.hasPrefix("undecodable") == true)
    }
}
