//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// `AMQPEncodedMessage.forwarded(deliveryCount:)`: what a redelivering server sends, checked by Proton's decoder.
@Suite struct DeliveryCountForwardingTests {
    @Test func setsTheCountKeepingTheRestOfTheHeaderAndEverySection() throws {
        let original = AMQPMessage(
            body: .data(Array("payload".utf8)),
            applicationProperties: ["topic": .string("/a/b"), "messageId": .string("m1")],
            durable: true,
            deliveryCount: 0
        ).encoded()
        let view = try AMQPEncodedMessage(bytes: original)
        let redelivered = try AMQPEncodedMessage(bytes: view.forwarded(deliveryCount: 3))
        let decoded = try ProtonMessageCodec.decode(redelivered.bytes)
        #expect(decoded.deliveryCount == 3)
        #expect(decoded.durable)
        // first-acquirer is false (0x42) in the rewritten header.
        let header = try #require(redelivered.section(.header))
        #expect(Array(redelivered.bytes[header.range]).suffix(6).first == 0x42)
        #expect(decoded.body == .data(Array("payload".utf8)))
        #expect(decoded.applicationProperties["messageId"] == .string("m1"))
        // Every section but the header keeps its bytes.
        for section in redelivered.sections where section.kind != .header {
            let before = try #require(view.section(section.kind))
            #expect(redelivered.bytes[section.range] == view.bytes[before.range], "\(section.kind)")
        }
        // Again on the result: the count is replaced, not appended.
        let twice = try ProtonMessageCodec.decode(redelivered.forwarded(deliveryCount: 70_000))
        #expect(twice.deliveryCount == 70_000)
        #expect(twice.durable)
    }

    @Test func addsAHeaderToAMessageWithout() throws {
        // A message with no header section at all (a bare data section).
        let bare: [UInt8] = [0x00, 0x53, 0x75, 0xa0, 0x02, 0x68, 0x69]
        let view = try AMQPEncodedMessage(bytes: bare)
        #expect(view.section(.header) == nil)
        let decoded = try ProtonMessageCodec.decode(view.forwarded(deliveryCount: 1))
        #expect(decoded.deliveryCount == 1)
        #expect(!decoded.durable)
        #expect(decoded.body == .data([0x68, 0x69]))
    }
}
