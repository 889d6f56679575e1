//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A path into the payload: `temperature`, `items.Temperature.value`, `"a[1].v"`, `"$.a[0]"`, `".a[0]"`.
///
/// Per the reference (§4.1): `$.` marks the payload as a JSON object and may be omitted; a leading `.`
/// makes the result a JSON array (`".a[0]"` on `{"a":[{"v":0}]}` gives `[{"v":0}]`, where `"a[0]"` gives
/// `{"v":0}`).
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path.
    public enum Component: Sendable, Hashable {
        /// An object key.
        case key(String)
        /// An array index.
        case index(Int)
    }

    /// The steps, from the payload down.
    public var components: [Component]
    /// `true` for the leading-`.` form, whose result is wrapped in an array.
    public var wrapsInArray: Bool
    /// The path as written.
    public var text: String

    /// Creates a path.
    public init(components: [Component], wrapsInArray: Bool = false, text: String) {
        self.components = components
        self.wrapsInArray = wrapsInArray
        self.text = text
    }

    /// The path as written.
    public var description: String { self.text }

    /// The last key of the path: the output key of a SELECT item without an alias.
    public var lastKey: String {
        for component in self.components.reversed() {
            if case .key(let key) = component { return key }
        }
        return self.text
    }

    /// Parses the text of a double-quoted path. Returns `nil` and a message when it is malformed.
    public static func parse(_ text: String) -> Result<FieldPath, PathError> {
        var rest = Substring(text)
        var wraps = false
        if rest.hasPrefix("$.") {
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix(".") {
            rest = rest.dropFirst()
            wraps = true
        } else if rest == "$" {
            return .success(FieldPath(components: [], text: text))
        }
        var components: [Component] = []
        var key = ""
        var expectKey = true
        var iterator = rest.makeIterator()
        var pending: Character? = iterator.next()
        func flushKey() {
            if !key.isEmpty { components.append(.key(key)) }
            key = ""
        }
        while let character = pending {
            pending = iterator.next()
            switch character {
            case ".":
                if key.isEmpty, expectKey { return .failure(PathError(message: "empty key in path \"\(text)\"")) }
                flushKey()
                expectKey = true
            case "[":
                flushKey()
                var digits = ""
                while let digit = pending, digit != "]" {
                    digits.append(digit)
                    pending = iterator.next()
                }
                guard pending == "]" else {
                    return .failure(PathError(message: "missing ']' in path \"\(text)\""))
                }
                pending = iterator.next()
                guard let index = Int(digits.trimmingSpaces), index >= 0 else {
                    return .failure(PathError(message: "array index '\(digits)' in path \"\(text)\" is not a number"))
                }
                components.append(.index(index))
                expectKey = false
            case "]":
                return .failure(PathError(message: "unexpected ']' in path \"\(text)\""))
            default:
                key.append(character)
                expectKey = false
            }
        }
        if expectKey, !components.isEmpty || !key.isEmpty || rest.hasSuffix(".") {
            if key.isEmpty { return .failure(PathError(message: "path \"\(text)\" ends with '.'")) }
        }
        flushKey()
        guard !components.isEmpty else { return .failure(PathError(message: "empty path \"\(text)\"")) }
        return .success(FieldPath(components: components, wrapsInArray: wraps, text: text))
    }

    /// Follows the path in a payload; `nil` when a step is missing.
    public func lookup(in payload: JSONValue) -> JSONValue? {
        var current = payload
        for component in self.components {
            switch component {
            case .key(let key):
                guard case .object(let object) = current, let next = object[key] else { return nil }
                current = next
            case .index(let index):
                guard case .array(let elements) = current, index < elements.count else { return nil }
                current = elements[index]
            }
        }
        return self.wrapsInArray ? .array([current]) : current
    }

    /// How far the path resolves in `payload`: the number of components found, and the keys available at
    /// the first missing step (for "did you mean" suggestions).
    public func resolution(in payload: JSONValue) -> (found: Int, availableKeys: [String]) {
        var current = payload
        for (position, component) in self.components.enumerated() {
            switch component {
            case .key(let key):
                guard case .object(let object) = current else { return (position, []) }
                guard let next = object[key] else { return (position, object.keys) }
                current = next
            case .index(let index):
                guard case .array(let elements) = current, index < elements.count else { return (position, []) }
                current = elements[index]
            }
        }
        return (self.components.count, [])
    }
}

/// A malformed path.
public struct PathError: Error, Sendable, Hashable {
    /// What is wrong.
    public var message: String
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        var slice = self[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
