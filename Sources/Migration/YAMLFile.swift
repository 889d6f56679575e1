//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL
import Rules
import Yams

/// Reads and writes YAML with errors that name the file and line.
enum YAMLFile {
    /// Decodes a value from YAML text.
    ///
    /// - Throws: ``MigrationError`` `.yaml` naming `file:line` for syntax errors, and for shape errors the line of
    ///   the offending key when it can be found.
    static func decode<T: Decodable>(_ type: T.Type, from text: String, file: String) throws -> T {
        do {
            return try Yams.YAMLDecoder().decode(type, from: text)
        } catch let error as DecodingError {
            let (path, reason) = Self.describe(error)
            // Syntax errors come wrapped in dataCorrupted; Yams puts "line:column: error" in their text.
            if let syntaxLine = reason.firstMatch(of: /(\d+):\d+: error/).flatMap({ Int($0.output.1) }) {
                let where_ = path.isEmpty ? "" : " at \(Self.pathText(path))"
                throw MigrationError(.yaml, "\(reason)\(where_) — fix the file and retry", location: "\(file):\(syntaxLine)")
            }
            // A shape error (an edited plan, a hand-written export): said in words, at the node, with its line.
            let message = Self.explain(error)
            let node = Self.node(at: path, in: text)
            let line = node?.mark?.line ?? 1
            let column = node?.mark?.column ?? 1
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let diagnostic = Diagnostic(
                code: Diagnostic.Code("yaml"),
                message: message,
                file: file,
                location: SourceLocation(line: line, column: column, offset: 0),
                sourceLine: line <= lines.count ? String(lines[line - 1]) : "",
                length: node?.scalar.map { max(1, $0.string.count) } ?? 1
            )
            throw MigrationError(.yaml, "\(message) — fix the file and retry", location: "\(file):\(line)", diagnostics: [diagnostic])
        } catch {
            // Yams' own errors already carry "line:column" in their description.
            throw MigrationError(.yaml, "not valid YAML: \(error)", location: file)
        }
    }

    /// Reads and decodes a file.
    static func load<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        let text: String
        do {
            text = try TextFile.read(path, what: "the file")
        } catch {
            throw MigrationError(.config, error.description)
        }
        return try Self.decode(type, from: text, file: path)
    }

    /// Encodes a value as YAML text.
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = Yams.YAMLEncoder()
        encoder.options.width = -1
        encoder.options.sortKeys = false
        // Chinese names, descriptions and scripts stay readable (UTF-8), not `\u` escapes.
        encoder.options.allowUnicode = true
        return try encoder.encode(value)
    }

    /// Writes a value as YAML, atomically, so a crash never leaves half a file.
    static func write<T: Encodable>(_ value: T, to path: String, header: String = "") throws {
        let text = header + (try Self.encode(value))
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw MigrationError(.config, "cannot write '\(path)': \(TextFile.reason(error))")
        }
    }

    private static func describe(_ error: DecodingError) -> ([any CodingKey], String) {
        switch error {
        case .typeMismatch(let type, let context):
            return (context.codingPath, "expected \(type): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return (context.codingPath, "missing value of type \(type)")
        case .keyNotFound(let key, let context):
            return (context.codingPath, "missing key '\(key.stringValue)'")
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { ": \($0)" } ?? ""
            return (context.codingPath, "\(context.debugDescription)\(underlying)")
        @unknown default:
            return ([], "\(error)")
        }
    }

    /// The 1-based line of the node at a coding path, or of its deepest existing ancestor.
    static func line(of path: [any CodingKey], in text: String) -> Int? {
        Self.node(at: path, in: text)?.mark?.line
    }

    /// The node at a coding path, or its deepest existing ancestor (with a position).
    static func node(at path: [any CodingKey], in text: String) -> Node? {
        guard var node = try? Yams.compose(yaml: text) else { return nil }
        var found = node.mark == nil ? nil : node
        for key in path {
            let next: Node?
            if let index = key.intValue, case .sequence(let sequence) = node {
                next = index < sequence.count ? sequence[index] : nil
            } else {
                next = node[key.stringValue]
            }
            guard let next else { break }
            node = next
            if node.mark != nil { found = node }
        }
        return found
    }

    /// The keys of `text` that decoding did not use, each as an error with the closest known key (issue 13: no
    /// file is read leniently). The known keys of a place (`steps[].note`) are those the decoded value writes back
    /// when encoded again (with synthesized `Codable` every key read with a value is written back) plus the names
    /// of its stored properties (so an optional left out everywhere, such as `existing`, is still known). Keys whose
    /// value is null are not checked.
    static func unknownKeys<T: Encodable>(in text: String, decoded value: T, file: String) -> [Diagnostic] {
        guard let input = try? Yams.compose(yaml: text), let written = try? Yams.compose(yaml: Self.encode(value)) else {
            return []
        }
        // Known keys per place, indices left out: `steps[].consumerGroup` → [name, sourceId].
        var known: [String: Set<String>] = [:]
        func collect(_ node: Node, _ place: String) {
            switch node {
            case .mapping(let mapping):
                for (key, child) in mapping {
                    guard let name = key.string else { continue }
                    known[place, default: []].insert(name)
                    collect(child, place + "." + name)
                }
            case .sequence(let sequence):
                for child in sequence { collect(child, place + "[]") }
            default:
                break
            }
        }
        collect(written, "")
        func properties(_ value: Any, _ place: String) {
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .optional:
                if let child = mirror.children.first { properties(child.value, place) }
            case .collection, .set:
                for child in mirror.children { properties(child.value, place + "[]") }
            case .struct, .class:
                for child in mirror.children {
                    guard let label = child.label else { continue }
                    let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
                    known[place, default: []].insert(name)
                    properties(child.value, place + "." + name)
                }
            default:
                break  // scalars, enums, dictionaries (their keys are data: the round trip writes them all)
            }
        }
        properties(value, "")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var diagnostics: [Diagnostic] = []
        func check(_ node: Node, _ place: String, _ path: String) {
            switch node {
            case .mapping(let mapping):
                guard let names = known[place] else { return }  // a place the value does not have at all
                for (key, child) in mapping {
                    guard let name = key.string else { continue }
                    if names.contains(name) {
                        check(child, place + "." + name, path.isEmpty ? name : path + "." + name)
                        continue
                    }
                    if case .scalar(let scalar) = child, scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                        continue
                    }
                    let line = key.mark?.line ?? 1
                    let within = path.isEmpty ? "" : " in \(path)"
                    diagnostics.append(
                        Diagnostic(
                            code: Diagnostic.Code("yaml"),
                            message: "unknown key '\(name)'\(within)\(Suggestion.didYouMean(name, among: names)) "
                                + "(known keys here: \(names.sorted().joined(separator: ", ")))",
                            file: file,
                            location: SourceLocation(line: line, column: key.mark?.column ?? 1, offset: 0),
                            sourceLine: line <= lines.count ? String(lines[line - 1]) : "",
                            length: max(1, name.count)
                        )
                    )
                }
            case .sequence(let sequence):
                for (index, child) in sequence.enumerated() { check(child, place + "[]", "\(path)[\(index)]") }
            default:
                break
            }
        }
        check(input, "", "")
        return diagnostics
    }

    /// A coding path as a reader writes it: `steps[3].consumerGroup.name`.
    static func pathText(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    /// The values of the enums a plan or an export holds, by type name, so that a misspelt one lists them (as
    /// migration.yaml's `kind` does) instead of Codable's "Cannot initialize StepAction from invalid String value".
    static let enumValues: [String: [String]] = [
        "\(StepAction.self)": StepAction.allCases.map(\.rawValue),
        "\(SubscriptionType.self)": SubscriptionType.allCases.map(\.rawValue),
        "\(SubscriptionFlag.self)": SubscriptionFlag.allCases.map(\.rawValue),
        "\(AssessmentCategory.self)": AssessmentCategory.allCases.map(\.rawValue),
    ]

    /// A decoding error in words: what is wrong at which key, with the valid values of an enum.
    static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            let within = context.codingPath.isEmpty ? "" : " in \(Self.pathText(context.codingPath))"
            return "missing required key '\(key.stringValue)'\(within)"
        case .valueNotFound(let type, let context):
            return "\(Self.pathText(context.codingPath)) needs a value (\(type))"
        case .typeMismatch(let type, let context):
            return "\(Self.pathText(context.codingPath)) must be \(type): \(context.debugDescription)"
        case .dataCorrupted(let context):
            let name = Self.pathText(context.codingPath)
            if let match = context.debugDescription.firstMatch(of: /Cannot initialize (\w+) from invalid String value (.*)/) {
                let value = String(match.output.2)
                guard let values = Self.enumValues[String(match.output.1)] else { return "\(name) cannot be '\(value)'" }
                return "'\(name)' must be one of \(values.joined(separator: ", ")), found '\(value)'"
                    + Suggestion.didYouMean(value, among: values)
            }
            return "\(name): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
