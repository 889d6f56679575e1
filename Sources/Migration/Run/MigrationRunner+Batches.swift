//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import StateStore

/// Batches for backends that hold writes (export files): a step's `done` is journalled only after the commit
/// that made its effect durable. A kill between two commits leaves the file as of the last commit and the later
/// steps `requested`, which the next run completes by looking their resources up by name, as after any kill.
extension MigrationRunner {
    /// A journal entry waiting to be saved.
    struct JournalWrite {
        var journal: StepJournal
        var action: StepAction
        var stepId: String
        var name: String
        var ordinal: Int
        /// The migration-status events that commit with the entry.
        var events: [OutboxDraft]

        init(
            _ journal: StepJournal,
            action: StepAction,
            stepId: String,
            name: String,
            ordinal: Int,
            events: [OutboxDraft] = []
        ) {
            self.journal = journal
            self.action = action
            self.stepId = stepId
            self.name = name
            self.ordinal = ordinal
            self.events = events
        }
    }

    /// The entries held until the next commit, and when the batch began.
    struct HeldWrites {
        /// Whether a backend holds writes; when not, every entry is saved at once (nothing is ever held).
        var batching: Bool
        var entries: [JournalWrite] = []
        var since = ContinuousClock.now
    }

    /// The most steps one batch holds. An export file is rewritten whole at each commit, so a batch bounds both
    /// the rewrites (1,700 steps: 7) and the work a kill loses (redone by name lookup on resume).
    static var batchSteps: Int { 250 }
    /// The longest a batch stays open, so a slow run still reaches its file every few seconds.
    static var batchDuration: Duration { .seconds(2) }

    /// Starts batching on the backends that hold writes.
    func beginBatch() async -> HeldWrites {
        let batching = self.target.holdsWrites || self.source.holdsWrites
        if batching {
            await self.target.beginBatch()
            await self.source.beginBatch()
        }
        return HeldWrites(batching: batching)
    }

    /// Saves an entry now, or holds it until the batch's commit.
    func record(_ write: JournalWrite, held: inout HeldWrites) async throws {
        guard held.batching else {
            try await self.save(
                write.journal,
                action: write.action,
                stepId: write.stepId,
                name: write.name,
                ordinal: write.ordinal,
                events: write.events
            )
            return
        }
        held.entries.append(write)
        if held.entries.count >= Self.batchSteps || ContinuousClock.now - held.since >= Self.batchDuration {
            try await self.settle(&held)
        }
    }

    /// Commits both backends, then saves the held entries: durable effects first, journal second.
    func settle(_ held: inout HeldWrites) async throws {
        guard held.batching else { return }
        try await self.target.commit()
        try await self.source.commit()
        for write in held.entries {
            try await self.save(
                write.journal,
                action: write.action,
                stepId: write.stepId,
                name: write.name,
                ordinal: write.ordinal,
                events: write.events
            )
        }
        held.entries.removeAll()
        held.since = ContinuousClock.now
    }
}
