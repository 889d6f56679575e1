//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import PostgresNIO
import PostgresStateStore
import StateStore
import Testing

/// The tests' logger: errors only (the pool logs every refused connection at info).
let testLogger: Logger = {
    var logger = Logger(label: "test.postgres")
    logger.logLevel = .error
    return logger
}()

/// The stores the contract tests run against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// SQLite always; PostgreSQL when `IOTBRIDGE_POSTGRES_URL` is set (scripts/test.sh starts a server).
    static var available: [StoreKind] {
        TestPostgres.location == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    var testDescription: String { self.rawValue }

    /// A fresh, empty store of this kind (PostgreSQL: in a database of its own).
    func open() async throws -> TestStore {
        switch self {
        case .sqlite:
            let folder = try StateFolder()
            return TestStore(base: try folder.open(), resources: folder)
        case .postgres:
            let store = try await TestPostgres.freshStore()
            return TestStore(base: store, resources: TestPostgres.Runner(store))
        }
    }
}

extension StoreKind {
    /// A fresh store of this kind as its journal, registry and outbox, and what keeps it alive (the folder or the
    /// pool's runner).
    func openStateStore() async throws -> (any StateStore & InstanceRegistryStore & EventOutbox, any Sendable) {
        switch self {
        case .sqlite:
            let folder = try StateFolder()
            return (try folder.open(), folder)
        case .postgres:
            // These tests are about the contract, not latency: a loaded CI machine once took over 10 s for a commit.
            let store = try PostgresClaimStore(
                location: try await TestPostgres.freshDatabase(),
                operationTimeout: .seconds(60),
                logger: testLogger
            )
            return (store, TestPostgres.Runner(store))
        }
    }
}

/// The test server, from `IOTBRIDGE_POSTGRES_URL` (postgres://USER:PASSWORD@HOST:PORT/DATABASE).
enum TestPostgres {
    /// The server's location (with the password), nil when the variable is not set.
    static let location: PostgresLocation? = {
        guard let url = ProcessInfo.processInfo.environment["IOTBRIDGE_POSTGRES_URL"], !url.isEmpty else {
            return nil
        }
        let (bare, password) = PostgresLocation.separatingPassword(url)
        return try? PostgresLocation(url: bare, password: password)
    }()

    /// Creates an empty database named `iotbridge_test_…` and returns its location. Each test gets its own, so
    /// that tests run in parallel; the test cluster is thrown away at the end of the run.
    static func freshDatabase() async throws -> PostgresLocation {
        guard var location = Self.location else { throw TestPostgresMissing() }
        let name = "iotbridge_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let connection = try await Self.connect(to: location, id: 1)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: testLogger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        location.database = name
        return location
    }

    /// A connection of its own to `location`'s database (plain TCP, as the test server listens).
    static func connect(to location: PostgresLocation, id: Int) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: .init(
                host: location.host,
                port: location.port,
                username: location.user,
                password: location.password,
                database: location.database,
                tls: .disable
            ),
            id: id,
            logger: testLogger
        )
    }

    /// A store in a fresh database; run it with ``Runner``.
    static func freshStore() async throws -> PostgresClaimStore {
        try PostgresClaimStore(location: try await Self.freshDatabase(), operationTimeout: .seconds(60), logger: testLogger)
    }

    /// Runs a store's pool until released.
    final class Runner: Sendable {
        let task: Task<Void, Never>

        init(_ store: PostgresClaimStore) {
            self.task = Task { await store.run() }
        }

        deinit {
            self.task.cancel()
        }
    }
}

/// `IOTBRIDGE_POSTGRES_URL` is not set.
struct TestPostgresMissing: Error {}

/// A store under test with what keeps it alive (its folder, or the task running its pool).
final class TestStore: ClaimStore, Sendable {
    let base: any ClaimStore
    let resources: any Sendable

    init(base: any ClaimStore, resources: any Sendable) {
        self.base = base
        self.resources = resources
    }

    func claim(_ requests: [ClaimRequest], options: ClaimOptions) async throws -> [ClaimResult] {
        try await self.base.claim(requests, options: options)
    }

    func record(_ updates: [ClaimUpdate]) async throws {
        try await self.base.record(updates)
    }

    func abandon(_ keys: [ClaimKey], owner: String) async throws {
        try await self.base.abandon(keys, owner: owner)
    }

    func renewLeases(owner: String, until leaseUntil: Int64) async throws {
        try await self.base.renewLeases(owner: owner, until: leaseUntil)
    }

    func expire(createdBefore: Int64, maxEntries: Int, now: Int64) async throws -> ClaimExpiry {
        try await self.base.expire(createdBefore: createdBefore, maxEntries: maxEntries, now: now)
    }

    func claimCount() async throws -> Int {
        try await self.base.claimCount()
    }
}
