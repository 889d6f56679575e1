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

/// Rewrites the consumer-group references of `rules/` files (see the `Rules` module) through a migration's ID
/// map: a rule file names groups symbolically (`consumerGroup: orders`), so when the target names a group
/// differently (`options.consumerGroupNaming`), the files must follow.
///
/// Only the `consumerGroup` values of AMQP actions and destinations change; every other byte of the file (comments,
/// order, quoting) stays. A file is validated with ``RuleFileLoader`` before and after: a broken file is reported,
/// never written.
public enum RuleFileRewriter {
    /// One rewritten reference.
    public struct Change: Sendable, Hashable, CustomStringConvertible {
        /// The rule file.
        public var file: String
        /// 1-based line of the value.
        public var line: Int
        /// 1-based column of the value.
        public var column: Int
        /// The old reference.
        public var from: String
        /// The new reference.
        public var to: String

        /// `file:line:col: consumerGroup from -> to`.
        public var description: String {
            "\(self.file):\(self.line):\(self.column): consumerGroup \(self.from) -> \(self.to)"
        }
    }

    /// Old reference → new reference for a plan: each recreated group's source name (and source ID, for files
    /// that used raw IDs) → its target name, where they differ.
    public static func renames(for plan: MigrationPlan) -> [String: String] {
        var renames: [String: String] = [:]
        for mapping in plan.consumerGroupMap {
            if mapping.targetName != mapping.sourceName { renames[mapping.sourceName] = mapping.targetName }
            if mapping.sourceId != mapping.targetName { renames[mapping.sourceId] = mapping.targetName }
        }
        return renames
    }

    /// Rewrites one rule file's text.
    ///
    /// - Throws: ``MigrationError`` `.config` with `file:line:col` when the file is not a valid rule file.
    public static func rewrite(
        text: String,
        path: String,
        renames: [String: String]
    ) throws -> (
        text: String, changes: [Change]
    ) {
        try Self.validate(text: text, path: path, stage: "is not a valid rule file")
        guard let root = try? Yams.compose(yaml: text) else { return (text, []) }
        var targets: [(line: Int, column: Int, scalar: Node.Scalar)] = []
        func visit(_ destination: Node?) {
            guard let destination, destination["type"]?.string?.lowercased() == "amqp",
                case .scalar(let scalar)? = destination["consumerGroup"], renames[scalar.string] != nil
            else { return }
            targets.append((scalar.mark?.line ?? 0, scalar.mark?.column ?? 0, scalar))
        }
        for action in root["actions"]?.sequence ?? [] { visit(action) }
        visit(root["errorAction"])
        for (_, destination) in root["destinations"]?.mapping ?? [:] { visit(destination) }
        visit(root["errorDestination"])

        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            Array(String($0).unicodeScalars)
        }
        var changes: [Change] = []
        // From the end, so earlier positions stay valid.
        for target in targets.sorted(by: { ($0.line, $0.column) > ($1.line, $1.column) }) {
            let old = target.scalar.string
            let new = renames[old]!
            let row = target.line - 1
            guard row >= 0, row < lines.count else { continue }
            var start = target.column - 1
            var length = old.unicodeScalars.count
            if start < lines[row].count, lines[row][start] == "\"" || lines[row][start] == "'" {
                start += 1
            }
            guard start >= 0, start + length <= lines[row].count,
                String(String.UnicodeScalarView(lines[row][start..<(start + length)])) == old
            else {
                // A scalar spread over lines or with escapes: leave it, say so.
                throw MigrationError(
                    .config,
                    "cannot rewrite consumerGroup \(old) in place; edit it to \(new) by hand",
                    location: "\(path):\(target.line):\(target.column)"
                )
            }
            length = old.unicodeScalars.count
            lines[row].replaceSubrange(start..<(start + length), with: Array(new.unicodeScalars))
            changes.append(Change(file: path, line: target.line, column: start + 1, from: old, to: new))
        }
        let rewritten = lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
        try Self.validate(text: rewritten, path: path, stage: "would no longer be valid after rewriting")
        return (rewritten, changes.reversed())
    }

    private static func validate(text: String, path: String, stage: String) throws {
        let load = RuleFileLoader.load(text: text, path: path)
        if let error = load.diagnostics.first(where: { $0.severity == .error }) {
            throw MigrationError(
                .config,
                "\(path) \(stage): \(error.message)",
                location: "\(path):\(error.location.line):\(error.location.column)"
            )
        }
    }

    /// Rewrites rule files and folders (every `*.yaml` / `*.yml` below them).
    ///
    /// - Parameters:
    ///   - outputFolder: where to write the rewritten files (flat, by file name); `nil` rewrites in place.
    ///   - dryRun: report the changes, write nothing.
    public static func rewrite(
        paths: [String],
        renames: [String: String],
        outputFolder: String? = nil,
        dryRun: Bool = false
    ) throws -> [Change] {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw MigrationError(.config, "no rule file or folder at \(path)")
            }
            if isFolder.boolValue {
                let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                let found = FileManager.default.enumerator(atPath: resolved)?.compactMap { $0 as? String } ?? []
                files += found.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                    .map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
            } else {
                files.append(path)
            }
        }
        var changes: [Change] = []
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let (rewritten, fileChanges) = try Self.rewrite(text: text, path: file, renames: renames)
            changes += fileChanges
            guard !dryRun else { continue }
            let destination =
                outputFolder.map {
                    URL(fileURLWithPath: $0).appendingPathComponent(URL(fileURLWithPath: file).lastPathComponent).path
                } ?? file
            guard destination != file || !fileChanges.isEmpty else { continue }
            try Data(rewritten.utf8).write(to: URL(fileURLWithPath: destination), options: .atomic)
        }
        return changes
    }
}
