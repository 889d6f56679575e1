//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One step of one migration, as the journal holds it: the step's current status record.
public struct JournalEntry: Codable, Sendable, Hashable {
    /// The migration the step belongs to.
    public var migrationId: String
    /// The plan step ID, e.g. `rule:temp_alarm`.
    public var stepId: String
    /// The step's position in the plan.
    public var ordinal: Int
    /// The plan action, e.g. `createRule`.
    public var action: String
    /// The resource's name, for people.
    public var name: String
    /// The lifecycle state (the Migration module's `StepState` raw value).
    public var state: String
    /// The ID the target returned, once known.
    public var targetId: String?
    /// Whether this migration created the resource (and `clean` may delete it), as opposed to adopting it.
    public var created: Bool
    /// How many times the step was started.
    public var attempts: Int
    /// The last failure's message; never holds a secret.
    public var lastError: String?
    /// Epoch milliseconds of the last change.
    public var updatedAt: Int64

    /// Creates an entry.
    public init(
        migrationId: String,
        stepId: String,
        ordinal: Int,
        action: String,
        name: String,
        state: String,
        targetId: String? = nil,
        created: Bool = false,
        attempts: Int = 0,
        lastError: String? = nil,
        updatedAt: Int64 = 0
    ) {
        self.migrationId = migrationId
        self.stepId = stepId
        self.ordinal = ordinal
        self.action = action
        self.name = name
        self.state = state
        self.targetId = targetId
        self.created = created
        self.attempts = attempts
        self.lastError = lastError
        self.updatedAt = updatedAt
    }
}

/// One change of a step's state, appended in the same transaction as the change: the outbox a later publisher
/// turns into migration-status events.
public struct StepEvent: Codable, Sendable, Hashable {
    /// Monotonic per store; events are delivered in this order.
    public var sequence: Int64
    /// The migration.
    public var migrationId: String
    /// The step.
    public var stepId: String
    /// The new state.
    public var state: String
    /// The target ID, when known.
    public var targetId: String?
    /// Epoch milliseconds.
    public var at: Int64
    /// Whether a publisher has delivered it.
    public var delivered: Bool

    /// Creates an event (as a store reads it back).
    public init(
        sequence: Int64,
        migrationId: String,
        stepId: String,
        state: String,
        targetId: String?,
        at: Int64,
        delivered: Bool
    ) {
        self.sequence = sequence
        self.migrationId = migrationId
        self.stepId = stepId
        self.state = state
        self.targetId = targetId
        self.at = at
        self.delivered = delivered
    }
}
