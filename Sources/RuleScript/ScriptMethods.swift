//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

// The platform's "basic data type" functions: methods called on a map, an array or a string
// (`data.items.size()`, `list.add(x)`, `name.substring(0, 3)`), as its function list names them
// (docs/parser-script-reference.md). The parser runs on the JVM, so where the documentation gives a name but
// no edge case, the method behaves as the Java method of that name on a Map, a List or a String: string
// positions count UTF-16 code units, a position out of range is an error, `remove(int)` on an array removes
// by position. Each choice the documentation does not state is listed in README's open questions.

/// A method of a basic data type, resolved by name when the script is compiled.
enum ScriptMethod: String, Sendable, CaseIterable {
    // Maps, arrays and strings.
    case size, isEmpty, get, contains, indexOf, remove, equals
    // Maps.
    case put, containsKey, containsValue, keySet, values, putAll
    // Arrays and maps.
    case add, set, clear
    // Strings.
    case length, substring, lastIndexOf, startsWith, endsWith, toUpperCase, toLowerCase, trim, replace, split,
        charAt, concat

    /// How many arguments the method takes, over every type that has it; the run checks the receiver's own.
    var arity: ClosedRange<Int> {
        switch self {
        case .size, .isEmpty, .keySet, .values, .clear, .length, .toUpperCase, .toLowerCase, .trim: 0...0
        case .get, .contains, .containsKey, .containsValue, .putAll, .equals, .charAt, .concat, .startsWith,
            .endsWith, .split, .remove:
            1...1
        case .indexOf, .lastIndexOf, .substring, .add: 1...2
        case .put, .set, .replace: 2...2
        }
    }

    /// `true` for the methods that change their receiver, which the script then stores back where it read it.
    var mutates: Bool {
        switch self {
        case .add, .put, .putAll, .remove, .set, .clear: true
        default: false
        }
    }

    /// The names, sorted, for suggestions.
    static let names: [String] = Self.allCases.map(\.rawValue).sorted()

    /// The result of a call, and the receiver's new value when the method changed it.
    struct Outcome {
        var result: JSONValue
        var receiver: JSONValue?
    }

    /// Calls the method on `receiver`.
    func apply(to receiver: JSONValue, _ arguments: [JSONValue]) throws(ScriptValues.Failure) -> Outcome {
        switch receiver {
        case .object(let object): try self.apply(map: object, arguments)
        case .array(let elements): try self.apply(array: elements, arguments)
        case .string(let text): try self.apply(string: text, arguments)
        case .null:
            throw ScriptValues.Failure(message: "cannot call .\(self.rawValue)() on null")
        default:
            throw ScriptValues.Failure(
                message: ".\(self.rawValue)() is a method of maps, arrays and strings; got \(receiver.typeName)"
            )
        }
    }

    // MARK: - Maps

    private func apply(map: JSONObject, _ arguments: [JSONValue]) throws(ScriptValues.Failure) -> Outcome {
        var object = map
        switch self {
        case .size:
            return Outcome(result: .int(object.count))
        case .isEmpty:
            return Outcome(result: .bool(object.isEmpty))
        case .get:
            return Outcome(result: object[Self.key(arguments[0])] ?? .null)
        case .containsKey, .contains:
            return Outcome(result: .bool(object[Self.key(arguments[0])] != nil))
        case .containsValue:
            return Outcome(result: .bool(object.values.contains { ScriptValues.strictlyEqual($0, arguments[0]) }))
        case .keySet:
            return Outcome(result: .array(object.keys.map(JSONValue.string)))
        case .values:
            return Outcome(result: .array(object.values))
        case .put:
            let key = Self.key(arguments[0])
            let previous = object[key] ?? .null
            object[key] = arguments[1]
            return Outcome(result: previous, receiver: .object(object))
        case .putAll:
            guard case .object(let other) = arguments[0] else {
                throw ScriptValues.Failure(message: "putAll(map) takes a map, got \(arguments[0].typeName)")
            }
            object.merge(other)
            return Outcome(result: .null, receiver: .object(object))
        case .remove:
            let removed = object.removeValue(forKey: Self.key(arguments[0])) ?? .null
            return Outcome(result: removed, receiver: .object(object))
        case .clear:
            return Outcome(result: .null, receiver: .object(JSONObject()))
        case .equals:
            return Outcome(result: .bool(ScriptValues.strictlyEqual(.object(object), arguments[0])))
        default:
            throw self.notOf("a map", arguments.count)
        }
    }

    // MARK: - Arrays

    private func apply(array: [JSONValue], _ arguments: [JSONValue]) throws(ScriptValues.Failure) -> Outcome {
        var elements = array
        switch self {
        case .size:
            return Outcome(result: .int(elements.count))
        case .isEmpty:
            return Outcome(result: .bool(elements.isEmpty))
        case .get:
            let index = try Self.position(arguments[0], below: elements.count, of: "get(index)")
            return Outcome(result: elements[index])
        case .contains:
            return Outcome(result: .bool(elements.contains { ScriptValues.strictlyEqual($0, arguments[0]) }))
        case .indexOf, .lastIndexOf:
            guard arguments.count == 1 else { throw self.notOf("an array", arguments.count) }
            let match = { (element: JSONValue) in ScriptValues.strictlyEqual(element, arguments[0]) }
            let found = self == .indexOf ? elements.firstIndex(where: match) : elements.lastIndex(where: match)
            return Outcome(result: .int(found ?? -1))
        case .add:
            if arguments.count == 1 {
                elements.append(arguments[0])
                return Outcome(result: .bool(true), receiver: .array(elements))
            }
            let index = try Self.position(arguments[0], below: elements.count + 1, of: "add(index, element)")
            elements.insert(arguments[1], at: index)
            return Outcome(result: .null, receiver: .array(elements))
        case .set:
            let index = try Self.position(arguments[0], below: elements.count, of: "set(index, element)")
            let previous = elements[index]
            elements[index] = arguments[1]
            return Outcome(result: previous, receiver: .array(elements))
        case .remove:
            // Java's List.remove(int) removes by position; any other argument is removed as a value.
            if case .int = arguments[0] {
                let index = try Self.position(arguments[0], below: elements.count, of: "remove(index)")
                let removed = elements.remove(at: index)
                return Outcome(result: removed, receiver: .array(elements))
            }
            guard let found = elements.firstIndex(where: { ScriptValues.strictlyEqual($0, arguments[0]) }) else {
                return Outcome(result: .bool(false))
            }
            elements.remove(at: found)
            return Outcome(result: .bool(true), receiver: .array(elements))
        case .clear:
            return Outcome(result: .null, receiver: .array([]))
        case .equals:
            return Outcome(result: .bool(ScriptValues.strictlyEqual(.array(elements), arguments[0])))
        default:
            throw self.notOf("an array", arguments.count)
        }
    }

    // MARK: - Strings

    private func apply(string text: String, _ arguments: [JSONValue]) throws(ScriptValues.Failure) -> Outcome {
        let units = Array(text.utf16)
        switch self {
        case .length:
            return Outcome(result: .int(units.count))
        case .isEmpty:
            return Outcome(result: .bool(units.isEmpty))
        case .substring:
            let begin = try Self.position(arguments[0], below: units.count + 1, of: "substring(beginIndex)")
            var end = units.count
            if arguments.count > 1 {
                end = try Self.position(arguments[1], below: units.count + 1, of: "substring(beginIndex, endIndex)")
            }
            guard begin <= end else {
                throw ScriptValues.Failure(
                    message: "substring(\(begin), \(end)): the begin index is after the end index"
                )
            }
            return Outcome(result: .string(Self.string(units[begin..<end])))
        case .charAt:
            let index = try Self.position(arguments[0], below: units.count, of: "charAt(index)")
            return Outcome(result: .string(Self.string(units[index...index])))
        case .indexOf, .lastIndexOf:
            let needle = Array(try Self.text(arguments[0], of: "\(self.rawValue)(str)").utf16)
            var from: Int?
            if arguments.count > 1 {
                guard let start = ScriptValues.integer(arguments[1]) else {
                    throw ScriptValues.Failure(
                        message: "\(self.rawValue)(str, fromIndex): the index must be a whole number, got "
                            + ScriptValues.preview(arguments[1])
                    )
                }
                from = start
            }
            return Outcome(result: .int(Self.find(needle, in: units, from: from, last: self == .lastIndexOf)))
        case .contains:
            let needle = Array(try Self.text(arguments[0], of: "contains(str)").utf16)
            return Outcome(result: .bool(Self.find(needle, in: units, from: nil, last: false) >= 0))
        case .startsWith:
            let prefix = Array(try Self.text(arguments[0], of: "startsWith(prefix)").utf16)
            return Outcome(result: .bool(units.starts(with: prefix)))
        case .endsWith:
            let suffix = Array(try Self.text(arguments[0], of: "endsWith(suffix)").utf16)
            return Outcome(result: .bool(units.reversed().starts(with: suffix.reversed())))
        case .toUpperCase:
            return Outcome(result: .string(text.uppercased()))
        case .toLowerCase:
            return Outcome(result: .string(text.lowercased()))
        case .trim:
            // Java's trim removes every character up to U+0020 at both ends, and nothing else.
            let kept = units.drop { $0 <= 0x20 }.reversed().drop { $0 <= 0x20 }.reversed()
            return Outcome(result: .string(Self.string(ArraySlice(kept))))
        case .replace:
            let target = try Self.text(arguments[0], of: "replace(target, replacement)")
            let replacement = try Self.text(arguments[1], of: "replace(target, replacement)")
            return Outcome(result: .string(Self.replacing(target, with: replacement, in: text)))
        case .split:
            let separator = try Self.text(arguments[0], of: "split(separator)")
            return Outcome(result: .array(Self.split(text, by: separator).map(JSONValue.string)))
        case .concat:
            let other = try Self.text(arguments[0], of: "concat(str)")
            return Outcome(result: .string(text + other))
        case .equals:
            return Outcome(result: .bool(arguments[0] == .string(text)))
        default:
            throw self.notOf("a string", arguments.count)
        }
    }

    // MARK: - Helpers

    /// The failure for a method called on a type that lacks it, or with an argument count that type refuses.
    private func notOf(_ type: String, _ count: Int) -> ScriptValues.Failure {
        let owners = [("a map", Self.mapMethods), ("an array", Self.arrayMethods), ("a string", Self.stringMethods)]
            .filter { $0.1.contains(self) }
            .map(\.0)
        if !owners.contains(type) {
            return ScriptValues.Failure(
                message: ".\(self.rawValue)() is not a method of \(type); it is a method of "
                    + owners.joined(separator: " and ")
            )
        }
        return ScriptValues.Failure(message: ".\(self.rawValue)() of \(type) does not take \(count) argument(s)")
    }

    /// The methods of maps (Java's `Map`).
    static let mapMethods: Set<ScriptMethod> = [
        .size, .isEmpty, .get, .contains, .containsKey, .containsValue, .keySet, .values, .put, .putAll, .remove,
        .clear, .equals,
    ]
    /// The methods of arrays (Java's `List`).
    static let arrayMethods: Set<ScriptMethod> = [
        .size, .isEmpty, .get, .contains, .indexOf, .lastIndexOf, .add, .set, .remove, .clear, .equals,
    ]
    /// The methods of strings (Java's `String`).
    static let stringMethods: Set<ScriptMethod> = [
        .length, .isEmpty, .substring, .charAt, .indexOf, .lastIndexOf, .contains, .startsWith, .endsWith,
        .toUpperCase, .toLowerCase, .trim, .replace, .split, .concat, .equals,
    ]

    /// A map key: strings as they are, other scalars spelled as text (`put(1, x)` uses key "1").
    private static func key(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return ScriptValues.text(value)
    }

    /// A position in `0..<limit`, or a failure naming the call.
    private static func position(
        _ value: JSONValue, below limit: Int, of call: String
    ) throws(ScriptValues.Failure)
        -> Int
    {
        guard let index = ScriptValues.integer(value) else {
            throw ScriptValues.Failure(
                message: "\(call): the index must be a whole number, got \(ScriptValues.preview(value))"
            )
        }
        guard index >= 0, index < limit else {
            throw ScriptValues.Failure(
                message: "\(call): index \(index) is out of range (0 to \(limit - 1))"
            )
        }
        return index
    }

    private static func text(_ value: JSONValue, of call: String) throws(ScriptValues.Failure) -> String {
        switch value {
        case .string(let text): return text
        case .null: throw ScriptValues.Failure(message: "\(call): the argument is null")
        case .int, .double, .bool: return ScriptValues.text(value)
        default: throw ScriptValues.Failure(message: "\(call) takes a string, got \(value.typeName)")
        }
    }

    private static func string(_ units: ArraySlice<UInt16>) -> String {
        String(decoding: units, as: UTF16.self)
    }

    /// Java's `indexOf(str, from)` / `lastIndexOf(str)` over UTF-16 code units; -1 when absent.
    private static func find(_ needle: [UInt16], in units: [UInt16], from: Int?, last: Bool) -> Int {
        let lastStart = units.count - needle.count
        guard lastStart >= 0 else { return -1 }
        if last {
            var start = min(from ?? lastStart, lastStart)
            while start >= 0 {
                if units[start..<(start + needle.count)].elementsEqual(needle) { return start }
                start -= 1
            }
            return -1
        }
        var start = max(from ?? 0, 0)
        while start <= lastStart {
            if units[start..<(start + needle.count)].elementsEqual(needle) { return start }
            start += 1
        }
        return -1
    }

    /// Java's `String.replace(target, replacement)`: every occurrence, left to right, literally.
    private static func replacing(_ target: String, with replacement: String, in text: String) -> String {
        let units = Array(text.utf16)
        let needle = Array(target.utf16)
        let insert = Array(replacement.utf16)
        var result: [UInt16] = []
        var index = 0
        if needle.isEmpty {
            // Java inserts the replacement before every character and at the end.
            for unit in units {
                result += insert
                result.append(unit)
            }
            return Self.string(ArraySlice(result + insert))
        }
        while index < units.count {
            if index + needle.count <= units.count, units[index..<(index + needle.count)].elementsEqual(needle) {
                result += insert
                index += needle.count
            } else {
                result.append(units[index])
                index += 1
            }
        }
        return Self.string(ArraySlice(result))
    }

    /// Java's `split(separator)` with the separator taken literally (not as a regular expression; see README):
    /// trailing empty strings are dropped, and a string without the separator gives itself.
    private static func split(_ text: String, by separator: String) -> [String] {
        let units = Array(text.utf16)
        let needle = Array(separator.utf16)
        if needle.isEmpty {
            return units.map { Self.string([$0][...]) }
        }
        var parts: [String] = []
        var start = 0
        var index = 0
        while index + needle.count <= units.count {
            if units[index..<(index + needle.count)].elementsEqual(needle) {
                parts.append(Self.string(units[start..<index]))
                index += needle.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(Self.string(units[start...]))
        while parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        if parts == [""] && !units.isEmpty { return [] }
        return parts
    }
}

// Calls of methods. The name and the argument count were checked at compile time.

extension ScriptInterpreter {
    /// Runs a method call; a changing method stores the changed receiver back where it was read.
    mutating func method(_ call: ScriptMethodCall) throws(Diagnostic) -> JSONValue {
        // A changing method reads its receiver after its arguments, so `a.add(a.remove(0))` sees the removal,
        // as the same Java list would.
        var keys: [ScriptPathKey] = []
        var receiver: JSONValue = .null
        if let target = call.target {
            keys = try self.keys(of: target)
        } else {
            receiver = try self.evaluate(call.receiver)
        }
        var arguments: [JSONValue] = []
        arguments.reserveCapacity(call.arguments.count)
        for argument in call.arguments {
            arguments.append(try self.evaluate(argument))
        }
        if let target = call.target {
            receiver = try self.read(target, keys: keys)
        }
        let outcome: ScriptMethod.Outcome
        do {
            outcome = try call.method.apply(to: receiver, arguments)
        } catch {
            throw self.error(.type, error.message, at: call.range)
        }
        if let changed = outcome.receiver, let target = call.target {
            try self.checkGrowth(changed, range: call.range)
            try self.write(target, keys: keys, value: changed)
        }
        // `concat` and `replace` build strings, bounded like `+`.
        if case .string(let text) = outcome.result, text.utf8.count > self.limits.maximumStringBytes {
            throw self.error(
                .limit,
                "string longer than \(self.limits.maximumStringBytes) bytes",
                at: call.range
            )
        }
        return outcome.result
    }

    /// Refuses a collection grown past the limits by `add` or `put`.
    private func checkGrowth(_ value: JSONValue, range: SourceRange) throws(Diagnostic) {
        let count: Int
        switch value {
        case .array(let elements): count = elements.count
        case .object(let object): count = object.count
        default: return
        }
        guard count <= self.limits.maximumCollectionCount else {
            throw self.error(
                .limit,
                "a collection may have at most \(self.limits.maximumCollectionCount) elements or keys",
                at: range
            )
        }
        try self.checkComposed(value, range: range)
    }
}
