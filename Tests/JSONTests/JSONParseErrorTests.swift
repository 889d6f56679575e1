//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import JSON
import Testing

/// JSONParseError follows the project's error shape (AMQPError): a stable code, a message, the context (offset).
@Suite("JSONParseError: code, message and offset; no payload text")
struct JSONParseErrorTests {
    @Test(
        "each malformed document gets its code and the byte where it went wrong",
        arguments: [
            (#"{"a":"#, "unexpected-end", 5),
            (#"{"a" 1}"#, "unexpected-character", 5),
            ("[01]", "invalid-number", 2),
            ("\"a\u{01}\"", "invalid-string", 2),
            ("[1] x", "trailing-data", 4),
        ]
    )
    func codes(text: String, code: String, offset: Int) {
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            let ok =
                error.code.description == code && error.code.rawValue == code && error.offset == offset
                && error.description == "\(error.message) at byte \(offset)" && !error.message.isEmpty
            if !ok { Issue.record("got \(error.code) at \(error.offset): \(error.message)") }
            return ok
        }
    }

    @Test("nesting past the limit is too-deep")
    func tooDeep() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONParseError)?.code == .tooDeep
        }
    }

    @Test("the message never quotes the payload around the problem")
    func noPayloadText() {
        let secret = "s3cr3t-device-password"
        #expect {
            _ = try JSONParser.parse(#"{"password":"\#(secret)" "#)
        } throws: { error in
            let text = "\(error)"
            return !text.contains(secret) && (error as? JSONParseError)?.code == .unexpectedEnd
        }
    }

    @Test("codes compare by value and spell themselves in kebab case")
    func codeValues() {
        #expect(JSONParseError.Code.unexpectedEnd == .unexpectedEnd)
        #expect(JSONParseError.Code.unexpectedEnd != .trailingData)
        let error = JSONParseError(.invalidNumber, "a number cannot start with '0'", offset: 3)
        #expect(error == JSONParseError(code: .invalidNumber, message: "a number cannot start with '0'", offset: 3))
        #expect("\(error)" == "a number cannot start with '0' at byte 3")
    }
}
