//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPClient
import Migration
import Synchronization
import Testing

/// Paths, processes and normalisation shared by the migration tests.
enum Support {
    /// `Tests/MigrationTests`.
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    /// The package root.
    static let packageRoot = Self.testsFolder.deletingLastPathComponent().deletingLastPathComponent()

    /// A fixture file's path.
    static func fixture(_ name: String) -> String {
        Self.testsFolder.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    /// Writes an export file of an empty instance (a `kind: file` side must exist unless `create: true`).
    static func copyEmptyExport(to path: String) throws {
        try FileBackend.write(InstanceSnapshot(identity: InstanceIdentity(kind: "file")), to: path)
    }

    /// A fresh temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("iotbridge-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The built `iotbridge`: `$IOTBRIDGE_BIN`, else next to the test bundle in the scratch path's debug folder,
    /// else in the usual scratch paths of the package.
    static let binary: String? = {
        if let path = ProcessInfo.processInfo.environment["IOTBRIDGE_BIN"], !path.isEmpty {
            return path
        }
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        candidates.append(runner.appendingPathComponent("iotbridge"))
        candidates.append(runner.deletingLastPathComponent().appendingPathComponent("iotbridge"))
        for scratch in [".build-migration", ".build"] {
            candidates.append(
                Self.packageRoot.appendingPathComponent(scratch).appendingPathComponent("debug/iotbridge")
            )
        }
        return candidates.map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// A snapshot in a form independent of IDs: every reference is replaced by the referenced resource's name, and
    /// every list is sorted. Two instances holding the same resources normalise to the same text; duplicates show.
    static func normalized(_ snapshot: InstanceSnapshot) -> String {
        var names: [String: String] = [:]
        for group in snapshot.consumerGroups { names[group.id] = "cg:\(group.name)" }
        for destination in snapshot.destinations { names[destination.id] = "dest:\(destination.name)" }
        for source in snapshot.dataSources { names[source.id] = "ds:\(source.name)" }
        func swap(_ text: String) -> String {
            var result = ReferenceRewriter.canonicalJSON(text)
            for (id, name) in names.sorted(by: { $0.key.count > $1.key.count }) {
                result = result.replacingOccurrences(of: "\"\(id)\"", with: "\"\(name)\"")
            }
            return result
        }
        func script(_ text: String?) -> String {
            guard let text else { return "-" }
            return text.replacing(/(write[A-Za-z]*\s*\(\s*)(\d+)/) { match in
                "\(match.output.1)\(names[String(match.output.2)] ?? String(match.output.2))"
            }
        }
        var lines: [String] = []
        lines += snapshot.consumerGroups.map { "group \($0.name)" }
        lines += snapshot.subscriptions.map { relation in
            "sub \(relation.productKey) \(relation.type.rawValue) \(relation.flags.map(\.rawValue)) "
                + "\(relation.consumerGroupIds.map { names[$0] ?? $0 }.sorted()) \(relation.subscribeFlags ?? "-")"
        }
        lines += snapshot.rules.map { rule in
            let actions = rule.actions.map { "\($0.type) \(swap($0.configuration))" }.sorted()
            let error = rule.errorAction.map { "\($0.type) \(swap($0.configuration))" } ?? "-"
            return "rule \(rule.name) \(rule.productKey ?? "-") \(rule.shortTopic ?? "-") \(rule.topic ?? "-") "
                + "\(rule.topicType.map(String.init) ?? "-") \(rule.select) \(rule.where ?? "-") \(rule.dataType) "
                + "\(rule.status.rawValue) \(actions) \(error)"
        }
        lines += snapshot.destinations.map { "dest \($0.name) \($0.type) \(swap($0.configuration))" }
        lines += snapshot.dataSources.map { "ds \($0.name) \($0.items.map(\.topic).sorted())" }
        lines += snapshot.parsers.map { parser in
            "parser \(parser.name) \(parser.status.rawValue) \(parser.dataSourceId.flatMap { names[$0] } ?? "-") "
                + "\(parser.destinationIds.map { names[$0] ?? $0 }.sorted()) "
                + "\(parser.errorDestinationId.flatMap { names[$0] } ?? "-") \(script(parser.script))"
        }
        return lines.sorted().joined(separator: "\n")
    }

    /// Names that occur more than once per resource kind: what "created twice" looks like.
    static func duplicates(_ snapshot: InstanceSnapshot) -> [String] {
        let names =
            snapshot.consumerGroups.map { "cg:\($0.name)" } + snapshot.rules.map { "rule:\($0.name)" }
            + snapshot.parsers.map { "parser:\($0.name)" } + snapshot.destinations.map { "dest:\($0.name)" }
            + snapshot.dataSources.map { "ds:\($0.name)" }
        return Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
    }
}

/// Collects a child process's output, thread-safely.
final class OutputCollector: Sendable {
    private let state = Mutex((bytes: [UInt8](), ended: false))

    /// Everything read so far (bytes are kept whole, so a character split between two reads stays intact).
    var text: String { self.state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }

    /// Starts reading a pipe in the background, on a thread of its own until the pipe's end. Not
    /// `readabilityHandler`: its dispatch source crashed libdispatch's event loop in CI (a bad pointer in
    /// `_dispatch_event_loop_drain`) while many tests started and ended children at once.
    func attach(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        let thread = Thread {
            while true {
                let data = handle.availableData
                guard !data.isEmpty else { break }
                self.state.withLock { $0.bytes += data }
            }
            self.state.withLock { $0.ended = true }
        }
        thread.start()
    }

    /// Waits until the pipe reached its end (the child and everything holding its write end are gone), so that
    /// `text` is complete; a fixed pause after the child's exit lost output on a loaded CI machine.
    func waitForEnd(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !self.state.withLock({ $0.ended }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until the output contains a string. The timeout is generous: tests that block the cooperative pool
    /// (SQLite writes) can delay this task on a loaded 2-core CI machine.
    func wait(for needle: String, timeout: Duration = .seconds(90)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if self.text.contains(needle) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

/// The loopback OpenAPI server of `Support/openapi_server.py`, one per test.
final class OpenAPITestServer: Sendable {
    let process: Process
    let output = OutputCollector()
    let port: Int
    let http = HTTPClient()

    /// The endpoint for migration.yaml.
    var endpoint: String { "http://127.0.0.1:\(self.port)" }

    /// Starts the server with the test key pair `testid` / `testsecret`.
    init() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            Support.testsFolder.appendingPathComponent("Support/openapi_server.py").path, "--key", "testid:testsecret",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        self.output.attach(pipe)
        try process.run()
        self.process = process
        guard try await self.output.wait(for: "PORT ", timeout: .seconds(90)),
            let line = self.output.text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }),
            let port = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
        else {
            kill(process.processIdentifier, SIGKILL)
            throw MigrationError(.unreachable, "the test server did not start")
        }
        self.port = port
    }

    deinit {
        // SIGKILL by pid: only this test's server.
        kill(self.process.processIdentifier, SIGKILL)
    }

    private func post(_ path: String, _ body: Data) async throws {
        let response = try await self.http.execute(
            HTTPRequest(method: "POST", url: self.endpoint + path, body: Array(body))
        )
        #expect(response.status == 200)
    }

    /// Replaces one instance with a snapshot.
    func seed(instance: String, _ snapshot: InstanceSnapshot) async throws {
        try await self.post("/__seed?instance=\(instance)", try JSONEncoder().encode(snapshot))
    }

    /// Replaces one instance with an export given as JSON (with an `assessment` section, `unavailableActions`, …).
    func seed(instance: String, json: Data) async throws {
        try await self.post("/__seed?instance=\(instance)", json)
    }

    /// Sets the fault injection (see the script's doc).
    func faults(_ json: String) async throws {
        try await self.post("/__faults", Data(json.utf8))
    }

    /// One instance as an export, and the call counts per action.
    func state(instance: String) async throws -> (InstanceSnapshot, [String: Int]) {
        let response = try await self.http.execute(HTTPRequest(url: self.endpoint + "/__state?instance=\(instance)"))
        let data = Data(response.body)
        let snapshot = try JSONDecoder().decode(InstanceSnapshot.self, from: data)
        let calls = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["calls"] as? [String: Int] ?? [:]
        return (snapshot, calls)
    }
}

/// Loads a fixture export through the file backend (the code path the CLI uses).
func loadFixture(_ name: String) async throws -> InstanceSnapshot {
    try await FileBackend(path: Support.fixture(name)).exportSnapshot(products: [])
}
