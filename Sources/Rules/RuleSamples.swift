//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
public import RuleSQL

/// One recorded message of a samples file, with the output each rule is expected to produce.
///
/// A samples file is JSON Lines, one object per message:
/// ```json
/// {"name":"hot","topic":"/pk/dev1/thing/event/property/post","payload":{"items":{"Temperature":{"value":39}}},
///  "timestamp":1543373798943,"expect":{"high-temperature":{"dn":"dev1","t":39},"other-rule":null}}
/// ```
/// - `payload` is the JSON payload (any JSON value), or `payloadText` a text payload, or `payloadBase64`
///   binary bytes.
/// - `deviceName`, `productKey`, `messageId`, `timestamp` (epoch ms for "now") and `tags` (device tags for
///   `attribute()`) are optional.
/// - `expect` maps rule names to the expected output: the JSON object of an old-version rule, a base64 string
///   for a BINARY rule's `SELECT *`, the list of forwarding calls of a parser, or `null` for "no output".
///   The string `"*"` matches any value (for `newuuid()`, `rand()`).
public struct RuleSample: Sendable {
    /// A label: the sample's `name`, or `line N`.
    public var label: String
    /// The line of the samples file.
    public var line: Int
    /// The message.
    public var message: MessageContext
    /// Rule name → expected output, in file order.
    public var expectations: [(rule: String, expected: JSONValue)]

    /// Reads a samples file.
    public static func load(path: String) throws(RulesError) -> [RuleSample] {
        let text: String
        do {
            text = try TextFile.read(path, what: "the samples file")
        } catch {
            throw RulesError(code: .notFound, message: error.description)
        }
        return try Self.parse(text, file: path)
    }

    /// Parses samples from JSON Lines text; blank lines and lines starting with `//` are skipped.
    public static func parse(_ text: String, file: String) throws(RulesError) -> [RuleSample] {
        var samples: [RuleSample] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("//") { continue }
            let number = index + 1
            let value: JSONValue
            do {
                value = try JSONParser.parse(String(trimmed))
            } catch {
                throw RulesError(code: .samples, message: "\(file):\(number): not a JSON object: \(error)")
            }
            samples.append(try Self.sample(value, file: file, line: number))
        }
        // A suite of no samples would pass while testing nothing.
        guard !samples.isEmpty else {
            throw RulesError(
                code: .samples,
                message: "\(file): no samples: each line must be a JSON object such as "
                    + #"{"topic":"/a1B2c3/dev1/user/update","payload":{"t":39},"expect":{"my-rule":{"t":39}}}"#
            )
        }
        return samples
    }

    private static func sample(_ value: JSONValue, file: String, line: Int) throws(RulesError) -> RuleSample {
        func fail(_ message: String) -> RulesError {
            RulesError(code: .samples, message: "\(file):\(line): \(message)")
        }
        guard case .object(let object) = value else { throw fail("each line must be a JSON object") }
        let known = [
            "name", "topic", "payload", "payloadText", "payloadBase64", "deviceName", "productKey", "messageId",
            "timestamp", "tags", "expect",
        ]
        for key in object.keys where !known.contains(key) {
            throw fail("unknown key '\(key)'" + Suggestion.didYouMean(key, among: known))
        }
        guard let topic = object["topic"]?.stringValue else { throw fail("missing \"topic\"") }
        let payloadKeys = ["payload", "payloadText", "payloadBase64"].filter { object[$0] != nil }
        if payloadKeys.count > 1 {
            throw fail(
                "conflicting fields \(payloadKeys.map { "\"\($0)\"" }.joined(separator: " and ")): give the payload once"
            )
        }
        let payload: [UInt8]
        if let text = object["payloadText"]?.stringValue {
            payload = Array(text.utf8)
        } else if let encoded = object["payloadBase64"]?.stringValue {
            guard let bytes = Base64.decode(encoded) else { throw fail("\"payloadBase64\" is not base64") }
            payload = bytes
        } else if let json = object["payload"] {
            payload = json.jsonBytes()
        } else {
            throw fail("missing \"payload\" (or \"payloadText\" / \"payloadBase64\")")
        }
        var message = MessageContext(
            topic: topic,
            payload: payload,
            productKey: object["productKey"]?.stringValue,
            deviceName: object["deviceName"]?.stringValue,
            messageId: object["messageId"]?.stringValue ?? "",
            now: object["timestamp"].flatMap { if case .int(let ms) = $0 { ms } else { nil } }
        )
        if let tags = object["tags"]?.objectValue {
            var table: [String: String] = [:]
            for member in tags { table[member.key] = member.value.textValue }
            message.tags = StaticDeviceTags(["\(message.productKey)/\(message.deviceName)": table])
        }
        guard let expect = object["expect"]?.objectValue, !expect.isEmpty else {
            throw fail("missing \"expect\": map rule names to their expected output (null for none)")
        }
        return RuleSample(
            label: object["name"]?.stringValue ?? "line \(line)",
            line: line,
            message: message,
            expectations: expect.map { ($0.key, $0.value) }
        )
    }
}
