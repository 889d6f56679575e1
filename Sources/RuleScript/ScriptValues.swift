//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// JavaScript's rules for values, over ``JSONValue``: truthiness, conversion to text and number, equality,
/// comparison and arithmetic.
///
/// Where JavaScript would quietly produce nonsense (adding an object to a number), the script stops with a
/// type error instead, which is what a rule author wants to hear about. Objects and arrays are values, not
/// references: `b = a; b.x = 1` does not change `a`.
enum ScriptValues {
    /// A failed operation, before the interpreter attaches the location.
    struct Failure: Error {
        var message: String
    }

    /// JavaScript's truthiness: `null`, `false`, `0`, `NaN` and `""` are false, everything else true.
    static func isTruthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case .bool(let flag): flag
        case .int(let number): number != 0
        case .double(let number): number != 0 && !number.isNaN
        case .string(let text): !text.isEmpty
        case .binary, .array, .object: true
        }
    }

    /// The value as JavaScript's `String(value)` spells it, except that objects and arrays give compact JSON
    /// (more useful in a forwarded message than `[object Object]`).
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .double(let number): Self.numberText(number)
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        case .binary(let bytes): String(decoding: bytes, as: UTF8.self)
        case .array, .object: value.jsonString()
        }
    }

    /// A double as JavaScript prints it: `39` for 39.0, `NaN`, `Infinity`.
    static func numberText(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
        if number == number.rounded(), Swift.abs(number) < 1e21 {
            if Swift.abs(number) < 9.0e15 { return String(Int(number)) }
            var text = "\(number)"
            if text.hasSuffix(".0") { text.removeLast(2) }
            return text
        }
        return "\(number)"
    }

    /// The value as a number for arithmetic, JavaScript style (`null` → 0, `true` → 1, `"2.5"` → 2.5,
    /// `""` → 0, other strings → NaN); `nil` for objects, arrays and binary, which are type errors.
    static func number(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .int, .double: value
        case .null: .int(0)
        case .bool(let flag): .int(flag ? 1 : 0)
        case .string(let text): Self.parseNumber(text) ?? .double(.nan)
        case .binary, .array, .object: nil
        }
    }

    /// Parses a number the way JavaScript's `Number(text)` does (trimmed; empty is 0), keeping integers exact.
    static func parseNumber(_ text: String) -> JSONValue? {
        let trimmed = text.trimmingSpaces()
        if trimmed.isEmpty { return .int(0) }
        if let integer = Int(trimmed) { return .int(integer) }
        if trimmed.hasPrefix("0x") || trimmed.hasPrefix("0X"), let integer = Int(trimmed.dropFirst(2), radix: 16) {
            return .int(integer)
        }
        switch trimmed {
        case "Infinity", "+Infinity": return .double(.infinity)
        case "-Infinity": return .double(-.infinity)
        default: break
        }
        // Double(_:) also takes "nan" and "inf", which JavaScript does not.
        guard let first = trimmed.utf8.first, first != UInt8(ascii: "n"), first != UInt8(ascii: "i"),
            let number = Double(trimmed), !trimmed.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" })
        else { return nil }
        return .double(number)
    }

    /// A destination ID: a whole number (or a string spelling one).
    static func destinationId(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let number): number
        case .double(let number) where number == number.rounded() && Swift.abs(number) < 9.0e15: Int(number)
        case .string(let text): Int(text.trimmingSpaces())
        default: nil
        }
    }

    /// The value as a whole number, for indexes.
    static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let number): number
        case .double(let number) where number == number.rounded() && Swift.abs(number) < 9.0e15: Int(number)
        default: nil
        }
    }

    /// The name `typeof` gives.
    static func typeOf(_ value: JSONValue) -> String {
        switch value {
        case .null, .array, .object, .binary: "object"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        }
    }

    // MARK: - Equality and comparison

    /// `===`: the same type (integers and doubles are both numbers) and the same value; objects and arrays
    /// compare by content.
    static func strictlyEqual(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): a == b
        case (.int(let a), .double(let b)): Double(a) == b
        case (.double(let a), .int(let b)): a == Double(b)
        case (.double(let a), .double(let b)): a == b
        case (.array(let a), .array(let b)):
            a.count == b.count && zip(a, b).allSatisfy { Self.strictlyEqual($0, $1) }
        case (.object(let a), .object(let b)):
            a.count == b.count
                && a.allSatisfy { member in b[member.key].map { Self.strictlyEqual($0, member.value) } ?? false }
        default: lhs == rhs
        }
    }

    /// `==`: JavaScript's loose equality: numbers and strings compare as numbers, booleans as 0 and 1, `null`
    /// equals only `null`.
    static func looselyEqual(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case (.string, .int), (.string, .double), (.int, .string), (.double, .string), (.bool, _), (_, .bool):
            guard let a = Self.number(lhs), let b = Self.number(rhs) else { return false }
            return Self.strictlyEqual(a, b)
        case (.string(let a), .binary(let b)), (.binary(let b), .string(let a)):
            return Array(a.utf8) == b
        default:
            return Self.strictlyEqual(lhs, rhs)
        }
    }

    /// `<`, `<=`, `>`, `>=`: strings compare by code point when both sides are strings, everything else as
    /// numbers; any comparison with NaN is false.
    static func compare(
        _ operation: ScriptBinaryOperator,
        _ lhs: JSONValue,
        _ rhs: JSONValue
    ) throws(Failure) -> Bool {
        if case .string(let a) = lhs, case .string(let b) = rhs {
            let order: Int = a == b ? 0 : (a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : 1)
            return Self.holds(operation, order)
        }
        if case .int(let a) = lhs, case .int(let b) = rhs {
            return Self.holds(operation, a < b ? -1 : (a == b ? 0 : 1))
        }
        guard let a = Self.number(lhs).flatMap(\.doubleValue), let b = Self.number(rhs).flatMap(\.doubleValue) else {
            throw Failure(
                message: "cannot compare \(lhs.typeName) with \(rhs.typeName) using '\(operation.rawValue)'"
            )
        }
        if a.isNaN || b.isNaN { return false }
        return Self.holds(operation, a < b ? -1 : (a == b ? 0 : 1))
    }

    private static func holds(_ operation: ScriptBinaryOperator, _ order: Int) -> Bool {
        switch operation {
        case .less: order < 0
        case .lessEqual: order <= 0
        case .greater: order > 0
        default: order >= 0
        }
    }

    // MARK: - Arithmetic

    /// `+`: string concatenation when either side is a string, numeric addition otherwise.
    static func add(_ lhs: JSONValue, _ rhs: JSONValue, maximumStringBytes: Int) throws(Failure) -> JSONValue {
        if case .int(let a) = lhs, case .int(let b) = rhs {
            let (sum, overflow) = a.addingReportingOverflow(b)
            return overflow ? .double(Double(a) + Double(b)) : .int(sum)
        }
        switch (lhs, rhs) {
        case (.string(let a), _):
            try Self.checkText(rhs, maximumStringBytes: maximumStringBytes)
            return try Self.concatenate(a, Self.text(rhs), maximumStringBytes: maximumStringBytes)
        case (_, .string(let b)):
            try Self.checkText(lhs, maximumStringBytes: maximumStringBytes)
            return try Self.concatenate(Self.text(lhs), b, maximumStringBytes: maximumStringBytes)
        default:
            return try Self.arithmetic(.add, lhs, rhs)
        }
    }

    /// Refuses to spell an array or object as text when the text would be longer than the string limit.
    static func checkText(_ value: JSONValue, maximumStringBytes: Int) throws(Failure) {
        switch value {
        case .array, .object:
            guard Self.isWithin(value, bytes: maximumStringBytes) else {
                throw Failure(message: "string longer than \(maximumStringBytes) bytes")
            }
        default:
            break
        }
    }

    private static func concatenate(_ a: String, _ b: String, maximumStringBytes: Int) throws(Failure) -> JSONValue {
        guard a.utf8.count + b.utf8.count <= maximumStringBytes else {
            throw Failure(message: "string longer than \(maximumStringBytes) bytes")
        }
        return .string(a + b)
    }

    /// `+ - * / %` on numbers: exact on integers while they fit, doubles otherwise, as JavaScript's numbers.
    static func arithmetic(
        _ operation: ScriptBinaryOperator, _ lhs: JSONValue, _ rhs: JSONValue
    ) throws(Failure)
        -> JSONValue
    {
        guard let left = Self.number(lhs), let right = Self.number(rhs) else {
            let bad = Self.number(lhs) == nil ? lhs : rhs
            throw Failure(
                message: "'\(operation.rawValue)' needs numbers, got \(lhs.typeName) and \(rhs.typeName)"
                    + " (\(Self.preview(bad)))"
            )
        }
        if case .int(let a) = left, case .int(let b) = right {
            switch operation {
            case .add:
                let (result, overflow) = a.addingReportingOverflow(b)
                if !overflow { return .int(result) }
            case .subtract:
                let (result, overflow) = a.subtractingReportingOverflow(b)
                if !overflow { return .int(result) }
            case .multiply:
                let (result, overflow) = a.multipliedReportingOverflow(by: b)
                if !overflow { return .int(result) }
            case .divide:
                if b != 0 {
                    let (quotient, overflow) = a.dividedReportingOverflow(by: b)
                    if !overflow, quotient.multipliedReportingOverflow(by: b) == (a, false) { return .int(quotient) }
                }
            case .remainder:
                if b != 0 {
                    let (remainder, overflow) = a.remainderReportingOverflow(dividingBy: b)
                    if !overflow { return .int(remainder) }
                }
            default:
                break
            }
        }
        let a = left.doubleValue ?? .nan
        let b = right.doubleValue ?? .nan
        switch operation {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide: return .double(a / b)
        default: return .double(b == 0 ? .nan : a.truncatingRemainder(dividingBy: b))
        }
    }

    /// The deepest nesting of a value a script may compose: the JSON parser's 256 levels plus room for the
    /// script's own objects, and well within the stack the recursive walks over values need.
    static let maximumValueDepth = 512

    /// Whether a value's approximate JSON size stays within `bytes` and its nesting within
    /// ``maximumValueDepth``; the walk stops as soon as either is exceeded, so it costs at most `bytes` steps
    /// even for values that share their parts many times over.
    static func isWithin(_ value: JSONValue, bytes: Int) -> Bool {
        var budget = bytes
        return Self.weigh(value, budget: &budget, depth: Self.maximumValueDepth)
    }

    private static func weigh(_ value: JSONValue, budget: inout Int, depth: Int) -> Bool {
        guard depth > 0 else { return false }
        switch value {
        case .string(let text): budget -= text.utf8.count + 2
        case .binary(let bytes): budget -= bytes.count + 2
        case .array(let elements):
            budget -= 2
            for element in elements {
                budget -= 1
                guard budget >= 0, Self.weigh(element, budget: &budget, depth: depth - 1) else { return false }
            }
        case .object(let object):
            budget -= 2
            for member in object.members {
                budget -= member.key.utf8.count + 4
                guard budget >= 0, Self.weigh(member.value, budget: &budget, depth: depth - 1) else { return false }
            }
        default: budget -= 5
        }
        return budget >= 0
    }

    /// A short spelling of a value for messages.
    static func preview(_ value: JSONValue) -> String {
        switch value {
        case .array, .object:
            guard Self.isWithin(value, bytes: 4096) else { return "(\(value.typeName) too large to show)" }
        default:
            break
        }
        let text = value.jsonString()
        return text.count > 40 ? String(text.prefix(37)) + "..." : text
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = self.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = self.lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
