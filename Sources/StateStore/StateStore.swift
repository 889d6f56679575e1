//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Where migrations keep their journal: one protocol, SQLite first (``SQLiteStateStore``).
///
/// Every method is `async`: implementations do their blocking I/O off the cooperative thread pool.
public protocol StateStore: Sendable {
    /// Every entry of a migration, in plan order.
    func entries(migrationId: String) async throws -> [JournalEntry]
    /// Writes an entry and appends its state change to the event outbox, atomically.
    func save(_ entry: JournalEntry) async throws
    /// Writes an entry and appends `events` to the migration-status outbox (``InstanceRegistryStore/commit(_:)``'s
    /// rules: sequences assigned, registry updates applied), all in one transaction: a step's event commits with it.
    func save(_ entry: JournalEntry, events: [OutboxDraft]) async throws
    /// The outbox of a migration, in sequence order.
    func events(migrationId: String) async throws -> [StepEvent]
    /// A value recorded for a migration (e.g. the plan fingerprint it runs).
    func metadata(migrationId: String, key: String) async throws -> String?
    /// Records a value for a migration.
    func setMetadata(migrationId: String, key: String, value: String) async throws
}

/// A state-store failure, with the file it concerns.
public struct StateStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The store's path.
    public var path: String
    /// What failed.
    public var message: String
    /// What to do about it, when the message does not say it already.
    public var advice: String?

    /// The advice of most failures: the file itself is the usual suspect.
    public static let fileAdvice = "check that the file is writable and not held by another run"

    /// Creates an error.
    public init(path: String, message: String, advice: String? = Self.fileAdvice) {
        self.path = path
        self.message = message
        self.advice = advice
    }

    /// A sentence a person can act on.
    public var description: String {
        let sentence = "state store \(self.path): \(self.message)"
        return self.advice.map { "\(sentence) — \($0)" } ?? sentence
    }
}
