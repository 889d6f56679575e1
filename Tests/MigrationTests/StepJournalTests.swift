//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration
import Testing

/// Transcripts of the step lifecycle: run, resume, clean, rollback.
@Suite struct StepJournalTests {
    @Test func freshStepRunsToDone() {
        var journal = StepJournal()
        #expect(journal.startRun() == .execute(resuming: false))
        #expect(journal.state == .requested)
        journal.succeeded(targetId: "G1", created: true)
        #expect(journal.state == .done)
        #expect(journal.targetId == "G1")
        #expect(journal.created)
        #expect(journal.attempts == 1)
        // A second run skips it and reuses the ID.
        #expect(journal.startRun() == .alreadyDone(targetId: "G1"))
        #expect(journal.attempts == 1)
    }

    @Test func killInsideAStepResumesAndLooksUp() {
        // The journal said `requested` when the process died.
        var journal = StepJournal(state: .requested, targetId: nil, created: false, attempts: 1, lastError: nil)
        #expect(journal.startRun() == .execute(resuming: true))
        #expect(journal.attempts == 2)
        journal.succeeded(targetId: "R7", created: false)
        #expect(journal.state == .done)
    }

    @Test func failureIsRecordedAndRetried() {
        var journal = StepJournal()
        _ = journal.startRun()
        journal.failed("CreateRule was throttled")
        #expect(journal.state == .failed)
        #expect(journal.lastError == "CreateRule was throttled")
        #expect(journal.startRun() == .execute(resuming: true))
        journal.succeeded(targetId: "R1", created: true)
        #expect(journal.lastError == nil)
    }

    @Test func cleanDeletesOnlyWhatTheRunCreated() {
        var created = StepJournal(state: .done, targetId: "G1", created: true, attempts: 1, lastError: nil)
        #expect(created.startClean(mayHaveCreated: true) == .delete(targetId: "G1"))
        #expect(created.state == .cleaning)
        created.cleaned()
        #expect(created.state == .cleaned)
        #expect(created.targetId == nil)
        // Idempotent: a second clean keeps it.
        #expect(created.startClean(mayHaveCreated: true) == .keep)

        var adopted = StepJournal(state: .done, targetId: "G2", created: false, attempts: 1, lastError: nil)
        #expect(adopted.startClean(mayHaveCreated: true) == .keep)
        #expect(adopted.state == .done)

        var pending = StepJournal()
        #expect(pending.startClean(mayHaveCreated: true) == .keep)
    }

    @Test func interruptedStepIsCleanedByName() {
        var journal = StepJournal(state: .requested, targetId: nil, created: false, attempts: 1, lastError: nil)
        #expect(journal.startClean(mayHaveCreated: true) == .delete(targetId: nil))
        var existing = StepJournal(state: .failed, targetId: nil, created: false, attempts: 1, lastError: "x")
        #expect(existing.startClean(mayHaveCreated: false) == .keep)
    }

    @Test func interruptedCleanIsFinishedByTheNextClean() {
        var journal = StepJournal(state: .cleaning, targetId: "D1", created: true, attempts: 1, lastError: nil)
        #expect(journal.startClean(mayHaveCreated: true) == .delete(targetId: "D1"))
        journal.cleaned()
        #expect(journal.state == .cleaned)
    }

    @Test func runAfterCleanStartsOver() {
        var journal = StepJournal(state: .cleaned, targetId: nil, created: false, attempts: 1, lastError: nil)
        #expect(journal.startRun() == .execute(resuming: false))
        #expect(journal.attempts == 2)
    }

    @Test func rollbackRestartsStoppedSourceRules() {
        var journal = StepJournal(state: .done, targetId: "9001", created: false, attempts: 1, lastError: nil)
        #expect(journal.startRestore() == .restart)
        journal.restored()
        #expect(journal.state == .restored)
        #expect(journal.startRestore() == .nothing)
        var never = StepJournal()
        #expect(never.startRestore() == .nothing)
    }
}
