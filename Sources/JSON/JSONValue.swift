//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A JSON value as the rules engine sees it.
///
/// Integers and doubles are kept apart (`23` stays `.int(23)`, `23.0` stays `.double(23.0)`), so a rule
/// forwards numbers exactly as the device sent them. Objects keep their key order (see ``JSONObject``), so
/// the output of a rule lists its keys in SELECT order. `.binary` holds raw bytes (a BINARY rule's payload,
/// `toBinary` in parser scripts); it has no JSON spelling of its own and serializes as a base64 string.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case binary([UInt8])
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    /// The name of the value's type, as diagnostics print it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "double"
        case .string: "string"
        case .binary: "binary"
        case .array: "array"
        case .object: "object"
        }
    }

    /// `true` for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as a `Double` when it is a number, `nil` otherwise.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// The value as a `Double` when it is a number or a string that spells one, `nil` otherwise.
    ///
    /// Comparisons and arithmetic use it, so `'39' > 38` holds as it does in the platform's SQL.
    public var numericValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        case .string(let text): Double(text)
        case .bool(let flag): flag ? 1 : 0
        default: nil
        }
    }

    /// The string payload of a `.string`, `nil` for every other case.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The object payload of an `.object`, `nil` for every other case.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The elements of an `.array`, `nil` for every other case.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The text the value stands for when a function wants a string: strings as they are, numbers and booleans
    /// in their JSON spelling, binary as UTF-8, containers as compact JSON, and `null` as `"null"`.
    public var textValue: String {
        switch self {
        case .string(let text): text
        case .binary(let bytes): String(decoding: bytes, as: UTF8.self)
        default: self.jsonString()
        }
    }

    /// Looks up a key of an object; `nil` when the value is no object or has no such key.
    public subscript(key: String) -> JSONValue? {
        self.objectValue?[key]
    }
}

extension JSONValue: ExpressibleByNilLiteral {
    /// Creates `.null`.
    public init(nilLiteral: ()) {
        self = .null
    }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// Creates `.bool`.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// Creates `.int`.
    public init(integerLiteral value: Int) {
        self = .int(value)
    }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// Creates `.double`.
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// Creates `.string`.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// Creates `.array`.
    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Creates `.object`, keeping the literal's key order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject()
        for (key, value) in elements {
            object[key] = value
        }
        self = .object(object)
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value.
    public var description: String {
        self.jsonString()
    }
}
