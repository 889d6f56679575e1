//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// libFuzzer entry point: the input is both a rule's SQL and a message payload.
///
/// Invariants checked (a violation traps, which libFuzzer reports as a crash):
/// - compiling any text either succeeds or throws a `Diagnostic` whose location lies inside the text;
/// - a compiled rule evaluates any payload without crashing;
/// - JSON that parses serializes to text that parses back to an equal value;
/// - the projected parser accepts exactly what the full parser accepts and builds the same values.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRuleSQL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)

    for dataType in RuleDataType.allCases {
        do {
            let rule = try SQLRule(sql: text, file: "fuzz.sql", dataType: dataType)
            let topics = ["/pk/dn/user/update", "/sys/pk/dn/thing/event/property/post", "/as/mqtt/status/pk/dn"]
            let payloads: [[UInt8]] = [
                bytes,
                Array(#"{"a":[{"v":0},{"v":1}],"items":{"T":{"value":39.5,"time":1}},"s":"x","n":null}"#.utf8),
            ]
            for topic in topics {
                for payload in payloads {
                    let message = MessageContext(topic: topic, payload: payload, messageId: "m", now: 1_543_373_798_943)
                    _ = try? rule.evaluate(message)
                    _ = rule.missingFieldWarnings(for: message)
                }
            }
        } catch {
            let location = error.location
            precondition(location.offset >= 0 && location.offset <= text.utf8.count, "diagnostic outside the text")
            precondition(location.line >= 1 && location.column >= 1, "diagnostic with a zero line or column")
            _ = error.description
        }
    }

    // The projected parser must accept exactly what the full parser accepts, and agree on what it builds.
    let projection = JSONProjection.covering(
        ["a", "items.T.value", "a[0].v"].compactMap { try? FieldPath.parse($0).get() }
    )
    let projected = try? JSONParser.parse(bytes, projection: projection)
    precondition((projected == nil) == ((try? JSONParser.parse(bytes)) == nil), "projected and full parsers disagree")

    if let value = try? JSONParser.parse(bytes) {
        if let projected, !value.containsNaN {
            for text in ["a", "items.T.value"] {
                let path = try! FieldPath.parse(text).get()
                precondition(path.lookup(in: projected) == path.lookup(in: value), "projection changed \(text)")
            }
        }
        let again = try? JSONParser.parse(value.jsonBytes())
        precondition(again != nil, "serialized JSON does not parse: \(value.jsonString())")
        if let again, !value.containsNaN {
            precondition(again == value, "JSON round trip changed the value: \(value.jsonString())")
        }
    }
    return 0
}

extension JSONValue {
    /// NaN never equals itself; such values are excluded from the round-trip check.
    fileprivate var containsNaN: Bool {
        switch self {
        case .double(let value): value.isNaN || value.isInfinite
        case .array(let elements): elements.contains { $0.containsNaN }
        case .object(let object): object.values.contains { $0.containsNaN }
        default: false
        }
    }
}
