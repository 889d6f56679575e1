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

/// The test PostgreSQL of scripts/test.sh.
enum TestPostgresServer {
    /// `postgres://USER:PASSWORD@HOST:PORT/DB`, nil when the variable is not set.
    static let url: String? = {
        let url = ProcessInfo.processInfo.environment["IOTBRIDGE_POSTGRES_URL"] ?? ""
        return url.isEmpty ? nil : url
    }()
}

/// Two `iotbridge migrate run` processes of one plan against one PostgreSQL journal (the test server of
/// scripts/test.sh) and the loopback OpenAPI server: the second is refused naming the first, a third with `--wait`
/// waits, and takes over once the first is killed; nothing is created twice.
@Suite(
    .enabled(if: Support.binary != nil, "the iotbridge binary is absent: build it or set IOTBRIDGE_BIN"),
    .enabled(if: TestPostgresServer.url != nil, "IOTBRIDGE_POSTGRES_URL is not set (scripts/test.sh sets it)"),
    .timeLimit(.minutes(5))
)
struct ConcurrentRunTests {
    /// The environment variable the configs name for the password, as an operator's would.
    static let passwordVariable = "IOTBRIDGE_TEST_JOURNAL_PASSWORD"

    /// Creates a database of its own with `psql` and returns `state:` for it, with the password as `${VAR}`.
    static func freshJournal() async throws -> String {
        let url = try #require(TestPostgresServer.url)
        let name = "iotbridge_journal_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let psql = try await ChildProcess.run("/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)"])
        try #require(psql.status == 0, "psql could not create the database: \(psql.stderr)")
        // postgres://USER:PASSWORD@HOST:PORT/DB → postgres://USER:${VAR}@HOST:PORT/name
        let scheme = try #require(url.range(of: "://"))
        let rest = url[scheme.upperBound...]
        let at = try #require(rest.lastIndex(of: "@"))
        let userInfo = rest[..<at]
        let colon = try #require(userInfo.firstIndex(of: ":"))
        setenv(Self.passwordVariable, String(userInfo[userInfo.index(after: colon)...]), 1)
        let hostAndPort = try #require(rest[at...].split(separator: "/").first)
        return "postgres://\(userInfo[..<colon]):${\(Self.passwordVariable)}\(hostAndPort)/\(name)"
    }

    @Test func aSecondRunIsRefusedAWaitingOneTakesOverAndNothingIsCreatedTwice() async throws {
        let workspace = try await MigrateCLITests.Workspace()
        let state = try await Self.freshJournal()
        let config = workspace.path("migration.yaml")
        // A long request timeout: the frozen call of the first run must outlast the second and third starting.
        let text = try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "requestTimeoutMilliseconds: 5000", with: "requestTimeoutMilliseconds: 90000")
        try (text + "\nstate: \(state)\n").write(toFile: config, atomically: true, encoding: .utf8)
        var (rc, _, err) = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
        #expect(rc == 0, "\(err)")

        // The first run stops at the server with the lock held: its first CreateRule call is applied, its answer
        // lost, and its next call waits at the server.
        try await workspace.server.faults(#"{"lose": {"action": "CreateRule", "after": 1, "mode": "503", "freeze": true}}"#)
        let (first, _, _) = try workspace.start(["migrate", "run", "--plan", "plan.yaml"])
        #expect(try await workspace.server.output.wait(for: "FROZEN "))

        (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
        #expect(rc == 2, "\(err)")
        #expect(err.split(separator: "\n").contains { $0.hasPrefix("error: migration ") }, "\(err)")
        #expect(err.contains("is being run by 'iotbridge migrate run pid \(first.processIdentifier)@"), "\(err)")
        #expect(err.contains("--wait"), "\(err)")
        #expect(!err.contains(try #require(ProcessInfo.processInfo.environment[Self.passwordVariable])))

        let (third, _, thirdErr) = try workspace.start(["migrate", "run", "--plan", "plan.yaml", "--wait"])
        #expect(try await thirdErr.wait(for: "waiting: the migration is being run by", timeout: .seconds(60)))
        #expect(third.isRunning, "the waiting run must not go ahead while the lock is held")

        // The holder dies; the server releases its lock with its connection, and the waiting run resumes.
        kill(first.processIdentifier, SIGKILL)
        await ChildProcess.waitUntilExit(first)
        try await workspace.server.faults("{}")
        let deadline = ContinuousClock.now + .seconds(120)
        while third.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        if third.isRunning { kill(third.processIdentifier, SIGKILL) }
        await ChildProcess.waitUntilExit(third)
        try await thirdErr.waitForEnd()
        #expect(third.terminationStatus == 0, "\(thirdErr.text)")

        let (target, _) = try await workspace.target()
        #expect(Support.duplicates(target).isEmpty)
        var out: String
        (rc, out, err) = try await workspace.run(["migrate", "verify", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(out)\(err)")
        #expect(out.contains("0 mismatched, 0 missing"), "\(out)")
        (rc, out, err) = try await workspace.run(["migrate", "status", "--plan", "plan.yaml"])
        #expect(rc == 0 && !out.contains("requested") && !out.contains("failed"), "\(out)\(err)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path("plan.yaml.journal.sqlite")), "the journal is in PostgreSQL")
    }
}
