//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// The type-conversion built-ins (`toBoolean`, `toNumber`, `toString`, `toMap`, `toArray`, `toBinary`) and
/// `getOrNull`'s key lookup.
///
/// Each conversion gives the documented result for the documented argument types (docs/parser-script-reference.md):
/// `null` maps to its type's empty value (false, 0, "", {}, [], empty binary), a string is parsed (as a number,
/// as JSON) or, for `toBoolean`, compared with "true". For the types the documentation leaves out, a value that
/// cannot mean the type is a type error (README, open questions).
enum ScriptConversions {
    /// A failed conversion.
    typealias Failure = ScriptValues.Failure

    static func convert(_ builtin: ScriptBuiltin, _ value: JSONValue) throws(Failure) -> JSONValue {
        switch builtin {
        case .toBoolean: .bool(try Self.boolean(value))
        case .toNumber: try Self.number(value)
        case .toString: .string(Self.string(value))
        case .toMap: .object(try Self.map(value))
        case .toArray: .array(try Self.array(value))
        case .toBinary: .binary(Self.binary(value))
        default: preconditionFailure("\(builtin) is not a conversion")
        }
    }

    static func boolean(_ value: JSONValue) throws(Failure) -> Bool {
        switch value {
        case .null: return false
        case .bool(let flag): return flag
        case .int(let number): return number != 0
        case .double(let number): return number != 0 && !number.isNaN
        case .string(let text):
            // Documented: "true" gives true, any other string false. The case is not documented; like the JVM's
            // Boolean.parseBoolean, which the platform's parser runs on, "TRUE" is true too (README).
            return text.lowercased() == "true"
        case .binary(let bytes): return !bytes.isEmpty
        case .array(let elements): return !elements.isEmpty
        case .object(let object): return !object.isEmpty
        }
    }

    static func number(_ value: JSONValue) throws(Failure) -> JSONValue {
        switch value {
        case .null: return .int(0)
        case .int, .double: return value
        case .bool(let flag): return .int(flag ? 1 : 0)
        case .string(let text):
            guard let number = ScriptValues.parseNumber(text) else {
                throw Failure(message: "cannot convert the string \(ScriptValues.preview(value)) to a number")
            }
            return number
        case .binary, .array, .object:
            throw Failure(message: "cannot convert \(value.typeName) to a number")
        }
    }

    static func string(_ value: JSONValue) -> String {
        if case .null = value { return "" }
        return ScriptValues.text(value)
    }

    static func map(_ value: JSONValue) throws(Failure) -> JSONObject {
        switch value {
        case .null: return JSONObject()
        case .object(let object): return object
        case .string, .binary:
            let bytes: [UInt8]
            if case .binary(let data) = value { bytes = data } else { bytes = Array(ScriptValues.text(value).utf8) }
            if bytes.isEmpty { return JSONObject() }
            guard let parsed = try? JSONParser.parse(bytes), case .object(let object) = parsed else {
                throw Failure(message: "the \(value.typeName) is not a JSON object: \(ScriptValues.preview(value))")
            }
            return object
        default:
            throw Failure(message: "cannot convert \(value.typeName) to a map")
        }
    }

    static func array(_ value: JSONValue) throws(Failure) -> [JSONValue] {
        switch value {
        case .null: return []
        case .array(let elements): return elements
        case .string, .binary:
            let bytes: [UInt8]
            if case .binary(let data) = value { bytes = data } else { bytes = Array(ScriptValues.text(value).utf8) }
            if bytes.isEmpty { return [] }
            guard let parsed = try? JSONParser.parse(bytes), case .array(let elements) = parsed else {
                throw Failure(message: "the \(value.typeName) is not a JSON array: \(ScriptValues.preview(value))")
            }
            return elements
        default:
            throw Failure(message: "cannot convert \(value.typeName) to an array")
        }
    }

    static func binary(_ value: JSONValue) -> [UInt8] {
        switch value {
        case .null: []
        case .binary(let bytes): bytes
        case .string(let text): Array(text.utf8)
        default: Array(ScriptValues.text(value).utf8)
        }
    }

    /// One step of `getOrNull`: a key of an object, an element of an array (by number or numeric string).
    static func child(of value: JSONValue, key: JSONValue) -> JSONValue {
        switch (value, key) {
        case (.object(let object), .string(let name)): return object[name] ?? .null
        case (.object(let object), _): return object[ScriptValues.text(key)] ?? .null
        case (.array(let elements), _):
            let position = ScriptValues.integer(key) ?? key.stringValue.flatMap { Int($0) }
            guard let position, elements.indices.contains(position) else { return .null }
            return elements[position]
        default: return .null
        }
    }
}
