//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Testing

@Suite("Projected JSON parsing: build only what a rule reads, validate the rest")
struct JSONProjectionTests {
    static let document =
        #"{"a":{"b":1,"c":[1,2,{"d":"x"}]},"items":{"T":{"value":39.5,"time":1},"H":{"value":70}},"s":"\u00e9\n","n":null}"#

    static func path(_ text: String) -> FieldPath {
        guard case .success(let path) = FieldPath.parse(text) else { preconditionFailure(text) }
        return path
    }

    @Test(
        "projected values equal the full parse's",
        arguments: [
            ["items.T.value"],
            ["a.b", "items.H"],
            ["a.c[2].d"],
            ["s", "n", "missing.key"],
            [],
        ]
    )
    func projected(paths: [String]) throws {
        let fieldPaths = paths.map(Self.path)
        let projection = JSONProjection.covering(fieldPaths)
        let full = try JSONParser.parse(Self.document)
        let partial = try JSONParser.parse(Array(Self.document.utf8), projection: projection)
        for path in fieldPaths {
            #expect(path.lookup(in: partial) == path.lookup(in: full), "\(path)")
        }
        if paths.isEmpty {
            #expect(partial == .object(JSONObject()))
        }
    }

    @Test("a projection builds nothing it does not need")
    func prunes() throws {
        let partial = try JSONParser.parse(
            Array(Self.document.utf8),
            projection: .covering([Self.path("items.T.value")])
        )
        #expect(partial.jsonString() == #"{"items":{"T":{"value":39.5}}}"#)
    }

    @Test(
        "invalid JSON in skipped parts is still invalid",
        arguments: [
            #"{"skip":{"x":[1,2,}},"k":1}"#,
            #"{"skip":"bad \x escape","k":1}"#,
            "{\"skip\":\"ctl \u{01}\",\"k\":1}",
            #"{"skip":01,"k":1}"#,
            #"{"skip":tru,"k":1}"#,
            #"{"skip":"\ud800","k":1}"#,
            #"{"k":1} trailing"#,
            #"{"k":1,}"#,
            #"[1,2"#,
        ]
    )
    func invalid(document: String) {
        let projection = JSONProjection.covering([Self.path("k")])
        #expect(throws: JSONParseError.self) { try JSONParser.parse(document) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(document.utf8), projection: projection) }
    }

    @Test("invalid UTF-8 in a skipped string is still invalid")
    func invalidUTF8() {
        let bytes: [UInt8] = Array(#"{"skip":""#.utf8) + [0xC3, 0x28] + Array(#"","k":1}"#.utf8)
        #expect(throws: JSONParseError.self) {
            try JSONParser.parse(bytes, projection: .covering([Self.path("k")]))
        }
    }

    @Test("escaped keys are matched by their decoded text")
    func escapedKeys() throws {
        let partial = try JSONParser.parse(Array(#"{"\u006b":1,"z":2}"#.utf8), projection: .covering([Self.path("k")]))
        #expect(partial == ["k": 1])
    }
}
