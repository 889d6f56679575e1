//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// What a plan step does to the target (or, for `stopSourceRule` / `stopSourceParser`, to the source).
public enum StepAction: String, Codable, Sendable, Hashable, CaseIterable {
    /// Recreate a consumer group; the target assigns the new ID.
    case createConsumerGroup
    /// Create a new-version destination.
    case createDestination
    /// Create a new-version data source with its topics.
    case createDataSource
    /// Create a new-version parser: script, data source, destinations, start.
    case createParser
    /// Create (or complete) an AMQP subscribe relation; also the target of MNS/HTTP2 translations.
    case createSubscription
    /// Create an old-version rule with its actions and error action, then start it.
    case createRule
    /// Stop a migrated rule on the source.
    case stopSourceRule
    /// Stop a migrated parser on the source.
    case stopSourceParser

    /// The prefix of the step IDs and symbols of this action.
    var prefix: String {
        switch self {
        case .createConsumerGroup: "cg"
        case .createDestination: "dest"
        case .createDataSource: "ds"
        case .createParser: "parser"
        case .createSubscription: "sub"
        case .createRule: "rule"
        case .stopSourceRule: "stop-rule"
        case .stopSourceParser: "stop-parser"
        }
    }

    /// Whether the step creates something on the target that `clean` must delete.
    var createsOnTarget: Bool { self != .stopSourceRule && self != .stopSourceParser }
}

/// A consumer group to create. Referenced from other steps as `${cg:<source name>}`.
public struct ConsumerGroupSpec: Codable, Sendable, Hashable {
    /// The name on the target (after `consumerGroupNaming`).
    public var name: String
    /// The ID on the source, if the group is a recreation (translation groups have none).
    public var sourceId: String?
}

/// An AMQP subscribe relation to create or complete.
public struct SubscriptionSpec: Codable, Sendable, Hashable {
    /// The product.
    public var productKey: String
    /// The flags to set.
    public var flags: [SubscriptionFlag]
    /// `SubscribeFlags` JSON, if any.
    public var subscribeFlags: String?
    /// Consumer groups: `${cg:name}` references, or literal target IDs of groups already there.
    public var consumerGroups: [String]
}

/// A data source to create.
public struct DataSourceSpec: Codable, Sendable, Hashable {
    /// The name.
    public var name: String
    /// The description.
    public var description: String?
    /// The topics.
    public var items: [DataSourceItem]
}

/// A destination to create. `configuration` may hold `${cg:…}` references.
public struct DestinationSpec: Codable, Sendable, Hashable {
    /// The name.
    public var name: String
    /// The type, e.g. `AMQP`.
    public var type: String
    /// The configuration JSON.
    public var configuration: String
    /// The description.
    public var description: String?
}

/// A parser to create. The script's `write…(destinationId, …)` calls hold `${dest:…}` references.
public struct ParserSpec: Codable, Sendable, Hashable {
    /// The name.
    public var name: String
    /// The description.
    public var description: String?
    /// The data source, as `${ds:name}`.
    public var dataSource: String?
    /// The script to save and publish (the source's published script).
    public var script: String?
    /// A saved, unpublished draft to save on the target without publishing it: the source's draft when it differs
    /// from the published script (or there is none). `run` saves it after publishing `script`, so both survive.
    public var scriptDraft: String? = nil
    /// Destinations, as `${dest:name}`.
    public var destinations: [String]
    /// The failover destination, as `${dest:name}`.
    public var errorDestination: String?
    /// Whether to start the parser once it is complete.
    public var start: Bool
}

/// One action of a rule to create. `configuration` may hold `${cg:…}` references.
public struct RuleActionSpec: Codable, Sendable, Hashable {
    /// The type, e.g. `AMQP`.
    public var type: String
    /// The configuration JSON.
    public var configuration: String
}

/// An old-version rule to create.
public struct RuleSpec: Codable, Sendable, Hashable {
    /// The name.
    public var name: String
    /// The product.
    public var productKey: String?
    /// The short topic.
    public var shortTopic: String?
    /// The full topic.
    public var topic: String?
    /// The topic type.
    public var topicType: Int?
    /// The SELECT part.
    public var select: String
    /// The WHERE part.
    public var `where`: String?
    /// JSON or BINARY.
    public var dataType: String
    /// The description.
    public var description: String?
    /// The actions, at most ten.
    public var actions: [RuleActionSpec]
    /// The error action.
    public var errorAction: RuleActionSpec?
    /// Whether to start the rule once its actions exist.
    public var start: Bool
}

/// A rule or parser to stop on the source after migration.
public struct SourceResourceSpec: Codable, Sendable, Hashable {
    /// The ID on the source.
    public var sourceId: String
    /// The name, for people.
    public var name: String
}

/// One step of a plan. Exactly one payload matches `action`.
public struct PlanStep: Codable, Sendable, Hashable {
    /// Unique in the plan, e.g. `rule:temp_alarm`; also the symbol other steps reference as `${…}`.
    public var id: String
    /// What the step does.
    public var action: StepAction
    /// When set, the resource already exists on the target in the same form with this ID: run adopts it and
    /// clean leaves it alone.
    public var existing: String?
    /// For translated subscriptions: the channel it replaces.
    public var translatedFrom: [SubscriptionType]?
    /// Why the step looks the way it does, for the reviewer.
    public var note: String?
    /// Payload of `createConsumerGroup`.
    public var consumerGroup: ConsumerGroupSpec?
    /// Payload of `createSubscription`.
    public var subscription: SubscriptionSpec?
    /// Payload of `createDataSource`.
    public var dataSource: DataSourceSpec?
    /// Payload of `createDestination`.
    public var destination: DestinationSpec?
    /// Payload of `createParser`.
    public var parser: ParserSpec?
    /// Payload of `createRule`.
    public var rule: RuleSpec?
    /// Payload of `stopSourceRule` and `stopSourceParser`.
    public var sourceResource: SourceResourceSpec?

    /// Creates a step with no payload.
    public init(id: String, action: StepAction) {
        self.id = id
        self.action = action
    }

    /// The resource's name on the target, for messages and look-ups.
    public var resourceName: String {
        self.consumerGroup?.name ?? self.destination?.name ?? self.dataSource?.name ?? self.parser?.name
            ?? self.rule?.name ?? self.subscription.map { "\($0.productKey)/AMQP" } ?? self.sourceResource?.name
            ?? self.id
    }
}

/// Something the target cannot carry as it is, and what the plan does instead.
public struct PlanFinding: Codable, Sendable, Hashable {
    /// The source resource, e.g. `rule:temp_alarm action 2`.
    public var resource: String
    /// What is wrong.
    public var issue: String
    /// What the plan proposes.
    public var replacement: String
}

/// A reviewable, editable migration plan: `migrate plan` writes it, `migrate run` executes it.
public struct MigrationPlan: Codable, Sendable, Hashable {
    /// The file format tag.
    public static let currentFormat = "iotbridge.plan/v1"

    /// The format tag.
    public var format: String = Self.currentFormat
    /// The pre-migration assessment `migrate plan` made first (see `migrate assess`), at the top of the file.
    public var assessment: PlanAssessment? = nil
    /// Identifies this migration in the journal and in migration-status events.
    public var migrationId: String
    /// When the plan was made (UTC).
    public var createdAt: String
    /// The migration.yaml the plan was made from, so `run` needs only `--plan`.
    public var config: String?
    /// The source instance.
    public var source: InstanceIdentity
    /// The target instance.
    public var target: InstanceIdentity
    /// The products covered; empty means all.
    public var products: [String]
    /// Fingerprint of the source state the plan was made from; `run` refuses a plan whose source has changed.
    public var sourceFingerprint: String
    /// Old consumer-group IDs and the symbols that stand for them.
    public var consumerGroupMap: [ConsumerGroupMapping]
    /// What the target cannot carry, and the replacements.
    public var findings: [PlanFinding]
    /// What changes for consumers of translated MNS / HTTP/2 subscriptions.
    public var consumerImpact: [String]
    /// The steps, in execution order.
    public var steps: [PlanStep]
}

/// One consumer group of the ID map: source ID → symbol → target ID (known once `run` created it).
public struct ConsumerGroupMapping: Codable, Sendable, Hashable {
    /// The ID on the source.
    public var sourceId: String
    /// The name on the source.
    public var sourceName: String
    /// The symbol the plan uses, `cg:<source name>`.
    public var symbol: String
    /// The name on the target.
    public var targetName: String

    /// Creates a mapping.
    public init(sourceId: String, sourceName: String, symbol: String, targetName: String) {
        self.sourceId = sourceId
        self.sourceName = sourceName
        self.symbol = symbol
        self.targetName = targetName
    }
}
