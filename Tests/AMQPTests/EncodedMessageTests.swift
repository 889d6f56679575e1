//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import AMQP

/// `AMQPEncodedMessage` against messages encoded by an independent implementation (Python qpid-proton 0.37)
/// and by hand, with Proton (C) as the judge of what an edited encoding means.
///
/// The Python fixtures were printed by this script (`/usr/bin/python3`, Debian's python3-qpid-proton):
///
/// ```python
/// import uuid
/// from proton import (Message, Data, symbol, ulong, ubyte, ushort, uint, byte, short, int32, char, timestamp,
///                     float32, decimal32, decimal64, decimal128, Array, Described, UNDESCRIBED)
/// def encode_value(v):
///     d = Data(); d.put_object(v); return d.encode()
/// m = Message()
/// m.durable = True; m.priority = 7; m.ttl = 60.0; m.first_acquirer = True; m.delivery_count = 2
/// m.instructions = {symbol("x-opt-hop"): "da-value", symbol("x-opt-count"): 3}
/// m.annotations = {symbol("x-opt-routing-key"): "rk.1", symbol("x-opt-seq"): ulong(9)}
/// m.id = "msg-0001"; m.user_id = b"user-1"; m.address = "/queue/in"; m.subject = "subj"
/// m.reply_to = "/queue/reply"; m.correlation_id = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
/// m.content_type = symbol("application/json"); m.content_encoding = symbol("utf-8")
/// m.expiry_time = 1700000060.5; m.creation_time = 1700000000.123; m.group_id = "grp"; m.group_sequence = 4
/// m.reply_to_group_id = "rgrp"
/// m.properties = {
///     "topic": "/a1/dev1/thing/event/property/post", "messageId": "42", "generateTime": 1700000000123,
///     "n-ulong": ulong(42), "n-uint": uint(7), "n-int": int32(-7), "n-short": short(-2), "n-byte": byte(-1),
///     "n-ubyte": ubyte(200), "n-ushort": ushort(60000), "at": timestamp(1700000000123),
///     "id-uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"), "sym": symbol("a-symbol"),
///     "ch": char("\u00e9"), "d32": decimal32(0x22000001), "d64": decimal64(0x2238000000000001),
///     "d128": decimal128(b"\x22\x08" + b"\x00" * 13 + b"\x01"), "yes": True, "no": False, "dbl": 0.5,
///     "flt": float32(1.5), "bin": b"\x00\x01\xff", "nothing": None, "list": [1, "two", symbol("three")],
///     "map": {"k": "v", "n": 1}, "arr": Array(UNDESCRIBED, Data.INT, 1, 2, 3),
///     "desc": Described(symbol("x:y"), "described"), "long-string": "x" * 300}
/// m.body = b'{"temperature":38.5}'; m.inferred = True
/// footer = bytes.fromhex("005378") + encode_value({symbol("x-opt-sig"): b"\x01\x02"})
/// print("full", (m.encode() + footer).hex())
/// m = Message(durable=True); m.id = ulong(77); m.body = [1, "a", None]; m.inferred = True
/// print("sequence", m.encode().hex())
/// m = Message(); m.annotations = {symbol("x-opt-a"): "b"}; m.body = {"temp": 21.5, "ok": True}
/// print("value", m.encode().hex())
/// ```
@Suite struct EncodedMessageTests {
    /// Every section: header, delivery- and message-annotations, properties with every field, 28 application
    /// properties of many types (map32), a data body and a footer.
    static let full = MessageCodecTests.bytes(
        """
        005370c00c05415007700000ea60415202005371d10000002800000004a309782d6f70742d686f70a10864612d76616c7565a30b\
        782d6f70742d636f756e745503005372d10000002a00000004a311782d6f70742d726f7574696e672d6b6579a104726b2e31a309\
        782d6f70742d7365715309005373c07b0da1086d73672d30303031a006757365722d31a1092f71756575652f696ea1047375626a\
        a10c2f71756575652f7265706c799800112233445566778899aabbccddeeffa3106170706c69636174696f6e2f6a736f6ea30575\
        74662d38830000018bcfe65454830000018bcfe5687ba1036772705204a10472677270005374d1000002ec00000038a105746f70\
        6963a1222f61312f646576312f7468696e672f6576656e742f70726f70657274792f706f7374a1096d6573736167654964a10234\
        32a10c67656e657261746554696d65810000018bcfe5687ba1076e2d756c6f6e67532aa1066e2d75696e745207a1056e2d696e74\
        54f9a1076e2d73686f727461fffea1066e2d6279746551ffa1076e2d756279746550c8a1086e2d7573686f727460ea60a1026174\
        830000018bcfe5687ba10769642d757569649812345678123456781234567812345678a10373796da308612d73796d626f6ca102\
        636873000000e9a1036433327422000001a103643634842238000000000001a10464313238942208000000000000000000000000\
        0001a10379657341a1026e6f42a10364626c823fe0000000000000a103666c74723fc00000a10362696ea0030001ffa1076e6f74\
        68696e6740a1046c697374d000000012000000035501a10374776fa3057468726565a1036d6170d10000000f00000004a1016ba1\
        0176a1016e5501a103617272f0000000110000000371000000010000000200000003a1046465736300a303783a79a10964657363\
        7269626564a10b6c6f6e672d737472696e67b10000012c\
        \(String(repeating: "78", count: 300))\
        005375a0147b2274656d7065726174757265223a33382e357d005378d10000001300000002a309782d6f70742d736967a0020102
        """
    )
    /// Header, properties (ulong id) and an amqp-sequence body; no application properties.
    static let sequence = MessageCodecTests.bytes("005370c0020141005373c00301534d005376d00000000a000000035501a1016140")
    /// Header (list0), message annotations, properties (list0) and an amqp-value map body.
    static let value = MessageCodecTests.bytes(
        "00537045005372d10000001000000002a307782d6f70742d61a1016200537345005377d10000001800000004a10474656d708240358000000000"
            + "00a1026f6b41"
    )

    // MARK: - Splitting

    @Test func splitsEverySectionOfAPythonMessage() throws {
        let message = try AMQPEncodedMessage(bytes: Self.full)
        #expect(
            message.sections.map(\.kind)
                == [.header, .deliveryAnnotations, .messageAnnotations, .properties, .applicationProperties, .data, .footer]
        )
        // The sections tile the message: nothing between them, nothing after the last.
        #expect(message.sections.first?.range.lowerBound == 0)
        #expect(message.sections.last?.range.upperBound == Self.full.count)
        for (previous, next) in zip(message.sections, message.sections.dropFirst()) {
            #expect(previous.range.upperBound == next.range.lowerBound)
        }
        for section in message.sections {
            #expect(section.range.upperBound == section.valueRange.upperBound)
            #expect(Array(Self.full[section.range.lowerBound..<section.valueRange.lowerBound]) == [0x00, 0x53, section.kind.rawValue])
        }
        #expect(message.bodyKind == .data)
        #expect(message.dataBody == Array(#"{"temperature":38.5}"#.utf8))
        #expect(Array(message.body) == [0x00, 0x53, 0x75, 0xa0, 0x14] + Array(#"{"temperature":38.5}"#.utf8))
    }

    @Test func splitsSequenceAndValueBodies() throws {
        let sequence = try AMQPEncodedMessage(bytes: Self.sequence)
        #expect(sequence.sections.map(\.kind) == [.header, .properties, .amqpSequence])
        #expect(sequence.bodyKind == .amqpSequence)
        #expect(sequence.dataBody == nil)
        #expect(Array(sequence.body) == Array(Self.sequence[sequence.sections[2].range]))
        #expect(sequence.messageID == AMQPEncodedValue(typeName: "ulong", canonicalBytes: AMQPEncodingScanner.bigEndian(77)))
        let value = try AMQPEncodedMessage(bytes: Self.value)
        #expect(value.sections.map(\.kind) == [.header, .messageAnnotations, .properties, .amqpValue])
        #expect(value.dataBody == nil)
        #expect(value.messageID == nil)
        #expect(value.applicationProperty("topic") == nil)
    }

    @Test func readsEveryKindOfDescriptor() throws {
        // The same sections named by smallulong, ulong and symbol descriptors.
        let bytes =
            [0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x70, 0x45]
            + [0x00, 0xa3, 0x14] + Array("amqp:properties:list".utf8) + [0xc0, 0x04, 0x01, 0xa1, 0x01, 0x37]
            + [0x00, 0xb3, 0, 0, 0, 0x1f] + Array("amqp:application-properties:map".utf8) + Enc.map8([Enc.str8("k"), Enc.str8("v")])
            + Enc.data([1, 2]) + [0x00, 0xa3, 0x10] + Array("amqp:data:binary".utf8) + [0xa0, 0x01, 0x03]
        let message = try AMQPEncodedMessage(bytes: bytes)
        #expect(message.sections.map(\.kind) == [.header, .properties, .applicationProperties, .data, .data])
        #expect(message.messageID?.stringValue == "7")
        #expect(message.applicationProperty("k")?.stringValue == "v")
        #expect(message.dataBody == nil, "two data sections are not one payload")
        #expect(Array(message.body) == Enc.data([1, 2]) + [0x00, 0xa3, 0x10] + Array("amqp:data:binary".utf8) + [0xa0, 0x01, 0x03])
        // Forwarding keeps the symbolic descriptor of the application-properties section.
        let forwarded = try AMQPEncodedMessage(bytes: message.forwarded(settingApplicationProperty: "via", to: "b"))
        let section = try #require(forwarded.section(.applicationProperties))
        #expect(forwarded.bytes[section.range].starts(with: [0x00, 0xb3, 0, 0, 0, 0x1f] + Array("amqp:application-properties:map".utf8)))
        #expect(forwarded.applicationProperty("k")?.stringValue == "v")
        #expect(forwarded.applicationProperty("via")?.stringValue == "b")
    }

    // MARK: - Values

    @Test func readsTypedValuesFromAPythonMessage() throws {
        let message = try AMQPEncodedMessage(bytes: Self.full)
        func property(_ key: String) throws -> AMQPEncodedValue { try #require(message.applicationProperty(key), "\(key)") }
        func integer(_ type: String, _ value: Int64) -> AMQPEncodedValue {
            AMQPEncodedValue(typeName: type, canonicalBytes: AMQPEncodingScanner.bigEndian(UInt64(bitPattern: value)))
        }
        #expect(message.messageID == AMQPEncodedValue(typeName: "string", canonicalBytes: Array("msg-0001".utf8)))
        #expect(try property("topic").stringValue == "/a1/dev1/thing/event/property/post")
        #expect(try property("messageId") == AMQPEncodedValue(typeName: "string", canonicalBytes: Array("42".utf8)))
        #expect(try property("generateTime") == integer("long", 1_700_000_000_123))
        #expect(try property("n-ulong") == integer("ulong", 42))
        #expect(try property("n-uint") == integer("uint", 7))
        #expect(try property("n-int") == integer("int", -7))
        #expect(try property("n-short") == integer("short", -2))
        #expect(try property("n-byte") == integer("byte", -1))
        #expect(try property("n-ubyte") == integer("ubyte", 200))
        #expect(try property("n-ushort") == integer("ushort", 60000))
        #expect(try property("at") == integer("timestamp", 1_700_000_000_123))
        #expect(try property("id-uuid").typeName == "uuid")
        #expect(try property("id-uuid").canonicalBytes == [0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78])
        #expect(try property("sym") == AMQPEncodedValue(typeName: "symbol", canonicalBytes: Array("a-symbol".utf8)))
        #expect(try property("sym").stringValue == "a-symbol")
        #expect(try property("ch") == AMQPEncodedValue(typeName: "char", canonicalBytes: [0, 0, 0, 0xe9]))
        #expect(try property("d32") == AMQPEncodedValue(typeName: "decimal32", canonicalBytes: [0x22, 0, 0, 1]))
        #expect(try property("d64") == AMQPEncodedValue(typeName: "decimal64", canonicalBytes: [0x22, 0x38, 0, 0, 0, 0, 0, 1]))
        #expect(try property("d128") == AMQPEncodedValue(typeName: "decimal128", canonicalBytes: [0x22, 0x08] + Array(repeating: 0, count: 13) + [1]))
        #expect(try property("yes") == AMQPEncodedValue(typeName: "boolean", canonicalBytes: [1]))
        #expect(try property("no") == AMQPEncodedValue(typeName: "boolean", canonicalBytes: [0]))
        #expect(try property("dbl") == AMQPEncodedValue(typeName: "double", canonicalBytes: AMQPEncodingScanner.bigEndian((0.5).bitPattern)))
        #expect(try property("flt") == AMQPEncodedValue(typeName: "float", canonicalBytes: [0x3f, 0xc0, 0, 0]))
        #expect(try property("bin") == AMQPEncodedValue(typeName: "binary", canonicalBytes: [0, 1, 0xff]))
        #expect(try property("bin").stringValue == nil)
        #expect(try property("nothing") == AMQPEncodedValue(typeName: "null", canonicalBytes: []))
        #expect(try property("list").typeName == "list")
        #expect(try property("map").typeName == "map")
        #expect(try property("arr").typeName == "array")
        #expect(try property("desc").typeName == "described")
        #expect(try property("long-string").stringValue == String(repeating: "x", count: 300))
        #expect(message.applicationProperty("absent") == nil)
        // Compounds compare by their elements' values: Python's list32 equals a list8 of the same values.
        let list8 = try Self.value(Enc.list8([[0x55, 0x01], Enc.str8("two"), Enc.sym8("three")]))
        #expect(try property("list") == list8)
        let array8 = try Self.value([0xe0, 0x05, 0x03, 0x54, 0x01, 0x02, 0x03])
        #expect(try property("arr") == array8, "an array of smallint equals the same array of int")
    }

    /// The value of `encoded` as the only application property `v` of a message.
    static func value(_ encoded: [UInt8]) throws -> AMQPEncodedValue {
        let message = try AMQPEncodedMessage(bytes: Enc.applicationProperties(Enc.map8([Enc.str8("v"), encoded])) + Enc.data([]))
        return try #require(message.applicationProperty("v"))
    }

    @Test func valuesCompareByTypeAndValueNotByEncodingWidth() throws {
        #expect(try Self.value(Enc.str8("42")) == Self.value(Enc.str32("42")))
        #expect(try Self.value([0x53, 42]) == Self.value([0x80, 0, 0, 0, 0, 0, 0, 0, 42]))
        #expect(try Self.value([0x44]) == Self.value([0x53, 0]))
        #expect(try Self.value([0x43]) == Self.value([0x70, 0, 0, 0, 0]))
        #expect(try Self.value([0x54, 0xff]) == Self.value([0x71, 0xff, 0xff, 0xff, 0xff]), "smallint -1 is int -1")
        #expect(try Self.value([0x55, 0xfe]) == Self.value([0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))
        #expect(try Self.value([0x41]) == Self.value([0x56, 0x01]))
        #expect(try Self.value([0x45]) == Self.value([0xc0, 0x01, 0x00]))
        #expect(try Self.value(Enc.sym8("a")) == Self.value([0xb3, 0, 0, 0, 1, 0x61]))
        #expect(try Self.value([0xa0, 0x01, 0x61]) == Self.value([0xb0, 0, 0, 0, 1, 0x61]))
        // Same bytes, different types: never equal.
        #expect(try Self.value(Enc.str8("42")) != Self.value([0x53, 42]))
        #expect(try Self.value(Enc.str8("a")) != Self.value(Enc.sym8("a")))
        #expect(try Self.value(Enc.str8("a")) != Self.value([0xa0, 0x01, 0x61]))
        #expect(try Self.value([0x53, 42]) != Self.value([0x52, 42]), "ulong 42 is not uint 42")
        #expect(try Self.value([0x54, 0xff]) != Self.value([0x52, 0xff]), "int -1 is not uint 255")
        // Hashable agrees with ==.
        let set: Set<AMQPEncodedValue> = [try Self.value(Enc.str8("42")), try Self.value(Enc.str32("42")), try Self.value([0x53, 42])]
        #expect(set.count == 2)
        // Compounds: widths of the compound and of its elements do not matter, values and order do.
        #expect(try Self.value(Enc.list8([Enc.str8("a")])) == Self.value(Enc.list32([Enc.str32("a")])))
        #expect(try Self.value(Enc.map8([Enc.str8("a"), [0x53, 1]])) == Self.value(Enc.map32([Enc.str8("a"), [0x80, 0, 0, 0, 0, 0, 0, 0, 1]])))
        #expect(try Self.value(Enc.list8([Enc.str8("a"), Enc.str8("b")])) != Self.value(Enc.list8([Enc.str8("b"), Enc.str8("a")])))
        #expect(try Self.value(Enc.list8([Enc.str8("ab")])) != Self.value(Enc.list8([Enc.str8("a"), Enc.str8("b")])))
        #expect(try Self.value(Enc.list8([])) != Self.value(Enc.map8([])))
        // Arrays: elements of a string array, a described array, and a compact form for zero-width elements.
        let strings = try Self.value([0xe0, 0x07, 0x02, 0xa1, 0x01, 0x61, 0x02, 0x62, 0x63])
        #expect(try strings == Self.value([0xf0, 0, 0, 0, 0x10, 0, 0, 0, 2, 0xb1, 0, 0, 0, 1, 0x61, 0, 0, 0, 2, 0x62, 0x63]))
        #expect(try strings != Self.value([0xe0, 0x07, 0x02, 0xa3, 0x01, 0x61, 0x02, 0x62, 0x63]), "strings are not symbols")
        let described = try Self.value([0xe0, 0x07, 0x02, 0x00, 0x53, 0x01, 0x50, 0x07, 0x08])
        #expect(described.typeName == "array")
        let nulls = try Self.value([0xf0, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0x40])
        #expect(nulls.canonicalBytes.count < 64, "2^32-1 nulls in no bytes stay small")
        #expect(try nulls != Self.value([0xe0, 0x02, 0x01, 0x40]))
    }

    @Test func stringValueAndUTF8Validity() throws {
        #expect(try Self.value(Enc.str8("héllo")).stringValue == "héllo")
        #expect(try Self.value(Enc.str8("héllo")).isValidUTF8)
        let broken = try Self.value([0xa1, 0x02, 0xc3, 0x28])
        #expect(broken.typeName == "string")
        #expect(broken.stringValue == nil)
        #expect(!broken.isValidUTF8)
        #expect(try Self.value([0xa0, 0x02, 0x68, 0x69]).isValidUTF8, "a binary that is text")
        #expect(try Self.value([0xa0, 0x02, 0x68, 0x69]).stringValue == nil)
        #expect(try Self.value([0x53, 42]).description == "ulong(42)")
        #expect(try Self.value([0x54, 0xfe]).description == "int(-2)")
        #expect(try Self.value(Enc.str8("x")).description == "string(x)")
    }

    // MARK: - Forwarding

    /// The entries of the application-properties map of `message`, as raw encoded byte ranges.
    static func entries(_ message: AMQPEncodedMessage) throws -> [(key: [UInt8], value: [UInt8])] {
        let section = try #require(message.section(.applicationProperties))
        let scanner = AMQPEncodingScanner(message.bytes)
        let map = try #require(scanner.elements(ofCompoundAt: section.valueRange.lowerBound))
        var result: [(key: [UInt8], value: [UInt8])] = []
        var position = map.range.lowerBound
        for _ in 0..<(map.count / 2) {
            let valueStart = scanner.skip(position)
            let valueEnd = scanner.skip(valueStart)
            result.append((Array(message.bytes[position..<valueStart]), Array(message.bytes[valueStart..<valueEnd])))
            position = valueEnd
        }
        return result
    }

    @Test func forwardingDropsDeliveryAnnotationsAndKeepsEverythingElseByteForByte() throws {
        let original = try AMQPEncodedMessage(bytes: Self.full)
        let forwarded = try AMQPEncodedMessage(bytes: original.forwarded(settingApplicationProperty: "bridge", to: "edge-1"))
        #expect(forwarded.sections.map(\.kind) == original.sections.map(\.kind).filter { $0 != .deliveryAnnotations })
        for section in forwarded.sections where section.kind != .applicationProperties {
            let before = try #require(original.section(section.kind))
            #expect(forwarded.bytes[section.range] == original.bytes[before.range], "\(section.kind)")
        }
        // Every original entry keeps its bytes, in order; the new one comes last.
        let before = try Self.entries(original)
        let after = try Self.entries(forwarded)
        #expect(after.count == before.count + 1)
        for (old, new) in zip(before, after) {
            #expect(old.key == new.key && old.value == new.value)
        }
        #expect(after.last?.key == Enc.str8("bridge"))
        #expect(after.last?.value == Enc.str8("edge-1"))
        #expect(forwarded.applicationProperty("bridge")?.stringValue == "edge-1")

        // Proton reads the same message plus the property, without delivery annotations.
        var expected = try ProtonMessageCodec.decode(Self.full)
        expected.applicationProperties["bridge"] = .string("edge-1")
        expected.unrepresented.removeAll { $0 == "delivery-annotations" }
        #expect(try ProtonMessageCodec.decode(forwarded.bytes) == expected)
        let protonBefore = try ProtonMessageCodec.inspect(Self.full)
        let protonAfter = try ProtonMessageCodec.inspect(forwarded.bytes)
        #expect(protonBefore.contains("instructions={:\"x-opt-hop\"=\"da-value\""), "\(protonBefore)")
        #expect(!protonAfter.contains("instructions="), "\(protonAfter)")
        #expect(protonAfter.contains(#""bridge"="edge-1""#), "\(protonAfter)")
        // Everything Proton prints apart from the instructions and the new property is the same text.
        func withoutEdits(_ text: String) -> String {
            var text = text.replacingOccurrences(of: #", "bridge"="edge-1""#, with: "")
            if let start = text.range(of: "instructions={"), let end = text.range(of: "}, ", range: start.upperBound..<text.endIndex) {
                text.removeSubrange(start.lowerBound..<end.upperBound)
            }
            return text
        }
        #expect(withoutEdits(protonAfter) == withoutEdits(protonBefore))
    }

    @Test func forwardingReplacesAnExistingKeyInItsPlace() throws {
        let original = try AMQPEncodedMessage(bytes: Self.full)
        let forwarded = try AMQPEncodedMessage(bytes: original.forwarded(settingApplicationProperty: "messageId", to: "replaced"))
        let before = try Self.entries(original)
        let after = try Self.entries(forwarded)
        #expect(after.map(\.key) == before.map(\.key), "same keys, same order")
        for (old, new) in zip(before, after) where old.key != Enc.str8("messageId") {
            #expect(old.value == new.value)
        }
        #expect(forwarded.applicationProperty("messageId")?.stringValue == "replaced")
        var expected = try ProtonMessageCodec.decode(Self.full)
        expected.applicationProperties["messageId"] = .string("replaced")
        expected.unrepresented.removeAll { $0 == "delivery-annotations" }
        #expect(try ProtonMessageCodec.decode(forwarded.bytes) == expected)
        // A symbol key with the same text is the same property; a repeated key is replaced everywhere.
        let repeated = try AMQPEncodedMessage(
            bytes: Enc.applicationProperties(Enc.map8([Enc.sym8("k"), [0x53, 1], Enc.str8("o"), [0x41], Enc.str8("k"), [0x40]])) + Enc.data([9])
        )
        let edited = try AMQPEncodedMessage(bytes: repeated.forwarded(settingApplicationProperty: "k", to: "v"))
        #expect(try Self.entries(edited).map(\.key) == [Enc.sym8("k"), Enc.str8("o"), Enc.str8("k")])
        #expect(try Self.entries(edited).map(\.value) == [Enc.str8("v"), [0x41], Enc.str8("v")])
    }

    @Test func forwardingInsertsApplicationPropertiesAfterPropertiesAndBeforeTheBody() throws {
        let newSection = Enc.applicationProperties(Enc.map8([Enc.str8("via"), Enc.str8("bridge")]))
        for fixture in [Self.sequence, Self.value] {
            let original = try AMQPEncodedMessage(bytes: fixture)
            let output = original.forwarded(settingApplicationProperty: "via", to: "bridge")
            let body = try #require(original.sections.first { $0.kind.isBody })
            #expect(output == Array(fixture[..<body.range.lowerBound]) + newSection + Array(fixture[body.range.lowerBound...]))
            var expected = try ProtonMessageCodec.decode(fixture)
            expected.applicationProperties["via"] = .string("bridge")
            #expect(try ProtonMessageCodec.decode(output) == expected)
        }
        // Only a body: the section goes first. Only a header: it goes last. Before a footer when there is no body.
        let dataOnly = Enc.data(Array("payload".utf8))
        #expect(try AMQPEncodedMessage(bytes: dataOnly).forwarded(settingApplicationProperty: "via", to: "bridge") == newSection + dataOnly)
        let headerOnly: [UInt8] = [0x00, 0x53, 0x70, 0x45]
        #expect(try AMQPEncodedMessage(bytes: headerOnly).forwarded(settingApplicationProperty: "via", to: "bridge") == headerOnly + newSection)
        let footerOnly = Enc.section(0x78, Enc.map8([]))
        #expect(try AMQPEncodedMessage(bytes: footerOnly).forwarded(settingApplicationProperty: "via", to: "bridge") == newSection + footerOnly)
        // Delivery annotations alone: dropped, and the new section stands in their place.
        let annotated = Enc.section(0x71, Enc.map8([Enc.sym8("x"), [0x40]])) + dataOnly
        #expect(try AMQPEncodedMessage(bytes: annotated).forwarded(settingApplicationProperty: "via", to: "bridge") == newSection + dataOnly)
        // A null application-properties section becomes a map.
        let null = Enc.applicationProperties([0x40]) + dataOnly
        #expect(try AMQPEncodedMessage(bytes: null).forwarded(settingApplicationProperty: "via", to: "bridge") == newSection + dataOnly)
    }

    @Test func forwardingWidensAMap8OnlyWhenItMustAndEncodesLongStringsAsStr32() throws {
        // 1 + 249 bytes of entries: a map8 with room for 5 more bytes (key "k", empty value), not for 12.
        let filler = [Enc.str8("f"), Enc.str8(String(repeating: "a", count: 244))]
        let small = try AMQPEncodedMessage(bytes: Enc.applicationProperties(Enc.map8(filler)) + Enc.data([1]))
        let stillMap8 = try AMQPEncodedMessage(bytes: small.forwarded(settingApplicationProperty: "k", to: ""))
        #expect(stillMap8.bytes[try #require(stillMap8.section(.applicationProperties)).valueRange.lowerBound] == 0xc1)
        let widened = try AMQPEncodedMessage(bytes: small.forwarded(settingApplicationProperty: "key", to: "value"))
        let widenedSection = try #require(widened.section(.applicationProperties))
        #expect(widened.bytes[widenedSection.valueRange.lowerBound] == 0xd1)
        #expect(try Self.entries(widened).first?.value == Enc.str8(String(repeating: "a", count: 244)))
        #expect(widened.applicationProperty("key")?.stringValue == "value")
        #expect(
            try ProtonMessageCodec.decode(widened.bytes).applicationProperties == ["f": .string(String(repeating: "a", count: 244)), "key": .string("value")])
        // 127 pairs of empty strings: 254 elements in 255 bytes; one more pair overflows the count byte.
        let pairs = try AMQPEncodedMessage(
            bytes: Enc.applicationProperties([0xc1, 0xff, 0xfe] + Array(repeating: [0x40, 0x40], count: 127).flatMap { $0 }) + Enc.data([1])
        )
        let counted = try AMQPEncodedMessage(bytes: pairs.forwarded(settingApplicationProperty: "k", to: "v"))
        #expect(counted.bytes[try #require(counted.section(.applicationProperties)).valueRange.lowerBound] == 0xd1)
        #expect(try Self.entries(counted).count == 128)
        // A map32 stays a map32 even when small.
        let map32 = try AMQPEncodedMessage(bytes: Enc.applicationProperties(Enc.map32([Enc.str8("a"), Enc.str8("b")])) + Enc.data([1]))
        let kept = try AMQPEncodedMessage(bytes: map32.forwarded(settingApplicationProperty: "c", to: "d"))
        #expect(kept.bytes[try #require(kept.section(.applicationProperties)).valueRange.lowerBound] == 0xd1)
        // Long keys and values are str32.
        let long = String(repeating: "é", count: 200)
        let longOutput = try AMQPEncodedMessage(bytes: map32.forwarded(settingApplicationProperty: long, to: long))
        #expect(try Self.entries(longOutput).last?.key == Enc.str32(long))
        #expect(try Self.entries(longOutput).last?.value == Enc.str32(long))
        #expect(longOutput.applicationProperty(long)?.stringValue == long)
        #expect(try ProtonMessageCodec.decode(longOutput.bytes).applicationProperties[long] == .string(long))
    }

    // MARK: - Invalid input

    @Test(
        arguments: [
            ([], "no bytes"),
            ([0x01], "expected a section"),
            ([0x00], "no descriptor"),
            ([0x00, 0x53], "needs 1 bytes"),
            ([0x00, 0x53, 0x79, 0x40], "not a message section"),
            ([0x00, 0x44, 0x40], "not a message section"),
            ([0x00, 0xa1, 0x01, 0x78, 0x40], "must be a ulong or a symbol"),
            ([0x00, 0xa3, 0x03, 0x61, 0x62, 0x63, 0x40], "'abc' is not the symbolic descriptor"),
            ([0x00, 0x53, 0x77], "a value is missing"),
            ([0x00, 0x53, 0x77, 0x57], "0x57 is not an AMQP format code"),
            ([0x00, 0x53, 0x77, 0xa1, 0x05, 0x61], "a str8 of 5 bytes is truncated"),
            ([0x00, 0x53, 0x77, 0xb0, 0x00, 0x00], "cut off inside its size"),
            ([0x00, 0x53, 0x77, 0xc0, 0x00], "too small for its own fields"),
            ([0x00, 0x53, 0x77, 0xc0, 0x03, 0x03, 0x40, 0x40], "at byte 8, a value is missing"),
            ([0x00, 0x53, 0x77, 0xc0, 0x03, 0x01, 0x40, 0x40], "1 bytes left over after its 1 elements"),
            ([0x00, 0x53, 0x77, 0xc1, 0x02, 0x01, 0x40], "a map needs key-value pairs"),
            ([0x00, 0x53, 0x77, 0xe0, 0x03, 0x02, 0x50, 0x01], "needs 2 bytes, its size leaves 1"),
            ([0x00, 0x53, 0x77, 0xe0, 0x03, 0x01, 0x00, 0x40], "an array's described constructor has no format code"),
            ([0x00, 0x53, 0x77, 0xe0, 0x02, 0x01, 0x57], "not a format code an array element can have"),
            ([0x00, 0x53, 0x77, 0x56, 0x02], "a boolean octet must be 0x00 or 0x01"),
            ([0x00, 0x53, 0x77, 0x00, 0x53, 0x01], "at byte 6, a value is missing"),
            ([0x00, 0x53, 0x73, 0x45, 0x00, 0x53, 0x70, 0x45], "a header section follows the properties section"),
            ([0x00, 0x53, 0x70, 0x45, 0x00, 0x53, 0x70, 0x45], "a header section follows the header section"),
            ([0x00, 0x53, 0x77, 0x40, 0x00, 0x53, 0x77, 0x40], "a amqp-value section follows a amqp-value section"),
            ([0x00, 0x53, 0x75, 0xa0, 0x00, 0x00, 0x53, 0x76, 0x45], "a amqp-sequence section follows a data section"),
            ([0x00, 0x53, 0x78, 0x40, 0x00, 0x53, 0x75, 0xa0, 0x00], "a data section follows the footer section"),
            ([0x00, 0x53, 0x74, 0xc0, 0x01, 0x00], "the application-properties section holds list8, not a map"),
            ([0x00, 0x53, 0x75, 0xa1, 0x00], "the data section holds str8, not a binary"),
            ([0x00, 0x53, 0x76, 0x40], "the amqp-sequence section holds null (0x40), not a list"),
        ] as [([UInt8], String)])
    func rejectsInvalidInputSayingWhere(_ bytes: [UInt8], _ expected: String) {
        let error = #expect(throws: AMQPError.self) { try AMQPEncodedMessage(bytes: bytes) }
        #expect(error?.code == .protocolViolation)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
        #expect(bytes.isEmpty || error?.message.contains("at byte") == true)
    }

    @Test func rejectsEveryTruncationThatIsNotASectionBoundary() throws {
        let message = try AMQPEncodedMessage(bytes: Self.full)
        let boundaries = Set(message.sections.map(\.range.upperBound))
        for length in 0..<Self.full.count {
            let prefix = Array(Self.full.prefix(length))
            if boundaries.contains(length) {
                #expect(throws: Never.self, "a prefix of whole sections is a message") { try AMQPEncodedMessage(bytes: prefix) }
            } else {
                #expect(throws: AMQPError.self, "cut at \(length)") { try AMQPEncodedMessage(bytes: prefix) }
            }
        }
    }

    @Test func rejectsNestingDeeperThanTheLimitWithoutExhaustingTheStack() {
        // 100 000 nested one-element list32s (sizes all consistent) would overflow the stack of a naive
        // recursive reader. Level k from the inside is 9 bytes plus level k - 1; the innermost value is a null.
        let depth = 100_000
        var bytes: [UInt8] = [0x00, 0x53, 0x77]
        bytes.reserveCapacity(3 + 9 * depth + 1)
        for level in stride(from: depth, to: 0, by: -1) {
            bytes.append(0xd0)
            bytes.append(contentsOf: Enc.uint32(4 + 1 + 9 * (level - 1)))
            bytes.append(contentsOf: Enc.uint32(1))
        }
        bytes.append(0x40)
        var shallow: [UInt8] = [0x00, 0x53, 0x77]
        for level in stride(from: 60, to: 0, by: -1) {
            shallow.append(0xd0)
            shallow.append(contentsOf: Enc.uint32(4 + 1 + 9 * (level - 1)))
            shallow.append(contentsOf: Enc.uint32(1))
        }
        shallow.append(0x40)
        #expect(throws: Never.self, "the same shape 60 levels deep is fine") { try AMQPEncodedMessage(bytes: shallow) }
        let error = #expect(throws: AMQPError.self) { try AMQPEncodedMessage(bytes: bytes) }
        #expect(error?.message.contains("nest deeper than \(AMQPEncodingScanner.maximumDepth) levels") == true)
    }

    /// Random mutations of valid messages (flipped, inserted, deleted bytes, truncations): the view either
    /// throws `protocolViolation` or yields a message whose every accessor works and whose forwarded form
    /// splits again with the property set.
    @Test func randomMutationsNeverCrash() throws {
        var random = SplitMix64(seed: 0x1077_b41d)
        let fixtures = [Self.full, Self.sequence, Self.value, MessageCodecTests.bytes(MessageCodecTests.pythonMessage)]
        var accepted = 0
        for iteration in 0..<20_000 {
            var bytes = fixtures[iteration % fixtures.count]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
                switch random.next() % 5 {
                case 0, 1: if !bytes.isEmpty { bytes[position] = UInt8(truncatingIfNeeded: random.next()) }
                case 2: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                case 3: if !bytes.isEmpty { bytes.remove(at: position) }
                default: bytes.removeLast(bytes.count - position)
                }
            }
            let message: AMQPEncodedMessage
            do {
                message = try AMQPEncodedMessage(bytes: bytes)
            } catch {
                #expect(error.code == .protocolViolation)
                continue
            }
            accepted += 1
            _ = message.messageID
            _ = message.dataBody
            _ = message.body
            _ = message.applicationProperty("topic")
            if message.section(.applicationProperties) != nil {
                for entry in try Self.entries(message) {
                    _ = AMQPEncodingScanner(entry.key).value(at: 0)
                    _ = AMQPEncodingScanner(entry.value).value(at: 0)
                }
            }
            let forwarded = try AMQPEncodedMessage(bytes: message.forwarded(settingApplicationProperty: "fuzz", to: "1"))
            #expect(forwarded.applicationProperty("fuzz")?.stringValue == "1")
            #expect(
                forwarded.sections.count == message.sections.count + (message.section(.applicationProperties) == nil ? 1 : 0)
                    - (message.section(.deliveryAnnotations) == nil ? 0 : 1))
        }
        // Most mutations break the message, but some (inside strings and payloads) keep it valid.
        #expect(accepted > 100)
    }
}

/// A small deterministic generator, so the mutation test is the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Hand-made AMQP encodings for shapes no encoder at hand produces (map8, symbolic descriptors, …).
enum Enc {
    static func str8(_ text: String) -> [UInt8] { [0xa1, UInt8(text.utf8.count)] + Array(text.utf8) }
    static func str32(_ text: String) -> [UInt8] { [0xb1] + self.uint32(text.utf8.count) + Array(text.utf8) }
    static func sym8(_ text: String) -> [UInt8] { [0xa3, UInt8(text.utf8.count)] + Array(text.utf8) }
    static func list8(_ elements: [[UInt8]]) -> [UInt8] { self.compound8(0xc0, elements) }
    static func map8(_ elements: [[UInt8]]) -> [UInt8] { self.compound8(0xc1, elements) }
    static func list32(_ elements: [[UInt8]]) -> [UInt8] { self.compound32(0xd0, elements) }
    static func map32(_ elements: [[UInt8]]) -> [UInt8] { self.compound32(0xd1, elements) }
    static func section(_ code: UInt8, _ value: [UInt8]) -> [UInt8] { [0x00, 0x53, code] + value }
    static func applicationProperties(_ map: [UInt8]) -> [UInt8] { self.section(0x74, map) }
    static func data(_ bytes: [UInt8]) -> [UInt8] { self.section(0x75, [0xa0, UInt8(bytes.count)] + bytes) }

    static func uint32(_ value: Int) -> [UInt8] {
        [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    private static func compound8(_ code: UInt8, _ elements: [[UInt8]]) -> [UInt8] {
        let body = elements.flatMap { $0 }
        return [code, UInt8(body.count + 1), UInt8(elements.count)] + body
    }

    private static func compound32(_ code: UInt8, _ elements: [[UInt8]]) -> [UInt8] {
        let body = elements.flatMap { $0 }
        return [code] + self.uint32(body.count + 4) + self.uint32(elements.count) + body
    }
}
