//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

/// A database of its own on the test PostgreSQL server (`IOTBRIDGE_POSTGRES_URL`), made with Debian's `psql`.
struct PostgresTestDatabase {
    /// The database's name.
    let name: String
    /// The server's URL parts.
    let user: String
    let password: String
    let hostAndPort: String

    /// Creates an empty database named after `label`.
    init(_ label: String, directory: TemporaryDirectory) async throws {
        let url = try #require(TestEnvironment.postgresURL)
        let components = try #require(URLComponents(string: url))
        self.user = try #require(components.user)
        self.password = components.password ?? ""
        self.hostAndPort = "\(components.host ?? "127.0.0.1"):\(components.port ?? 5432)"
        let safe = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        self.name = "it_" + String(safe) + "_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let result = try await ManagedProcess.run(
            "/usr/bin/psql",
            [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(self.name)"],
            outputDirectory: directory
        )
        guard result.status == 0 else {
            throw IntegrationTestError("psql CREATE DATABASE \(self.name) failed: \(result.stderr)")
        }
    }

    /// The `state:` value of bridge.yaml: the password as `${PG_PW}` (see ``environment``).
    var stateURL: String { "postgres://\(self.user):${PG_PW}@\(self.hostAndPort)/\(self.name)" }

    /// The environment a bridge using ``stateURL`` needs.
    var environment: [String: String] { ["PG_PW": self.password] }

    /// Runs `pg_ctl` on the server through the test command's wrapper (stop, start, restart).
    static func control(_ action: String, directory: TemporaryDirectory) async throws {
        let result = try await ManagedProcess.run(
            try #require(TestEnvironment.postgresCtl),
            [action],
            // pg_ctl itself gives up after 120 s (a shutdown checkpoint on a loaded machine can take long).
            timeout: .seconds(150),
            outputDirectory: directory
        )
        guard result.status == 0 else {
            throw IntegrationTestError("pgctl \(action) failed: \(result.stdout) \(result.stderr)")
        }
    }
}
