//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import PostgresStateStore
import Testing

/// `state: postgres://…` in migration.yaml: the checks of bridge.yaml's `state:`, at `file:line:col`, and the
/// password only ever from the environment.
@Suite("migration.yaml state: postgres://")
struct MigrationConfigPostgresStateTests {
    static func config(state: String) -> String {
        MigrationConfigStrictTests.valid + "state: \(state)\n"
    }

    @Test("the password comes from the environment and is in no printable form")
    func passwordFromTheEnvironment() throws {
        setenv("IOTBRIDGE_TEST_STATE_PASSWORD", "s3cret-Value", 1)
        let (result, _) = try MigrationConfigStrictTests.load(
            Self.config(state: "postgres://bridge:${IOTBRIDGE_TEST_STATE_PASSWORD}@db.internal:6432/iotbridge?sslmode=require")
        )
        let config = try result.get()
        let postgres = try #require(config.postgres)
        #expect(postgres.password == "s3cret-Value" && postgres.port == 6432 && postgres.database == "iotbridge")
        #expect(config.state == "postgres://bridge@db.internal:6432/iotbridge?sslmode=require")
        #expect(!"\(config)".contains("s3cret-Value"))
        let encoded = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        #expect(!encoded.contains("s3cret-Value"))
    }

    @Test("a file path stays a SQLite journal")
    func filePath() throws {
        let (result, folder) = try MigrationConfigStrictTests.load(Self.config(state: "journal.sqlite"))
        let config = try result.get()
        #expect(config.postgres == nil)
        #expect(config.state == folder.appendingPathComponent("journal.sqlite").path)
    }

    @Test("a literal password is refused at the line of state:")
    func literalPassword() throws {
        let output = try MigrationConfigStrictTests.problems(Self.config(state: "postgres://bridge:hunter2@db/iotbridge"))
        #expect(output.contains("migration.yaml:10:8: error: "), "\(output)")
        #expect(output.contains("must be an environment reference"), "\(output)")
        let message = output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(!message.contains("hunter2"), "the message never repeats the password: \(message)")
    }

    @Test("an unset variable, a missing database and an unknown sslmode are each named")
    func badURLs() throws {
        unsetenv("IOTBRIDGE_TEST_UNSET_PASSWORD")
        var output = try MigrationConfigStrictTests.problems(
            Self.config(state: "postgres://bridge:${IOTBRIDGE_TEST_UNSET_PASSWORD}@db/iotbridge")
        )
        #expect(output.contains("migration.yaml:10:8: error: the environment variable IOTBRIDGE_TEST_UNSET_PASSWORD"), "\(output)")
        output = try MigrationConfigStrictTests.problems(Self.config(state: "postgres://bridge@db:5432/"))
        #expect(output.contains("names no database"), "\(output)")
        output = try MigrationConfigStrictTests.problems(Self.config(state: "postgres://bridge@db/iotbridge?sslmode=maybe"))
        #expect(output.contains("sslmode 'maybe' is not one of disable, prefer, require, verify-ca, verify-full"), "\(output)")
    }

    @Test("--state takes a URL with the same checks")
    func stateOption() throws {
        setenv("IOTBRIDGE_TEST_STATE_PASSWORD", "s3cret-Value", 1)
        let location = try JournalLocation(option: "postgres://bridge:${IOTBRIDGE_TEST_STATE_PASSWORD}@db/iotbridge")
        #expect(location.description == "postgres://bridge@db:5432/iotbridge")
        #expect(try JournalLocation(option: "j.sqlite") == .sqlite(path: "j.sqlite"))
        #expect(throws: MigrationError.self) { try JournalLocation(option: "postgres://bridge:pw@db/iotbridge") }
    }
}
