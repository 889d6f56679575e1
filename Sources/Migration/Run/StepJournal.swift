//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The lifecycle of one plan step in the journal, as a value-type state machine.
///
/// ```
/// pending ──startRun──► requested ──succeeded──► done ──startClean──► cleaning ──cleaned──► cleaned
///                          │  ▲                    │                                       │
///                       failed│ startRun (resume)  └─startRestore─► restoring ──restored──► restored
///                          ▼  │
///                        failed
/// ```
///
/// `requested` is written before the first call to the target, so a kill inside a step leaves `requested`, and the
/// next run knows it must look the resource up before creating it.
public struct StepJournal: Sendable, Hashable {
    /// Where the step is.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Not started.
        case pending
        /// Started; the target may or may not hold the resource yet.
        case requested
        /// Finished; `targetId` holds what the target returned.
        case done
        /// The last attempt failed; `lastError` says why.
        case failed
        /// `clean` started deleting it.
        case cleaning
        /// `clean` deleted it (or found it gone).
        case cleaned
        /// `rollback` started restarting the source rule.
        case restoring
        /// `rollback` restarted the source rule.
        case restored
    }

    /// What `run` must do with the step.
    public enum RunDecision: Sendable, Hashable {
        /// Execute it; when `resuming`, an earlier attempt may have created part of it.
        case execute(resuming: Bool)
        /// It is done already: reuse the recorded ID.
        case alreadyDone(targetId: String?)
    }

    /// What `clean` must do with the step.
    public enum CleanDecision: Sendable, Hashable {
        /// Delete the resource; with a `nil` ID, look it up by name first (a kill may have hit before the journal
        /// learnt the ID).
        case delete(targetId: String?)
        /// Leave it: never created by this migration, or already gone.
        case keep
    }

    /// What `rollback` must do with a source-stop step.
    public enum RestoreDecision: Sendable, Hashable {
        /// Start the source resource again.
        case restart
        /// Nothing was stopped.
        case nothing
    }

    /// The current state.
    public private(set) var state: State
    /// The target ID, once known.
    public private(set) var targetId: String?
    /// Whether this migration created the resource.
    public private(set) var created: Bool
    /// How many times `run` started the step.
    public private(set) var attempts: Int
    /// The last failure.
    public private(set) var lastError: String?

    /// A fresh, pending step.
    public init() {
        self.init(state: .pending, targetId: nil, created: false, attempts: 0, lastError: nil)
    }

    /// A step as the journal recorded it.
    public init(state: State, targetId: String?, created: Bool, attempts: Int, lastError: String?) {
        self.state = state
        self.targetId = targetId
        self.created = created
        self.attempts = attempts
        self.lastError = lastError
    }

    /// `run` reached the step.
    public mutating func startRun() -> RunDecision {
        switch self.state {
        case .done:
            return .alreadyDone(targetId: self.targetId)
        case .pending, .cleaned, .restored:
            self.state = .requested
            self.attempts += 1
            self.created = false
            self.targetId = nil
            return .execute(resuming: false)
        case .requested, .failed, .cleaning, .restoring:
            self.state = .requested
            self.attempts += 1
            return .execute(resuming: true)
        }
    }

    /// The step's calls all succeeded.
    public mutating func succeeded(targetId: String?, created: Bool) {
        precondition(self.state == .requested, "\(#function) in state \(self.state)")
        self.state = .done
        self.targetId = targetId
        self.created = self.created || created
        self.lastError = nil
    }

    /// A call of the step failed.
    public mutating func failed(_ message: String) {
        precondition(self.state == .requested, "\(#function) in state \(self.state)")
        self.state = .failed
        self.lastError = message
    }

    /// `clean` reached the step; `created` is what the caller knows beyond the journal (e.g. a `requested` step
    /// of a run killed after the create call).
    public mutating func startClean(mayHaveCreated: Bool) -> CleanDecision {
        switch self.state {
        case .done where self.created, .cleaning:
            self.state = .cleaning
            return .delete(targetId: self.targetId)
        case .requested, .failed:
            guard mayHaveCreated else { return .keep }
            self.state = .cleaning
            return .delete(targetId: self.targetId)
        case .done, .pending, .cleaned, .restoring, .restored:
            return .keep
        }
    }

    /// `clean` deleted the resource, or found it gone.
    public mutating func cleaned() {
        precondition(self.state == .cleaning, "\(#function) in state \(self.state)")
        self.state = .cleaned
        self.targetId = nil
        self.created = false
    }

    /// `rollback` reached a source-stop step.
    public mutating func startRestore() -> RestoreDecision {
        switch self.state {
        case .done, .restoring, .requested, .failed:
            // A requested/failed stop may have gone through before the kill; starting again is harmless.
            self.state = .restoring
            return .restart
        case .pending, .cleaning, .cleaned, .restored:
            return .nothing
        }
    }

    /// `rollback` restarted the source resource.
    public mutating func restored() {
        precondition(self.state == .restoring, "\(#function) in state \(self.state)")
        self.state = .restored
    }
}
