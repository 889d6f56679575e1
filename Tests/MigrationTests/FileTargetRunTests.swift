//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import TestSupport
import Testing

/// `migrate run` against a `kind: file` target (issue 13): the file is rewritten once per batch via rename, so a
/// kill mid-run leaves a valid file that the next run continues from, and a file's comments are warned about once.
@Suite("a file target survives a kill and is rewritten per batch")
struct FileTargetRunTests {
    /// A folder with the issue-4 benchmark instance (divided by `divisor`) as `source.json` and a migration.yaml
    /// whose target is `target.yaml`.
    static func workspace(divisor: Int, create: Bool = true) async throws -> URL {
        let folder = try Support.temporaryFolder()
        _ = try await ChildProcess.run(
            "/usr/bin/python3",
            [
                Support.testsFolder.appendingPathComponent("Support/make_benchmark_instance.py").path,
                folder.appendingPathComponent("source.json").path, "\(divisor)",
            ]
        )
        try """
        source: {kind: file, file: source.json}
        target: {kind: file, file: target.yaml, create: \(create), regionId: cn-shanghai, iotInstanceId: iot-bench}

        """.write(to: folder.appendingPathComponent("migration.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    /// Starts `iotbridge` in `folder`.
    static func start(_ arguments: [String], in folder: URL) throws -> (Process, OutputCollector, OutputCollector) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Support.binary!)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdout = OutputCollector()
        let stderr = OutputCollector()
        stdout.attach(out)
        stderr.attach(err)
        try process.run()
        return (process, stdout, stderr)
    }

    /// Runs `iotbridge` to the end.
    static func run(_ arguments: [String], in folder: URL) async throws -> (Int32, String, String) {
        let (process, stdout, stderr) = try Self.start(arguments, in: folder)
        let deadline = ContinuousClock.now + .seconds(240)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        await ChildProcess.waitUntilExit(process)
        try await stdout.waitForEnd()
        try await stderr.waitForEnd()
        return (process.terminationStatus, stdout.text, stderr.text)
    }

    @Test(.enabled(if: Support.binary != nil))
    func killMidRunLeavesAValidFileThatResumeCompletes() async throws {
        let folder = try await Self.workspace(divisor: 2)
        var (rc, out, err) = try await Self.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"], in: folder)
        #expect(rc == 0, "\(err)")
        let total = Int(out.firstMatch(of: /(\d+) steps/)?.output.1 ?? "") ?? 0
        #expect(total > 1_200, "\(out)")

        // Kill it once the first batch (250 steps) is surely committed, and long before the end: a loaded machine
        // keeps running between the progress line and the SIGKILL, so the kill comes with most of the steps left.
        let (process, _, stderr) = try Self.start(["migrate", "run", "--plan", "plan.yaml"], in: folder)
        #expect(try await stderr.wait(for: "[320/"))
        kill(process.processIdentifier, SIGKILL)
        await ChildProcess.waitUntilExit(process)
        #expect(process.terminationReason == .uncaughtSignal, "the run ended before the kill; make the instance larger")

        // The file is valid YAML and holds what was committed; the journal never claims more than that.
        let killed = try await FileBackend(path: folder.appendingPathComponent("target.yaml").path).exportSnapshot(products: [])
        #expect(!killed.consumerGroups.isEmpty)
        #expect(Support.duplicates(killed).isEmpty)

        (rc, out, err) = try await Self.run(["migrate", "run", "--plan", "plan.yaml"], in: folder)
        #expect(rc == 0, "\(err)")
        (rc, out, err) = try await Self.run(["migrate", "verify", "--plan", "plan.yaml"], in: folder)
        #expect(rc == 0, "\(out)\(err)")
        #expect(out.contains("\(total) validated, 0 mismatched, 0 missing"), "\(out)")
        let final = try await FileBackend(path: folder.appendingPathComponent("target.yaml").path).exportSnapshot(products: [])
        #expect(Support.duplicates(final).isEmpty, "resume created something twice")
    }

    @Test(.enabled(if: Support.binary != nil))
    func aMissingTargetNeedsCreateAndCommentsAreWarnedAboutOnce() async throws {
        let folder = try await Self.workspace(divisor: 50, create: false)
        var (rc, out, err) = try await Self.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"], in: folder)
        #expect(rc == 2)
        #expect(err.contains("migration.yaml:2:"), "\(err)")
        #expect(err.contains("target.yaml' does not exist; write it with `iotbridge instance export`, or add `create: true`"))

        // An existing target with comments of its own: the first rewrite warns, once.
        let target = folder.appendingPathComponent("target.yaml").path
        try Support.copyEmptyExport(to: target)
        let text = try String(contentsOfFile: target, encoding: .utf8)
        try (text + "# my notes about this instance\n").write(toFile: target, atomically: true, encoding: .utf8)
        (rc, out, err) = try await Self.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"], in: folder)
        #expect(rc == 0, "\(err)")
        (rc, out, err) = try await Self.run(["migrate", "run", "--plan", "plan.yaml"], in: folder)
        #expect(rc == 0, "\(err)")
        #expect(err.components(separatedBy: "drops its comments").count == 2, "\(err)")
        _ = out
    }
}
