//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The functions that read the message: `deviceName()`, `messageId()`, `topic(n)`, `payload(enc)`,
/// `attribute(key)`, `timestamp(fmt)`, `timestamp_utc(fmt)`, and `newuuid()`.
enum MessageFunctions {
    /// Beijing time, in which `timestamp(format)` formats (the current function list says GMT+8).
    static let beijingOffsetSeconds = 8 * 3600

    static func invoke(
        _ function: RuleFunction,
        _ arguments: [JSONValue],
        context: MessageContext
    ) throws(RuleFunctionError) -> JSONValue {
        switch function {
        case .deviceName:
            return .string(context.deviceName)
        case .messageId:
            return .string(context.messageId)
        case .newuuid:
            return .string(UUID().uuidString.lowercased())
        case .topic:
            guard let argument = arguments.first else { return .string(context.topic) }
            let level = try Arguments.number(argument, function, 1)
            guard level >= 1, level == level.rounded(), level < 1_000 else {
                throw RuleFunctionError(
                    code: .runtime,
                    message: "topic(n) takes a level number from 1, got \(Arguments.preview(argument))"
                )
            }
            return context.topicLevel(Int(level)).map(JSONValue.string) ?? .null
        case .payload:
            return try Self.payload(arguments.first, context: context)
        case .attribute:
            let key = try Arguments.text(arguments[0], function, 1)
            // Without a tag provider the platform's SQL debugger returns an empty string; do the same.
            guard let tags = context.tags else { return .string("") }
            return tags.tagValue(forKey: key, productKey: context.productKey, deviceName: context.deviceName)
                .map(JSONValue.string) ?? .null
        case .timestamp, .timestampUTC:
            let now = context.currentTimeMillis
            guard let argument = arguments.first, !argument.isNull else { return .int(now) }
            let pattern = try Arguments.text(argument, function, 1)
            let offset = function == .timestamp ? Self.beijingOffsetSeconds : 0
            do {
                let format = try JavaDateFormat(pattern)
                return .string(format.format(epochMillis: now, offsetSeconds: offset))
            } catch {
                throw RuleFunctionError(code: .runtime, message: "\(function.rawValue)(format): \(error.message)")
            }
        default:
            preconditionFailure("\(function) is not a message function")
        }
    }

    /// The encodings `payload(textEncoding)` accepts, lower-cased.
    static let encodings = ["utf-8", "utf8", "ascii", "iso-8859-1", "latin1", "json", "binary", "base64", "hex"]

    /// `payload()` is the payload as UTF-8 text; `'json'` parses it, `'binary'` returns the bytes (both as
    /// parser scripts use them), and `'base64'`/`'hex'` encode it.
    static func payload(_ argument: JSONValue?, context: MessageContext) throws(RuleFunctionError) -> JSONValue {
        let encoding =
            try argument.map { (value) throws(RuleFunctionError) in
                try Arguments.text(value, .payload, 1).lowercased()
            } ?? "utf-8"
        switch encoding {
        case "utf-8", "utf8":
            return .string(String(decoding: context.payload, as: UTF8.self))
        case "ascii", "iso-8859-1", "latin1":
            return .string(String(context.payload.map { Character(Unicode.Scalar($0)) }))
        case "json":
            do {
                return try context.jsonPayload()
            } catch {
                throw RuleFunctionError(code: .input, message: "payload('json'): the payload is not JSON: \(error)")
            }
        case "binary":
            return .binary(context.payload)
        case "base64":
            return .string(Base64.encode(context.payload))
        case "hex":
            return .string(EncodingFunctions.hex(context.payload))
        default:
            throw RuleFunctionError(
                code: .type,
                message: "payload(textEncoding): unknown encoding '\(encoding)'"
                    + Suggestion.didYouMean(encoding, among: Self.encodings)
                    + " (known: \(Self.encodings.joined(separator: ", ")))"
            )
        }
    }
}
