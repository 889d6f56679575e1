//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
public import RuleSQL

/// What `rules lint` found.
public struct LintReport: Sendable {
    /// The rule files checked.
    public var files: [String]
    /// Every problem, file by file, in file order.
    public var diagnostics: [Diagnostic]

    /// The number of errors.
    public var errorCount: Int {
        self.diagnostics.count { $0.severity == .error }
    }

    /// The number of warnings.
    public var warningCount: Int {
        self.diagnostics.count { $0.severity == .warning }
    }
}

/// A failure to find rule files (a path that does not exist, a directory without rule files).
public struct RulesError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        /// A path does not exist.
        public static let notFound = Code(rawValue: "not-found")
        /// A samples file is malformed.
        public static let samples = Code(rawValue: "samples")

        /// The code's name.
        public var description: String { self.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// What to do about it.
    public var message: String

    /// The message.
    public var description: String { self.message }
}

/// Checks rule files: YAML, keys, destinations, limits, the SQL, the script, the destination numbers the
/// script names, what the platform refuses when a script is published (a script that forwards nothing), and
/// the fields a rule reads from the platform's own payloads (property posts, status, …).
public struct RuleLinter: Sendable {
    /// The compiler, with the script engine to check scripts with.
    public var compiler: RuleCompiler

    /// Creates a linter.
    public init(compiler: RuleCompiler = RuleCompiler()) {
        self.compiler = compiler
    }

    /// The rule files under `paths`: files as given, directories searched recursively for `.yaml`/`.yml`.
    public static func ruleFiles(in paths: [String]) throws(RulesError) -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw RulesError(code: .notFound, message: "\(path): no such file or directory")
            }
            if !isDirectory.boolValue {
                files.append(path)
                continue
            }
            // Resolved first: Foundation does not descend into a folder given as a symbolic link.
            let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            let found = (manager.enumerator(atPath: resolved)?.allObjects as? [String] ?? [])
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .sorted()
                .map { (path as NSString).appendingPathComponent($0) }
            if found.isEmpty {
                throw RulesError(code: .notFound, message: "\(path): no rule files (.yaml or .yml) in this folder")
            }
            files.append(contentsOf: found)
        }
        return files
    }

    /// Lints every rule file under `paths`.
    public func lint(paths: [String]) throws(RulesError) -> LintReport {
        let files = try Self.ruleFiles(in: paths)
        var diagnostics: [Diagnostic] = []
        var names: [String: String] = [:]
        for file in files {
            let (rule, found) = self.compiler.load(path: file)
            diagnostics.append(contentsOf: found)
            guard let rule else { continue }
            if let other = names[rule.name] {
                diagnostics.append(
                    Self.nameDiagnostic(rule.file, "the rule name '\(rule.name)' is also used by \(other)")
                )
            } else {
                names[rule.name] = file
            }
            switch (rule.program, rule.file.body) {
            case (.sql(let sql), .sql(let definition)):
                diagnostics.append(contentsOf: sql.platformFieldWarnings().map(definition.sql.relocate))
            case (_, .parser(let definition)):
                diagnostics.append(contentsOf: Self.destinationReferenceDiagnostics(definition))
                diagnostics.append(
                    contentsOf: self.compiler.scriptEngine.publishDiagnostics(definition.script.source)
                        .map(definition.script.relocate)
                )
            default:
                break
            }
        }
        return LintReport(files: files, diagnostics: diagnostics)
    }

    private static func nameDiagnostic(_ file: RuleFile, _ message: String) -> Diagnostic {
        let line = (1...max(1, file.source.lineStarts.count)).first { file.source.line($0).hasPrefix("name:") } ?? 1
        return Diagnostic(
            code: .ruleFile,
            severity: .warning,
            message: message,
            file: file.path,
            location: SourceLocation(line: line, column: 1, offset: file.source.lineStarts[line - 1]),
            sourceLine: file.source.line(line)
        )
    }

    /// Finds `writeXxx(1234, …)` calls in a script whose destination number the file does not define.
    /// A text scan, so it works before the script language is plugged in.
    public static func destinationReferenceDiagnostics(_ definition: ParserDefinition) -> [Diagnostic] {
        let source = definition.script.source
        let bytes = source.bytes
        var diagnostics: [Diagnostic] = []
        var index = 0
        let write = Array("write".utf8)
        while index + write.count < bytes.count {
            guard bytes[index..<(index + write.count)].elementsEqual(write),
                index == 0 || !Lexer.isIdentifierContinue(bytes[index - 1])
            else {
                index += 1
                continue
            }
            let start = index
            var cursor = index + write.count
            while cursor < bytes.count, Lexer.isIdentifierContinue(bytes[cursor]) { cursor += 1 }
            let function = String(decoding: bytes[start..<cursor], as: UTF8.self)
            while cursor < bytes.count, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "(") else {
                index = cursor
                continue
            }
            cursor += 1
            while cursor < bytes.count, bytes[cursor] == UInt8(ascii: " ") { cursor += 1 }
            let digitsStart = cursor
            while cursor < bytes.count, bytes[cursor] >= UInt8(ascii: "0"), bytes[cursor] <= UInt8(ascii: "9") {
                cursor += 1
            }
            if cursor > digitsStart, let id = Int(String(decoding: bytes[digitsStart..<cursor], as: UTF8.self)),
                definition.destination(id) == nil
            {
                let known = definition.destinations.compactMap(\.id).map(String.init)
                let range = SourceRange(
                    start: source.location(ofOffset: digitsStart),
                    end: source.location(ofOffset: cursor)
                )
                let message =
                    "\(function)(\(id), …) names destination \(id), which the rule file does not define"
                    + (Suggestion.closest(to: String(id), among: known).map { "; did you mean \($0)?" }
                        ?? (known.isEmpty
                            ? "; add it under 'destinations'" : " (defined: \(known.joined(separator: ", "))))"))
                diagnostics.append(definition.script.relocate(source.diagnostic(.ruleFile, message, at: range)))
            }
            index = cursor
        }
        return diagnostics
    }
}
