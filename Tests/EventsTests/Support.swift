//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore
import TestSupport

/// A fresh temporary folder with a state file path; removed with the value.
final class EventsFolder {
    /// The folder.
    let url: URL
    /// The state file inside it.
    let statePath: String

    /// Creates the folder.
    init() throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent("iotbridge-events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        self.statePath = self.url.appendingPathComponent("state.sqlite").path
    }

    deinit {
        try? FileManager.default.removeItem(at: self.url)
    }

    /// Opens a store on the state file.
    func open() throws -> SQLiteStateStore {
        try SQLiteStateStore(path: self.statePath)
    }
}

/// Paths of the package.
enum EventsPaths {
    /// The package root.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The committed JSON Schema of events.
    static let schema = packageRoot.appendingPathComponent("docs/schemas/migration-event.schema.json").path
    /// Debian's interpreter, which sees python3-jsonschema.
    static let python = ProcessInfo.processInfo.environment["IOTBRIDGE_PYTHON"] ?? "/usr/bin/python3"
}

/// Validates JSON documents (one a line) against the committed schema with python3-jsonschema; returns the
/// validator's complaints, one per invalid line (empty when every line is valid).
func schemaViolations(_ lines: [String]) async throws -> [String] {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("iotbridge-schema-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("events.jsonl")
    try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
    let script = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        for number, line in enumerate(open(sys.argv[2]), 1):
            for error in validator.iter_errors(json.loads(line)):
                print(f"line {number}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
        print("checked")
        """
    let run = try await ChildProcess.run(EventsPaths.python, ["-c", script, EventsPaths.schema, input.path])
    let text = run.stdout
    guard run.status == 0, text.hasSuffix("checked\n") else {
        throw SchemaCheckFailed(output: text + run.stderr)
    }
    return text.split(separator: "\n").dropLast().map(String.init)
}

/// The validator itself failed (python3-jsonschema missing?).
struct SchemaCheckFailed: Error, CustomStringConvertible {
    /// What it printed.
    let output: String
    /// A sentence.
    var description: String { "the schema check failed (apt-get install python3-jsonschema?): \(self.output)" }
}
