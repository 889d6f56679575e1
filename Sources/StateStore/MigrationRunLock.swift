//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A store that several processes share can make one run of a migration exclusive: two `migrate run`s of the
/// same plan against one store must not both execute steps (one would create what the other is creating).
///
/// The PostgreSQL store implements it with a session advisory lock; the SQLite journal does not (one file is
/// normally used by one operator on one machine).
public protocol MigrationRunLocking: Sendable {
    /// Takes the run lock of `migrationId` for `holder` (a person-readable "who": command, pid, host).
    ///
    /// - Parameters:
    ///   - wait: when another run holds the lock, wait for it (calling `waiting` once with the holder) rather
    ///     than throw ``MigrationRunBusy``.
    /// - Returns: the held lock; ``MigrationRunLease/release()`` ends it (so does the end of the process).
    func lockMigrationRun(
        migrationId: String,
        holder: String,
        wait: Bool,
        waiting: @escaping @Sendable (String) -> Void
    ) async throws -> any MigrationRunLease
}

/// A held run lock.
public protocol MigrationRunLease: Sendable {
    /// Releases the lock; idempotent.
    func release() async
}

/// Another run holds the migration's run lock.
public struct MigrationRunBusy: Error, Sendable, Hashable, CustomStringConvertible {
    /// The migration.
    public var migrationId: String
    /// Who holds it, as the holder described itself (and where it connected from).
    public var holder: String

    /// Creates the error.
    public init(migrationId: String, holder: String) {
        self.migrationId = migrationId
        self.holder = holder
    }

    /// A sentence a person can act on.
    public var description: String {
        "migration \(self.migrationId) is being run by \(self.holder); wait for it to finish, or pass --wait"
    }
}
