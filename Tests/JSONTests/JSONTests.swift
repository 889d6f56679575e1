//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import JSON
import Testing

@Suite("JSON value model, parser and serializer")
struct JSONTests {
    @Test(
        "round trip keeps key order, ints and doubles",
        arguments: [
            #"{"b":1,"a":2.5,"c":[true,false,null],"d":{"z":"x","y":-3}}"#,
            #"[]"#,
            #"{}"#,
            #"[1,1.0,-0.5,1.0e-05,12345678901234567]"#,
            #""\"quoted\" \\ \n\t\u0001 中文""#,
            #"9223372036854775807"#,
            #"-9223372036854775808"#,
        ]
    )
    func roundTrip(text: String) throws {
        let value = try JSONParser.parse(text)
        let again = try JSONParser.parse(value.jsonString())
        #expect(again == value)
        #expect(again.jsonString() == value.jsonString())
    }

    @Test(
        "serializes to the expected compact text",
        arguments: [
            (#"{ "b" : 1 , "a" : [ 1 , 2 ] }"#, #"{"b":1,"a":[1,2]}"#),
            ("23.5", "23.5"),
            ("39.0", "39.0"),
            ("1E2", "100.0"),
            ("-0", "0"),
            (#""\u00e9\ud83d\ude00""#, "\"é😀\""),
            (#""a\/b""#, #""a/b""#),
            ("1e400", "null"),
            ("12345678901234567890", "1.2345678901234567e+19"),
        ]
    )
    func serializes(input: String, expected: String) throws {
        #expect(try JSONParser.parse(input).jsonString() == expected)
    }

    @Test("integers and doubles stay distinct")
    func intDouble() throws {
        #expect(try JSONParser.parse("39") == .int(39))
        #expect(try JSONParser.parse("39.0") == .double(39))
        #expect(try JSONParser.parse("39") != JSONParser.parse("39.0"))
        #expect(try JSONParser.parse("0.1") == .double(0.1))
        #expect(try JSONParser.parse("116.38") == .double(116.38))
        #expect(try JSONParser.parse("1.7976931348623157e308") == .double(1.7976931348623157e308))
    }

    @Test(
        "rejects malformed JSON with a code and an offset",
        arguments: [
            ("", JSONParseError.Code.unexpectedEnd, 0),
            ("{", .unexpectedEnd, 1),
            ("{\"a\" 1}", .unexpectedCharacter, 5),
            ("[1,]", .unexpectedCharacter, 3),
            ("01", .invalidNumber, 1),
            ("1.", .invalidNumber, 2),
            ("\"a\nb\"", .invalidString, 2),
            ("\"\\x\"", .invalidString, 2),
            ("tru", .unexpectedEnd, 0),
            ("nul!", .unexpectedCharacter, 0),
            ("{} x", .trailingData, 3),
            ("\"\\ud800\"", .invalidString, 7),
            ("xyz", .unexpectedCharacter, 0),
        ]
    )
    func rejects(input: String, code: JSONParseError.Code, offset: Int) {
        #expect {
            _ = try JSONParser.parse(input)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.code == code && error.offset == offset
        }
    }

    @Test("invalid UTF-8 in a string is rejected")
    func invalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test("nesting deeper than the limit is rejected, not a crash")
    func depth() {
        let deep =
            String(repeating: "[", count: JSONParser.maximumDepth + 1)
            + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test("duplicate keys keep the first position and the last value")
    func duplicates() throws {
        #expect(try JSONParser.parse(#"{"a":1,"b":2,"a":3}"#).jsonString() == #"{"a":3,"b":2}"#)
    }

    @Test("objects keep insertion order, compare without it, and index large objects")
    func objects() {
        var object = JSONObject()
        for index in (0..<40).reversed() {
            object["k\(index)"] = .int(index)
        }
        #expect(object.keys.first == "k39")
        #expect(object["k7"] == .int(7))
        object["k7"] = nil
        #expect(object["k7"] == nil)
        #expect(object.count == 39)
        let left: JSONObject = ["a": 1, "b": 2]
        let right: JSONObject = ["b": 2, "a": 1]
        #expect(left == right)
        #expect(left.hashValue == right.hashValue)
        #expect(JSONValue.object(left).jsonString() == #"{"a":1,"b":2}"#)
    }

    @Test(
        "base64 matches RFC 4648 vectors",
        arguments: [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy"),
        ]
    )
    func base64(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("base64 rejects text that is not base64")
    func base64Rejects() {
        #expect(Base64.decode("a b") == nil)
        #expect(Base64.decode("Zg==Zg") == nil)
    }
}
