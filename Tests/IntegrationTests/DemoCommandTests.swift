//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

extension IntegrationSuites {
    /// `iotbridge demo` as a newcomer runs it, in its short mode: the built binary, no configuration, everything
    /// in its own process on loopback. The report is what the demo observed (the simulator's ledger against the
    /// backend's file, the bridge's registry against the simulator's fleet), so these assertions fail when the
    /// bridge loses, duplicates or misplaces anything.
    @Suite(
        "Demo: a whole migration rehearsed on one machine",
        .serialized,
        .timeLimit(.minutes(3)),
        .enabled(if: TestEnvironment.binary != nil && TestEnvironment.openSSL != nil, "needs IOTBRIDGE_BIN and openssl (scripts/test.sh)")
    )
    struct DemoCommandTests {
        @Test("iotbridge demo --duration 20 --json: published > 0, 0 lost, 0 duplicates, registry right, an event per device, exit 0")
        func shortDemo() async throws {
            let folder = try TemporaryDirectory("demo")
            let devices = 200  // the default
            let result = try await ManagedProcess.run(
                try #require(TestEnvironment.binary),
                ["demo", "--duration", "20", "--json"],
                environment: ["TMPDIR": folder.path],
                timeout: .seconds(120),
                outputDirectory: folder
            )
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 1, "--json prints exactly one line on stdout: \(result.stdout)")
            let report = try #require(lines.last.flatMap { JSON(parsing: $0) }, "no JSON report; stderr: \(result.stderr)")
            let published = try #require(report["published"]?.int)
            #expect(published > 0)
            #expect(report["deliveredUnique"]?.int == published, "\(report)")
            #expect(report["lost"]?.int == 0, "\(report)")
            #expect(report["duplicates"]?.int == 0, "\(report)")
            #expect(report["registryCorrect"] == .bool(true), "\(report)")
            #expect((report["eventsEmitted"]?.int ?? 0) >= devices, "\(report)")
            #expect(report["devicesMigrated"]?.int == devices, "\(report)")
            #expect(result.status == 0, "stderr: \(result.stderr)")
            // The live display went to stderr with --json, and it names the steps.
            #expect(result.stderr.contains("grayscale batch 3"), "\(result.stderr)")
            #expect(result.stderr.contains("full migration"), "\(result.stderr)")
        }

        @Test("a bad option is an error naming it, exit 2")
        func badOption() async throws {
            let folder = try TemporaryDirectory("demo-usage")
            let result = try await ManagedProcess.run(
                try #require(TestEnvironment.binary),
                ["demo", "--duration", "3"],
                outputDirectory: folder
            )
            #expect(result.status == 2)
            #expect(result.stderr.hasPrefix("error: --duration 3"), "\(result.stderr)")
        }
    }
}
