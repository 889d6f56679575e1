//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL
public import Yams

/// Reads a composed YAML tree with positions, collecting a diagnostic for every problem instead of
/// stopping at the first, so `rules lint` can show them all. Rule files and `bridge.yaml` both read through it,
/// so every configuration error reads `file:line:col: error: …` with the line and a caret.
public struct YAMLDecoder {
    /// The text being read.
    public let source: SourceText
    /// Every problem found so far.
    public private(set) var diagnostics: [Diagnostic] = []
    /// The code the diagnostics carry. Default: `.ruleFile`.
    public var code: Diagnostic.Code = .ruleFile

    /// Creates a reader of `source`.
    public init(source: SourceText) {
        self.source = source
    }

    /// The location of a node (its first character).
    public func location(of node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(line: 1, column: 1, offset: 0) }
        return self.location(line: mark.line, column: mark.column)
    }

    /// The location of a 1-based line and column.
    public func location(line: Int, column: Int) -> SourceLocation {
        let lineStart = line - 1 < self.source.lineStarts.count ? self.source.lineStarts[line - 1] : 0
        let prefix = String(self.source.line(line).unicodeScalars.prefix(column - 1))
        return SourceLocation(line: line, column: prefix.count + 1, offset: lineStart + prefix.utf8.count)
    }

    /// Reports an error at a node.
    public mutating func error(_ message: String, at node: Node?, length: Int = 1) {
        self.report(message, at: self.location(of: node), length: length, severity: .error)
    }

    /// Reports an error at a node whose line may hold a secret (a literal password, say): its `file:line:col`,
    /// never the line itself, so that the error does not print what it refuses.
    public mutating func errorWithoutSourceLine(_ message: String, at node: Node?) {
        self.diagnostics.append(
            Diagnostic(
                code: self.code,
                severity: .error,
                message: message,
                file: self.source.file,
                location: self.location(of: node),
                sourceLine: ""
            )
        )
    }

    /// Reports a warning at a node.
    public mutating func warning(_ message: String, at node: Node?) {
        self.report(message, at: self.location(of: node), length: 1, severity: .warning)
    }

    /// Reports a problem at a location.
    public mutating func report(_ message: String, at location: SourceLocation, length: Int, severity: Diagnostic.Severity) {
        self.diagnostics.append(
            Diagnostic(
                code: self.code,
                severity: severity,
                message: message,
                file: self.source.file,
                location: location,
                sourceLine: self.source.line(location.line),
                length: length
            )
        )
    }

    /// Adds a diagnostic found elsewhere.
    public mutating func append(_ diagnostic: Diagnostic) {
        self.diagnostics.append(diagnostic)
    }

    /// A mapping's entries by key, reporting non-string keys and keys not in `known` (with a suggestion).
    public mutating func fields(_ node: Node?, _ what: String, known: [String]) -> Fields? {
        guard let node else { return nil }
        guard case .mapping(let mapping) = node else {
            self.error("\(what) must be a mapping of keys to values, found \(Self.describe(node))", at: node)
            return nil
        }
        var fields = Fields(node: node)
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                self.error("keys of \(what) must be names", at: key)
                continue
            }
            if !known.isEmpty, !known.contains(scalar.string) {
                self.error(
                    "unknown key '\(scalar.string)' in \(what)" + Suggestion.didYouMean(scalar.string, among: known)
                        + " (known keys: \(known.joined(separator: ", ")))",
                    at: key,
                    length: scalar.string.count
                )
                continue
            }
            fields.entries.append((scalar.string, key, value))
        }
        return fields
    }

    /// A required or optional string.
    public mutating func string(_ fields: Fields, _ key: String, required: Bool = true) -> String? {
        guard let value = fields[key] else {
            if required { self.error("missing required key '\(key)'", at: fields.node) }
            return nil
        }
        guard case .scalar(let scalar) = value,
            value.tag.description != Tag.Name.null.rawValue || !scalar.string.isEmpty
        else {
            self.error("'\(key)' must be a text value, found \(Self.describe(value))", at: value)
            return nil
        }
        if required, scalar.string.isEmpty {
            self.error("'\(key)' must not be empty", at: value)
            return nil
        }
        return scalar.string
    }

    /// A required integer.
    public mutating func integer(_ node: Node, _ what: String) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            self.error("\(what) must be an integer, found \(Self.describe(node))", at: node)
            return nil
        }
        return value
    }

    /// A short description of a node for messages: the scalar quoted, or "a mapping", "a list".
    public static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            "'\(scalar.string.count > 30 ? String(scalar.string.prefix(27)) + "..." : scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// The entries of a YAML mapping, with their key nodes for positions.
public struct Fields {
    /// The mapping.
    public let node: Node
    /// Its entries, in file order.
    public var entries: [(key: String, keyNode: Node, value: Node)] = []

    /// Creates the entries of a mapping node (filled by `YAMLDecoder.fields`).
    public init(node: Node) {
        self.node = node
    }

    /// The value of `key`.
    public subscript(key: String) -> Node? {
        self.entries.first { $0.key == key }?.value
    }

    /// Whether `key` is present.
    public func has(_ key: String) -> Bool {
        self.entries.contains { $0.key == key }
    }

    /// The key node of `key`, for positions.
    public func keyNode(_ key: String) -> Node? {
        self.entries.first { $0.key == key }?.keyNode
    }
}
