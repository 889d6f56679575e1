//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Whether an old-version rule forwards.
public enum RuleStatus: String, Codable, Sendable, Hashable {
    /// The rule forwards messages.
    case running = "RUNNING"
    /// The rule is stopped.
    case stopped = "STOP"
}

/// One action (destination) of an old-version rule (reference §4.5).
public struct RuleAction: Codable, Sendable, Hashable {
    /// The ID the instance assigned, if known.
    public var id: String?
    /// `REPUBLISH`, `AMQP`, `DATAHUB`, `ONS`, `MNS`, `FC` or `OTS`.
    public var type: String
    /// The action's configuration JSON, as the API carries it.
    public var configuration: String

    /// Creates an action.
    public init(id: String? = nil, type: String, configuration: String) {
        self.id = id
        self.type = type
        self.configuration = configuration
    }
}

/// An old-version forwarding rule: SQL over one topic, up to ten actions and one error action (reference §4, §6.3).
public struct OldRule: Codable, Sendable, Hashable {
    /// The rule ID the instance assigned.
    public var id: String
    /// The name, 1–30 characters.
    public var name: String
    /// The product, when the topic is given as product + short topic.
    public var productKey: String?
    /// The topic without the product, e.g. `+/user/update`.
    public var shortTopic: String?
    /// The full topic, when given as one.
    public var topic: String?
    /// 0 basic/TSL, 1 custom, 2 device status.
    public var topicType: Int?
    /// The text after SELECT.
    public var select: String
    /// The text after WHERE, if any.
    public var `where`: String?
    /// `JSON` or `BINARY`.
    public var dataType: String
    /// `RuleDesc`.
    public var description: String?
    /// RUNNING or STOP.
    public var status: RuleStatus
    /// The normal actions.
    public var actions: [RuleAction]
    /// The error action, if one is set.
    public var errorAction: RuleAction?

    /// Creates a rule.
    public init(
        id: String,
        name: String,
        productKey: String? = nil,
        shortTopic: String? = nil,
        topic: String? = nil,
        topicType: Int? = nil,
        select: String,
        where: String? = nil,
        dataType: String = "JSON",
        description: String? = nil,
        status: RuleStatus = .stopped,
        actions: [RuleAction] = [],
        errorAction: RuleAction? = nil
    ) {
        self.id = id
        self.name = name
        self.productKey = productKey
        self.shortTopic = shortTopic
        self.topic = topic
        self.topicType = topicType
        self.select = select
        self.where = `where`
        self.dataType = dataType
        self.description = description
        self.status = status
        self.actions = actions
        self.errorAction = errorAction
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, productKey, shortTopic, topic, topicType, select, `where`, dataType, description, status
        case actions, errorAction
    }

    /// Decodes a rule; `dataType`, `status` and `actions` have defaults in hand-written files.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            name: try c.decode(String.self, forKey: .name),
            productKey: try c.decodeIfPresent(String.self, forKey: .productKey),
            shortTopic: try c.decodeIfPresent(String.self, forKey: .shortTopic),
            topic: try c.decodeIfPresent(String.self, forKey: .topic),
            topicType: try c.decodeIfPresent(Int.self, forKey: .topicType),
            select: try c.decode(String.self, forKey: .select),
            where: try c.decodeIfPresent(String.self, forKey: .where),
            dataType: try c.decodeIfPresent(String.self, forKey: .dataType) ?? "JSON",
            description: try c.decodeIfPresent(String.self, forKey: .description),
            status: try c.decodeIfPresent(RuleStatus.self, forKey: .status) ?? .stopped,
            actions: try c.decodeIfPresent([RuleAction].self, forKey: .actions) ?? [],
            errorAction: try c.decodeIfPresent(RuleAction.self, forKey: .errorAction)
        )
    }
}
