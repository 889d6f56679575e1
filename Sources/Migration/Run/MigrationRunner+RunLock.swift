//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore

extension MigrationRunner {
    /// Runs `body` (a `run`, `clean` or `rollback`) holding the journal's run lock of this migration, when the
    /// journal is shared (PostgreSQL): a second command of the same plan is refused, naming the holder, or waits
    /// with `wait`. A SQLite journal has no run lock.
    ///
    /// - Parameters:
    ///   - command: what is run, for the holder's description (`migrate run`).
    ///   - waiting: called once with the holder when `wait` makes the command wait.
    /// - Throws: ``MigrationError`` `.runInProgress` when another run holds the lock and `wait` is false.
    public func exclusively<T>(
        command: String,
        wait: Bool,
        waiting: @escaping @Sendable (String) -> Void = { _ in },
        _ body: () async throws -> T
    ) async throws -> T {
        guard let locking = self.store as? any MigrationRunLocking else { return try await body() }
        let holder = "\(command) pid \(ProcessInfo.processInfo.processIdentifier)@\(Self.hostName)"
        let lease: any MigrationRunLease
        do {
            lease = try await locking.lockMigrationRun(
                migrationId: self.plan.migrationId,
                holder: holder,
                wait: wait,
                waiting: waiting
            )
        } catch let busy as MigrationRunBusy {
            throw MigrationError(.runInProgress, busy.description)
        } catch {
            throw MigrationError(.journal, "\(error)")
        }
        do {
            let result = try await body()
            await lease.release()
            return result
        } catch {
            await lease.release()
            throw error
        }
    }

    /// This machine's name, for the holder's description: `gethostname`, not Foundation's `hostName`, which may
    /// wait on a DNS look-up.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
