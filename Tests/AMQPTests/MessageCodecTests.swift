//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// The codec against bytes produced by an independent encoder (Python qpid-proton 0.37), and round trips.
@Suite struct MessageCodecTests {
    /// Encoded by Python's proton.Message: data body, every property section field and typed application
    /// properties (see the generating script in the commit that added this test).
    static let pythonMessage = """
        005370c00705414040405203005373c0300aa1056d73672d314040a1047375626a40532aa3106170706c69636174696f6e2f6a73\
        6f6e4040830000018bcfe5687b005374d1000000860000000ea105746f706963a1222f61312f646576312f7468696e672f657665\
        6e742f70726f70657274792f706f7374a1096d6573736167654964a10a31323334353637383930a10c67656e657261746554696d\
        65810000018bcfe5687ba103716f735401a1026f6b41a105726174696f823fe0000000000000a1026174830000018bcfe5687b00\
        5375a0147b2274656d7065726174757265223a33382e357d
        """
    /// `Message(body="hello")`: an amqp-value string body.
    static let pythonStringBody = "0053704500537345005377a10568656c6c6f"

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8.filter { $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: " ") })
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    @Test func decodesAPlatformShapedMessageFromPython() throws {
        let message = try ProtonMessageCodec.decode(Self.bytes(Self.pythonMessage))
        #expect(message.body == .data(Array(#"{"temperature":38.5}"#.utf8)))
        #expect(message.messageID == .string("msg-1"))
        #expect(message.correlationID == .ulong(42))
        #expect(message.subject == "subj")
        #expect(message.contentType == "application/json")
        #expect(message.creationTime == 1_700_000_000_123)
        #expect(message.durable)
        #expect(message.deliveryCount == 3)
        let properties = message.applicationProperties
        #expect(properties["topic"] == .string("/a1/dev1/thing/event/property/post"))
        #expect(properties["messageId"] == .string("1234567890"))
        #expect(properties["generateTime"] == .long(1_700_000_000_123))
        #expect(properties["qos"] == .int(1))
        #expect(properties["ok"] == .bool(true))
        #expect(properties["ratio"] == .double(0.5))
        #expect(properties["at"] == .timestamp(1_700_000_000_123))
    }

    @Test func decodesAnAMQPValueStringBody() throws {
        #expect(try ProtonMessageCodec.decode(Self.bytes(Self.pythonStringBody)).body == .string("hello"))
    }

    @Test(arguments: [
        AMQPMessage.Body.data([0, 1, 2, 255]),
        .string("héllo"),
        .binary([9, 8, 7]),
        .none,
        .data([]),
    ])
    func roundTripsEveryBodyKind(_ body: AMQPMessage.Body) throws {
        let message = AMQPMessage(body: body)
        #expect(try ProtonMessageCodec.decode(ProtonMessageCodec.encode(message)).body == body)
    }

    @Test func roundTripsEveryPropertyType() throws {
        let message = AMQPMessage(
            body: .data(Array("payload".utf8)),
            applicationProperties: [
                "s": .string("text"), "l": .long(-5), "i": .int(7), "b": .bool(false), "d": .double(2.25),
                "t": .timestamp(1_600_000_000_000), "u": .ulong(UInt64.max), "bin": .binary([1, 2]),
                "sym": .symbol("x"), "n": .null,
            ],
            messageID: .uuid(Array(0..<16)),
            correlationID: .binary([0xAB]),
            subject: "s",
            contentType: "text/plain",
            creationTime: 123,
            durable: true,
            deliveryCount: 2
        )
        #expect(try ProtonMessageCodec.decode(ProtonMessageCodec.encode(message)) == message)
    }

    /// Proton 0.37 decodes even truncated input without an error (checked with its Python binding too); what
    /// matters is that it never crashes and that the body is reported as something we do not understand.
    @Test func truncatedMessageDecodesToAnUnsupportedBody() throws {
        let message = try ProtonMessageCodec.decode([0x00, 0x53, 0x75, 0xA0, 0x14, 0x7B])
        guard case .unsupported = message.body else {
            Issue.record("expected an unsupported body, got \(message.body)")
            return
        }
    }
}

/// Proton's frame traces must never carry SASL credentials into a log.
@Suite struct ProtonLoggingTests {
    @Test func redactsSASLInitialResponse() {
        let line = #"-> SASL:[0]: sasl-init(mechanism=:PLAIN, initial-response=b"\x00user\x00s3cret", hostname="h")"#
        let redacted = ProtonLogging.redacted(line)
        #expect(!redacted.contains("s3cret"))
        #expect(redacted.contains("<redacted>"))
        #expect(redacted.contains("hostname"))
    }

    @Test func redactsPasswordsWithSeparatorsAndUnknownShapes() {
        let commas = #"sasl-init(mechanism=:PLAIN, initial-response=b"\x00u\x00a,b]c)d")"#
        #expect(!ProtonLogging.redacted(commas).contains("b]c"))
        #expect(!ProtonLogging.redacted(commas).contains("c)d"))
        let odd = "sasl-init(initial-response=whatever secret)"
        #expect(!ProtonLogging.redacted(odd).contains("secret"))
    }
}
