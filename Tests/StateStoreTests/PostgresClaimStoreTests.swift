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

/// What only the PostgreSQL store has: several stores (replicas) on one database, its schema migrations, its URL
/// and its failures. The shared contract is in ``ClaimStoreContractTests``.
@Suite struct PostgresClaimStoreTests {
    // MARK: replicas

    @Test(.enabled(if: TestPostgres.location != nil))
    func replicasClaimingOverlappingBatchesAtOnceClaimEachKeyOnce() async throws {
        let location = try await TestPostgres.freshDatabase()
        let replicas = try (0..<3).map { _ in try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger) }
        let runners = replicas.map(TestPostgres.Runner.init)
        // 1,200 keys; each replica claims all of them, in its own order, in batches of 100: every key is wanted by
        // three replicas at once, in batches that overlap in different orders (a deadlock if rows were locked
        // in request order).
        let keys = (0..<1_200).map { ClaimKey(key: ClaimStoreContractTests.key16($0), contentDigest: 1) }
        let claimed = try await withThrowingTaskGroup(of: [ClaimKey].self) { group in
            for (index, replica) in replicas.enumerated() {
                group.addTask {
                    var order = keys
                    order.shuffle()
                    var mine: [ClaimKey] = []
                    for batch in stride(from: 0, to: order.count, by: 100).map({ Array(order[$0..<$0 + 100]) }) {
                        let results = try await replica.claim(
                            batch.map { ClaimRequest(key: $0, upstream: "up-\(index)") },
                            options: by("R\(index)", at: 0, lease: 60_000)
                        )
                        for (key, result) in zip(batch, results) {
                            if case .claimed = result { mine.append(key) }
                        }
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.count == keys.count)
        #expect(Set(claimed) == Set(keys))
        #expect(try await replicas[0].claimCount() == keys.count)
        withExtendedLifetime(runners) {}
    }

    @Test(.enabled(if: TestPostgres.location != nil))
    func replicasStartingTogetherApplyTheSchemaOnce() async throws {
        let location = try await TestPostgres.freshDatabase()
        let replicas = try (0..<4).map { _ in try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger) }
        let runners = replicas.map(TestPostgres.Runner.init)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for replica in replicas {
                group.addTask { try await replica.claimCount() }
            }
            for try await count in group {
                #expect(count == 0)
            }
        }
        // One row per schema version (1: claims, 2: registry and outbox, 3: migration journal), each written once.
        #expect(try await Self.query(location, "SELECT count(*) FROM iotbridge_schema") == 3)
        withExtendedLifetime(runners) {}
    }

    @Test(.enabled(if: TestPostgres.location != nil))
    func aSchemaNewerThanThisBuildIsRefused() async throws {
        let location = try await TestPostgres.freshDatabase()
        do {
            let first = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
            let runner = TestPostgres.Runner(first)
            _ = try await first.claimCount()
            withExtendedLifetime(runner) {}
        }
        _ = try await Self.query(location, "INSERT INTO iotbridge_schema (version, summary) VALUES (99, 'future')")
        let store = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
        let runner = TestPostgres.Runner(store)
        let error = await #expect(throws: StateStoreError.self) { try await store.claimCount() }
        #expect(error?.message.contains("schema version 99, newer than this iotbridge knows") == true)
        withExtendedLifetime(runner) {}
    }

    // MARK: failures

    @Test func anUnreachableServerFailsWithinTheTimeoutNamingItWithoutThePassword() async throws {
        // A port nothing listens on: bound, then closed.
        let port = try Self.closedPort()
        let location = PostgresLocation(
            user: "bridge",
            password: "s3cret-pw",
            host: "127.0.0.1",
            port: port,
            database: "iotbridge"
        )
        let store = try PostgresClaimStore(
            location: location,
            operationTimeout: .seconds(2),
            logger: testLogger
        )
        let runner = TestPostgres.Runner(store)
        let started = ContinuousClock.now
        let error = await #expect(throws: StateStoreError.self) {
            try await store.claim(key(1), by("A", at: 0))
        }
        // Fails rather than hangs: a generous bound (a loaded 2-core machine took 15 s for the 2 s timeout once).
        #expect(started.duration(to: .now) < .seconds(40))
        let text = error?.description ?? ""
        #expect(text.hasPrefix("state store postgres://bridge@127.0.0.1:\(port)/iotbridge: claim "))
        #expect(!text.contains("s3cret-pw"))
        withExtendedLifetime(runner) {}
    }

    // MARK: location

    @Test func theURLsPasswordIsSeparatedAndNeverPrinted() throws {
        let (url, password) = PostgresLocation.separatingPassword(
            "postgres://bridge:${PG_PASSWORD}@db.internal:6432/iotbridge?sslmode=require"
        )
        #expect(url == "postgres://bridge@db.internal:6432/iotbridge?sslmode=require")
        #expect(password == "${PG_PASSWORD}")
        let location = try PostgresLocation(url: url, password: "s3cret")
        #expect(location.user == "bridge")
        #expect(location.host == "db.internal")
        #expect(location.port == 6432)
        #expect(location.database == "iotbridge")
        #expect(location.tls == .require)
        #expect(location.description == "postgres://bridge@db.internal:6432/iotbridge?sslmode=require")
        #expect(PostgresLocation.separatingPassword("postgres://bridge@db/x").password == nil)
    }

    @Test func defaultsArePort5432AndNoTLS() throws {
        let location = try PostgresLocation(url: "postgresql://bridge@db/iotbridge", password: nil)
        #expect(location.port == 5432)
        #expect(location.tls == .disable)
        #expect(location.description == "postgres://bridge@db:5432/iotbridge")
    }

    @Test(arguments: [
        ("postgres://bridge:pw@db/x", "must not contain the password itself"),
        ("postgres://db/x", "names no user"),
        ("postgres://bridge@db", "names no database"),
        ("postgres://bridge@db/x?sslmode=maybe", "sslmode 'maybe' is not one of disable, prefer, require"),
        ("postgres://bridge@db/x?timeout=3", "unknown URL parameter 'timeout'"),
    ])
    func badURLsAreRefusedWithTheReason(url: String, reason: String) {
        let error = #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: url, password: nil) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("pw@") == false)
    }

    // MARK: helpers

    /// Runs one statement in `location`'s database and returns the first column of the first row as a number.
    static func query(_ location: PostgresLocation, _ sql: String) async throws -> Int {
        let connection = try await TestPostgres.connect(to: location, id: 2)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        var value = 0
        for try await row in rows {
            value = (try? row.decode(Int.self)) ?? 0
        }
        return value
    }

    /// A loopback port that refuses connections.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
