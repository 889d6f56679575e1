//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One progress report of `migrate run`.
public struct MigrationProgress: Sendable, Hashable {
    /// What just happened to the current step.
    public enum Phase: String, Sendable, Hashable {
        /// The step started.
        case started
        /// The step finished now.
        case finished
        /// The step was done before (journal) or already on the target (plan).
        case skipped
        /// The step failed.
        case failed
    }

    /// Steps finished (done or skipped) so far.
    public var done: Int
    /// Steps in the plan.
    public var total: Int
    /// The current step's ID.
    public var stepId: String
    /// What happened.
    public var phase: Phase
    /// Seconds left, estimated from the steps this run executed; `nil` until one finished.
    public var etaSeconds: Double?

    /// Creates a report.
    public init(done: Int, total: Int, stepId: String, phase: Phase, etaSeconds: Double?) {
        self.done = done
        self.total = total
        self.stepId = stepId
        self.phase = phase
        self.etaSeconds = etaSeconds
    }
}

/// What `migrate run` did.
public struct RunSummary: Sendable, Hashable {
    /// Steps executed by this run.
    public var executed = 0
    /// Steps skipped because the journal had them done.
    public var resumed = 0
    /// Steps skipped because the target already held them.
    public var adopted = 0
    /// Resources this run created.
    public var created = 0
}

/// One row of `migrate status`.
public struct StepStatus: Sendable, Hashable {
    /// The step ID.
    public var stepId: String
    /// The action.
    public var action: String
    /// The journal state (pending when the journal has no entry).
    public var state: String
    /// The target ID, when known.
    public var targetId: String?
    /// Whether the run created it.
    public var created: Bool
    /// Attempts so far.
    public var attempts: Int
    /// The last error.
    public var lastError: String?
    /// Whether the step is in the plan (journal entries of steps edited out of the plan are listed too).
    public var inPlan: Bool
}

/// One consumer group of a migration's ID map.
public struct ConsumerGroupIdMapEntry: Codable, Sendable, Hashable {
    /// The group's name on the target: what rule files use.
    public var name: String
    /// The target's ID, once known.
    public var targetId: String?
    /// The source group's name, for recreated groups.
    public var sourceName: String?
    /// The source group's ID, for recreated groups.
    public var sourceId: String?
}
