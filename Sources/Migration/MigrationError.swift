//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

/// A migration failure: a stable code, a message a person can act on, and where it happened.
///
/// Messages never contain a secret: config secrets are `${ENV}` references and only their names are quoted.
public struct MigrationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added, so `switch` over it with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case config
            case yaml
            case invalidPlan = "invalid-plan"
            case stalePlan = "stale-plan"
            case unreachable
            case authentication
            case throttled
            case api
            case notFound = "not-found"
            case conflict
            case journal
            case verifyMismatch = "verify-mismatch"
            case assessmentBlocked = "assessment-blocked"
            case runInProgress = "run-in-progress"
        }

        private let base: Base
        private init(base: Base) { self.base = base }

        /// migration.yaml is missing a value or holds a literal secret.
        public static let config = Code(base: .config)
        /// A YAML file does not parse or does not fit the expected shape.
        public static let yaml = Code(base: .yaml)
        /// The plan was edited into something that cannot run.
        public static let invalidPlan = Code(base: .invalidPlan)
        /// The source changed since the plan was made.
        public static let stalePlan = Code(base: .stalePlan)
        /// The OpenAPI endpoint cannot be reached.
        public static let unreachable = Code(base: .unreachable)
        /// The AccessKey pair was rejected (`SignatureDoesNotMatch`, `InvalidAccessKeyId…`).
        public static let authentication = Code(base: .authentication)
        /// Still throttled after every retry.
        public static let throttled = Code(base: .throttled)
        /// The API answered with an error.
        public static let api = Code(base: .api)
        /// A resource the step needs does not exist.
        public static let notFound = Code(base: .notFound)
        /// The target holds a resource of the same name in a different form.
        public static let conflict = Code(base: .conflict)
        /// The state store failed or disagrees with the plan.
        public static let journal = Code(base: .journal)
        /// `verify` found mismatched or missing resources.
        public static let verifyMismatch = Code(base: .verifyMismatch)
        /// The pre-migration assessment found a product that cannot migrate, and `--allow-blocked` does not name it.
        public static let assessmentBlocked = Code(base: .assessmentBlocked)
        /// Another run of the same migration holds the run lock of the shared journal.
        public static let runInProgress = Code(base: .runInProgress)

        /// The code as a short, stable string (for logs and exit messages), e.g. `stale-plan`.
        public var description: String { self.base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do.
    public var message: String
    /// The plan step the failure belongs to, if any.
    public var step: String?
    /// The file and line the failure points at, if any (`plan.yaml:42`).
    public var location: String?
    /// Every problem of a file with its line and caret (`migration.yaml`); empty for other failures.
    public var diagnostics: [Diagnostic]

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        step: String? = nil,
        location: String? = nil,
        diagnostics: [Diagnostic] = []
    ) {
        self.code = code
        self.message = message
        self.step = step
        self.location = location
        self.diagnostics = diagnostics
    }

    /// The same error, attributed to a step.
    func at(step: String) -> MigrationError {
        var copy = self
        copy.step = copy.step ?? step
        return copy
    }

    /// `location: step S: message [code]`.
    public var description: String {
        var prefix = ""
        if let location = self.location { prefix += "\(location): " }
        if let step = self.step { prefix += "step \(step): " }
        return "\(prefix)\(self.message) [\(self.code)]"
    }
}
