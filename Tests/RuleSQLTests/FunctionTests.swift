//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Testing

/// Every function of §4.2, called by name as the script language calls them.
@Suite("Rule functions by name")
struct FunctionTests {
    static let context = MessageContext(
        topic: "/a1HHrkm****/TestDevice1/thing/event/property/post",
        payload:
            #"{"items":{"Power":{"value":"On","time":1},"Position":{"value":{"latitude":39.9,"longitude":116.38},"time":1}}}"#,
        messageId: "1234567890",
        now: 1_543_373_798_943,
        tags: StaticDeviceTags(["a1HHrkm****/TestDevice1": ["location": "hangzhou"]])
    )

    @Test(
        "returns the documented value",
        arguments: [
            ("abs", [-3], "3"),
            ("abs", [-2.5], "2.5"),
            ("asin", [1], "1.5707963267948966"),
            ("attribute", ["location"], #""hangzhou""#),
            ("attribute", ["missing"], "null"),
            ("concat", ["a", "b"], #""ab""#),
            ("concat", ["t=", 23.5], #""t=23.5""#),
            ("cos", [0], "1.0"),
            ("cosh", [0], "1.0"),
            ("crypto", ["abc", "MD2"], #""da853b0d3f88d99b30283a69e6ded6bb""#),
            ("crypto", ["", "MD2"], #""8350e5a3e24c153df2275c9f80692773""#),
            ("crypto", ["abc", "MD5"], #""900150983cd24fb0d6963f7d28e17f72""#),
            ("crypto", ["abc", "SHA1"], #""a9993e364706816aba3e25717850c26c9cd0d89d""#),
            ("crypto", ["abc", "SHA-256"], #""ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad""#),
            (
                "crypto", ["abc", "SHA-384"],
                #""cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7""#
            ),
            (
                "crypto", ["abc", "SHA-512"],
                #""ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f""#
            ),
            ("deviceName", [], #""TestDevice1""#),
            ("endswith", ["device01", "01"], "true"),
            ("endswith", ["device01", "02"], "false"),
            ("exp", [0], "1.0"),
            ("floor", [2.7], "2"),
            ("floor", [-2.5], "-3"),
            ("log", [100], "2.0"),
            ("log", [8, 2], "3.0"),
            ("lower", ["AbC"], #""abc""#),
            ("mod", [7, 3], "1"),
            ("mod", [7.5, 2], "1.5"),
            ("nanvl", [nil, "default"], #""default""#),
            ("nanvl", [5, "default"], "5"),
            (
                "payload", [],
                #""{\"items\":{\"Power\":{\"value\":\"On\",\"time\":1},\"Position\":{\"value\":{\"latitude\":39.9,\"longitude\":116.38},\"time\":1}}}""#
            ),
            ("power", [2, 10], "1024"),
            ("power", [2, 0.5], "1.4142135623730951"),
            ("replace", ["a-b-c", "-", "+"], #""a+b+c""#),
            ("sin", [0], "0.0"),
            ("sinh", [0], "0.0"),
            ("tan", [0], "0.0"),
            ("tanh", [0], "0.0"),
            ("thingPropertyFlatMap", ["Power"], #"{"Power":"On"}"#),
            ("timestamp", [], "1543373798943"),
            ("timestamp", ["yyyy-MM-dd HH:mm:ss.SSS"], #""2018-11-28 10:56:38.943""#),
            ("timestamp_utc", ["yyyy-MM-dd HH:mm:ss.SSS"], #""2018-11-28 02:56:38.943""#),
            ("timestamp_utc", ["EEE, d MMM yyyy hh:mm a Z"], #""Wed, 28 Nov 2018 02:56 AM +0000""#),
            ("timestamp", ["yyyyMMdd'T'HHmmssXXX"], #""20181128T105638+08:00""#),
            ("timestamp_utc", ["yy/M/d H:m:s X"], #""18/11/28 2:56:38 Z""#),
            ("topic", [], #""/a1HHrkm****/TestDevice1/thing/event/property/post""#),
            ("topic", [1], #""a1HHrkm****""#),
            ("topic", [9], "null"),
            ("upper", ["abc"], #""ABC""#),
            ("to_base64", ["hello"], #""aGVsbG8=""#),
            ("messageId", [], #""1234567890""#),
            ("substring", ["012345", 1, 3], #""12""#),
            ("to_hex", ["AZ"], #""415a""#),
        ] as [(String, [JSONValue], String)]
    )
    func call(name: String, arguments: [JSONValue], expected: String) throws {
        let result = try RuleFunctions.call(name: name, arguments: arguments, context: Self.context)
        #expect(result.jsonString() == expected)
    }

    @Test("every function in the list has a test above or a dedicated one")
    func everyFunctionIsKnown() {
        #expect(RuleFunctions.names.count == 33)
        #expect(RuleFunctions.names.contains("timestamp_utc"))
        #expect(RuleFunctions.function(named: "DEVICENAME") == .deviceName)
    }

    @Test("rand() is in [0, 1) and newuuid() is a fresh lower-case UUID")
    func volatileFunctions() throws {
        for _ in 0..<100 {
            let value = try RuleFunctions.call(name: "rand", arguments: [], context: Self.context).doubleValue ?? -1
            #expect(value >= 0 && value < 1)
        }
        let first = try RuleFunctions.call(name: "newuuid", arguments: [], context: Self.context).stringValue ?? ""
        let second = try RuleFunctions.call(name: "newuuid", arguments: [], context: Self.context).stringValue ?? ""
        #expect(first.count == 36 && first != second && first == first.lowercased())
    }

    @Test("timestamp formats any instant, even far outside the calendar's usual range")
    func extremeTimestamps() throws {
        for now in [Int.min, -1, 0, Int.max] {
            let context = MessageContext(topic: "/pk/dn/user/u", payload: "{}", now: now)
            let text = try RuleFunctions.call(name: "timestamp_utc", arguments: ["yyyy-MM-dd"], context: context)
            #expect(text.stringValue?.isEmpty == false)
        }
        let epoch = MessageContext(topic: "/pk/dn/user/u", payload: "{}", now: -1)
        #expect(
            try RuleFunctions.call(name: "timestamp_utc", arguments: ["yyyy-MM-dd HH:mm:ss.SSS"], context: epoch)
                == "1969-12-31 23:59:59.999"
        )
    }

    @Test("payload(enc) encodings")
    func payloadEncodings() throws {
        let context = MessageContext(topic: "/pk/dn/user/raw", payload: [0x41, 0xE9])
        #expect(
            try RuleFunctions.call(name: "payload", arguments: ["binary"], context: context) == .binary([0x41, 0xE9])
        )
        #expect(try RuleFunctions.call(name: "payload", arguments: ["iso-8859-1"], context: context) == "Aé")
        #expect(try RuleFunctions.call(name: "payload", arguments: ["base64"], context: context) == "Qek=")
        #expect(try RuleFunctions.call(name: "payload", arguments: ["hex"], context: context) == "41e9")
        let json = MessageContext(topic: "/pk/dn/user/raw", payload: #"{"a":1}"#)
        #expect(try RuleFunctions.call(name: "payload", arguments: ["json"], context: json) == ["a": 1])
    }

    @Test("attribute() without a tag provider is empty, as in the console's SQL debugger")
    func attributeWithoutProvider() throws {
        let context = MessageContext(topic: "/pk/dn/user/raw", payload: "{}")
        #expect(try RuleFunctions.call(name: "attribute", arguments: ["k"], context: context) == "")
    }

    @Test(
        "errors carry a code and an actionable message",
        arguments: [
            ("devicename2", [], Diagnostic.Code.unknownFunction, "did you mean 'deviceName'?"),
            ("upper", [], .arity, "takes 1 argument, got 0"),
            ("substring", [true, 1.2], .type, "argument 1 of substring() must be a string or a number"),
            ("abs", ["x"], .type, "must be a number"),
            ("crypto", ["a", "SHA-257"], .type, "did you mean 'SHA-256'?"),
            ("payload", ["utf-9"], .type, "did you mean 'utf-8'?"),
            ("timestamp", ["yyyy-bb"], .runtime, "illegal pattern character 'b'"),
            ("timestamp", ["'open"], .runtime, "unterminated quote"),
            ("topic", [0], .runtime, "level number from 1"),
            ("mod", [1, 0], .runtime, "m = 0"),
            ("to_base64", [nil], .type, "must be a value"),
        ] as [(String, [JSONValue], Diagnostic.Code, String)]
    )
    func errors(name: String, arguments: [JSONValue], code: Diagnostic.Code, fragment: String) {
        #expect {
            _ = try RuleFunctions.call(name: name, arguments: arguments, context: Self.context)
        } throws: { error in
            guard let error = error as? RuleFunctionError else { return false }
            return error.code == code && error.message.contains(fragment)
        }
    }

    @Test("payload('json') on a non-JSON payload is an input error")
    func payloadJSONError() {
        let context = MessageContext(topic: "/pk/dn/user/raw", payload: "nope")
        #expect(throws: RuleFunctionError.self) {
            try RuleFunctions.call(name: "payload", arguments: ["json"], context: context)
        }
    }
}
