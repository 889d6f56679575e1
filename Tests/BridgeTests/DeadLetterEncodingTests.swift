//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Testing

@testable import Bridge

@Suite struct DeadLetterEncodingTests {
    @Test func anAMQPDeadLetterIsTheForwardedMessageWithItsReason() throws {
        let encoded = AMQPMessage(
            body: .data(Array("{}".utf8)),
            applicationProperties: ["messageId": .string("m1"), "topic": .string("/a/b/user/c"), "seq": .ulong(7)]
        ).encoded()
        let message = BridgeMessage(encoded: encoded, decodingError: nil, upstream: "source", instanceLabel: "iot-1", maxMessageSize: 1 << 20)
        var item = SinkMessage(message: message, deadLetterReason: "rejected by the broker")
        item.refusedBy = "merged"
        let dead = try AMQPMessage(decoding: AMQPSink.deadLetterEncoding(item, reason: "rejected by the broker"))
        #expect(dead.applicationProperties["deadLetterReason"] == .string("rejected by the broker"))
        #expect(dead.applicationProperties["deadLetterSink"] == .string("merged"))
        #expect(dead.applicationProperties["seq"] == .ulong(7))
        #expect(dead.applicationProperties["iotInstanceId"] == .string("iot-1"))
        #expect(dead.body == .data(Array("{}".utf8)))
    }

    @Test func anUndecodableMessageTravelsAsItsBytes() throws {
        let garbage: [UInt8] = [0x00, 0x53, 0x75, 0xa0, 0xff]
        let message = BridgeMessage(encoded: garbage, decodingError: nil, upstream: "source", instanceLabel: "iot-1", maxMessageSize: 1 << 20)
        let reason = try #require(message.defect)
        let dead = try AMQPMessage(decoding: AMQPSink.deadLetterEncoding(SinkMessage(message: message, deadLetterReason: reason), reason: reason))
        #expect(dead.body == .data(garbage))
        #expect(dead.applicationProperties["deadLetterReason"]?.stringValue?.hasPrefix("undecodable") == true)
    }
}
