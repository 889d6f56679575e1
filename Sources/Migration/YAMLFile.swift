//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
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
            let syntaxLine = reason.firstMatch(of: /(\d+):\d+: error/).flatMap { Int($0.output.1) }
            let line = syntaxLine ?? Self.line(of: path, in: text)
            let location = line.map { "\(file):\($0)" } ?? file
            let where_ = path.isEmpty ? "" : " at \(path.map(\.stringValue).joined(separator: "."))"
            throw MigrationError(.yaml, "\(reason)\(where_) — fix the file and retry", location: location)
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
        guard var node = try? Yams.compose(yaml: text) else { return nil }
        var line = node.mark?.line
        for key in path {
            let next: Node?
            if let index = key.intValue, case .sequence(let sequence) = node {
                next = index < sequence.count ? sequence[index] : nil
            } else {
                next = node[key.stringValue]
            }
            guard let next else { break }
            node = next
            line = node.mark?.line ?? line
        }
        return line
    }
}
