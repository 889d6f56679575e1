//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A failure of the test machinery itself (a peer that did not start, a deadline that passed), with the context
/// a person needs to see why.
struct IntegrationTestError: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String

    /// Creates an error with its description.
    init(_ description: String) {
        self.description = description
    }
}

/// A child process (broker, peer, CLI) whose stdout and stderr go to files, read back line by line.
///
/// Files rather than pipes: a broker that prints link errors can never block on a full pipe, and nothing needs a
/// reader thread. The process stays our direct child (pid 1 here does not reap orphans), inherits the
/// environment (so `IOTBRIDGE_TEST_RUN` lets `scripts/test.sh` clean up after a crashed test) and is ended by pid.
final class ManagedProcess: @unchecked Sendable {
    // @unchecked Sendable: the properties are immutable after `init`; `Process` is only asked for its state, its
    // pid and its exit status, which Foundation guards itself.
    /// The program.
    let executable: String
    /// Its arguments.
    let arguments: [String]
    /// A short name for failure messages.
    let name: String
    private let process: Process
    private let stdoutPath: String
    private let stderrPath: String

    /// Starts `executable` with `arguments`; `environment` entries are added to (or override) ours.
    init(
        _ executable: String,
        _ arguments: [String],
        name: String? = nil,
        workingDirectory: String? = nil,
        environment: [String: String] = [:],
        outputDirectory: TemporaryDirectory
    ) throws {
        self.executable = executable
        self.arguments = arguments
        self.name = name ?? URL(fileURLWithPath: executable).lastPathComponent
        let stem = "\(self.name)-\(UUID().uuidString.prefix(8))"
        self.stdoutPath = outputDirectory.file("\(stem).stdout")
        self.stderrPath = outputDirectory.file("\(stem).stderr")
        guard FileManager.default.createFile(atPath: self.stdoutPath, contents: nil),
            FileManager.default.createFile(atPath: self.stderrPath, contents: nil)
        else { throw IntegrationTestError("cannot create output files in \(outputDirectory.path)") }
        guard let stdout = FileHandle(forWritingAtPath: self.stdoutPath),
            let stderr = FileHandle(forWritingAtPath: self.stderrPath)
        else { throw IntegrationTestError("cannot create output files in \(outputDirectory.path)") }
        defer {
            // The child has its own copies of the descriptors (Foundation closes only pipes it was given).
            try? stdout.close()
            try? stderr.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        if !environment.isEmpty {
            // Start from ours so the run marker and PATH are inherited (README: environment contract).
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        self.process = process
    }

    /// The process id.
    var pid: Int32 { self.process.processIdentifier }

    /// Whether it is still running.
    var isRunning: Bool { self.process.isRunning }

    /// The exit status once it ended (the signal number if a signal ended it), else nil.
    var exitStatus: Int32? { self.process.isRunning ? nil : self.process.terminationStatus }

    /// Whether a signal (not `exit`) ended it.
    var wasSignalled: Bool { !self.process.isRunning && self.process.terminationReason == .uncaughtSignal }

    /// Everything written to stdout so far.
    var stdout: String { Self.read(self.stdoutPath) }

    /// Everything written to stderr so far.
    var stderr: String { Self.read(self.stderrPath) }

    /// The complete lines written to stdout so far (a line still being written is left out).
    var stdoutLines: [String] { Self.completeLines(self.stdout) }

    /// The stdout lines that parse as JSON objects (the peers' and the CLI's output format).
    var jsonLines: [JSON] { self.stdoutLines.compactMap { JSON(parsing: $0) } }

    /// How many complete stdout lines contain `text`: a cheap progress probe for output too long to parse often.
    func countLines(containing text: String) -> Int {
        self.stdoutLines.reduce(0) { $0 + ($1.contains(text) ? 1 : 0) }
    }

    /// The peers' events named `event`, in order.
    func events(_ event: String) -> [JSON] {
        self.jsonLines.filter { $0["event"]?.string == event }
    }

    /// A tail of both outputs, for failure messages.
    var outputTail: String {
        let out = self.stdout.suffix(1500)
        let err = self.stderr.suffix(1500)
        return "\(self.name) (pid \(self.pid)) stdout: …\(out)\n\(self.name) stderr: …\(err)"
    }

    /// Waits until a complete stdout line satisfies `predicate`; returns it. Fails early if the process exits.
    @discardableResult
    func waitForLine(timeout: Duration = .seconds(20), _ predicate: (String) -> Bool) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let line = self.stdoutLines.first(where: predicate) { return line }
            if !self.isRunning {
                // Output written just before exit is in the file by now.
                if let line = self.stdoutLines.first(where: predicate) { return line }
                throw IntegrationTestError(
                    "\(self.name) exited (status \(self.exitStatus ?? -1)) before the awaited line\n\(self.outputTail)"
                )
            }
            if clock.now >= deadline {
                throw IntegrationTestError("\(self.name): no awaited line within \(timeout)\n\(self.outputTail)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until it exits; returns the exit status.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await waitUntil("\(self.name) (pid \(self.pid)) exits", timeout: timeout) { !self.isRunning }
        return self.process.terminationStatus
    }

    /// Sends `signal` (SIGKILL, SIGTERM, …) to it by pid.
    func send(_ signal: Int32) {
        if self.isRunning { kill(self.pid, signal) }
    }

    /// Ends it for good and waits until it is reaped: SIGTERM, then SIGKILL after `grace`. Synchronous so it can
    /// run in a `defer`.
    func stop(grace: Duration = .seconds(3)) {
        guard self.isRunning else { return }
        kill(self.pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while self.isRunning && clock.now < deadline { usleep(10_000) }
        if self.isRunning {
            kill(self.pid, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    private static func read(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    private static func completeLines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The last element is "" after a final newline, or a line still being written: drop it either way.
        lines.removeLast()
        return lines.filter { !$0.isEmpty }
    }

    /// Runs a command to completion and returns its exit status and outputs (for short tools like `openssl`).
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        timeout: Duration = .seconds(60),
        outputDirectory: TemporaryDirectory
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try ManagedProcess(
            executable,
            arguments,
            environment: environment,
            outputDirectory: outputDirectory
        )
        defer { process.stop() }
        let status = try await process.waitForExit(timeout: timeout)
        return (status, process.stdout, process.stderr)
    }
}

/// Polls `condition` every `interval` until it holds; throws (naming `what`) if `timeout` passes first. Used
/// where a state is observable but offers no notification (a counter, a child's exit, a file's content).
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(20),
    interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !(try await condition()) {
        if clock.now >= deadline { throw IntegrationTestError("timed out after \(timeout) waiting until \(what)") }
        try await Task.sleep(for: interval)
    }
}
