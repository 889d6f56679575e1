//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import PostgresStateStore
import StateStore
import Synchronization
import Testing

/// The run lock of a migration on PostgreSQL: two stores on one database stand for two `migrate run` processes.
@Suite struct PostgresRunLockTests {
    /// Two stores on one fresh database, and what keeps them running.
    static func twoStores() async throws -> (PostgresClaimStore, PostgresClaimStore, any Sendable) {
        let location = try await TestPostgres.freshDatabase()
        let first = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
        let second = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
        return (first, second, [TestPostgres.Runner(first), TestPostgres.Runner(second)])
    }

    @Test(.enabled(if: TestPostgres.location != nil))
    func aSecondRunIsRefusedNamingTheHolderUntilTheFirstReleases() async throws {
        let (first, second, resources) = try await Self.twoStores()
        defer { _ = resources }
        let held = try await first.lockMigrationRun(migrationId: "m1", holder: "migrate run pid 11@a", wait: false) { _ in }
        do {
            _ = try await second.lockMigrationRun(migrationId: "m1", holder: "migrate run pid 22@b", wait: false) { _ in }
            Issue.record("the second run took a held lock")
        } catch let busy as MigrationRunBusy {
            #expect(busy.migrationId == "m1")
            #expect(busy.holder.contains("migrate run pid 11@a"), "\(busy.holder)")
            #expect(busy.description.contains("--wait"))
        }
        // Another migration is not excluded.
        let other = try await second.lockMigrationRun(migrationId: "m2", holder: "migrate run pid 22@b", wait: false) { _ in }
        await other.release()
        await held.release()
        let next = try await second.lockMigrationRun(migrationId: "m1", holder: "migrate run pid 22@b", wait: false) { _ in }
        await next.release()
        await next.release()
    }

    @Test(.enabled(if: TestPostgres.location != nil))
    func aWaitingRunTakesTheLockOnceTheHolderReleasesIt() async throws {
        let (first, second, resources) = try await Self.twoStores()
        defer { _ = resources }
        let held = try await first.lockMigrationRun(migrationId: "m1", holder: "migrate run pid 11@a", wait: false) { _ in }
        let toldHolder = Mutex<String?>(nil)
        let waiter = Task {
            try await second.lockMigrationRun(migrationId: "m1", holder: "migrate run pid 22@b", wait: true) { holder in
                toldHolder.withLock { $0 = holder }
            }
        }
        // The waiter says whom it waits for, and does not get the lock while it is held.
        let deadline = ContinuousClock.now + .seconds(10)
        while toldHolder.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(toldHolder.withLock { $0 }?.contains("pid 11@a") == true)
        await held.release()
        let taken = try await waiter.value
        await taken.release()
    }
}
