//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One topic of a new-version data source (reference §6.4, `CreateDataSourceItem`).
public struct DataSourceItem: Codable, Sendable, Hashable {
    /// The item ID the instance assigned, if known.
    public var id: String?
    /// The full topic, e.g. `/${pk}/+/user/#`.
    public var topic: String
    /// `PRODUCT`, `DEVICE`, …, if set.
    public var scopeType: String?
    /// The product, for custom topics.
    public var productKey: String?
    /// The device, when the scope is one device.
    public var deviceName: String?

    /// Creates an item.
    public init(
        id: String? = nil,
        topic: String,
        scopeType: String? = nil,
        productKey: String? = nil,
        deviceName: String? = nil
    ) {
        self.id = id
        self.topic = topic
        self.scopeType = scopeType
        self.productKey = productKey
        self.deviceName = deviceName
    }

    /// The item without its instance-specific ID, for comparing across instances.
    var form: DataSourceItem {
        DataSourceItem(
            topic: self.topic,
            scopeType: self.scopeType,
            productKey: self.productKey,
            deviceName: self.deviceName
        )
    }
}

/// A new-version data source: a named set of topics a parser reads.
public struct DataSource: Codable, Sendable, Hashable {
    /// The ID the instance assigned.
    public var id: String
    /// The name.
    public var name: String
    /// A description, if any.
    public var description: String?
    /// The topics.
    public var items: [DataSourceItem]

    /// Creates a data source.
    public init(id: String, name: String, description: String? = nil, items: [DataSourceItem] = []) {
        self.id = id
        self.name = name
        self.description = description
        self.items = items
    }
}

/// A new-version data destination: where a parser's `write…(destinationId, …)` calls go.
public struct Destination: Codable, Sendable, Hashable {
    /// The ID the instance assigned (numeric in the API).
    public var id: String
    /// The name.
    public var name: String
    /// `REPUBLISH`, `AMQP`, `DATAHUB`, `ONS`, `MNS`, `FC` or `OTS`.
    public var type: String
    /// The configuration JSON, e.g. `{"groupId":"…"}` for AMQP.
    public var configuration: String
    /// A description, if any.
    public var description: String?

    /// Creates a destination.
    public init(id: String, name: String, type: String, configuration: String, description: String? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.configuration = configuration
        self.description = description
    }
}

/// A new-version parser: one data source, a script, up to ten destinations and one error destination.
public struct Parser: Codable, Sendable, Hashable {
    /// The ID the instance assigned.
    public var id: String
    /// The name.
    public var name: String
    /// A description, if any.
    public var description: String?
    /// The data source it reads, by ID.
    public var dataSourceId: String?
    /// The published script.
    public var script: String?
    /// The saved, unpublished draft.
    public var scriptDraft: String?
    /// `RUNNING` or `STOP`.
    public var status: RuleStatus
    /// The normal destinations, by ID.
    public var destinationIds: [String]
    /// The failover destination, by ID.
    public var errorDestinationId: String?

    /// Creates a parser.
    public init(
        id: String,
        name: String,
        description: String? = nil,
        dataSourceId: String? = nil,
        script: String? = nil,
        scriptDraft: String? = nil,
        status: RuleStatus = .stopped,
        destinationIds: [String] = [],
        errorDestinationId: String? = nil
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.dataSourceId = dataSourceId
        self.script = script
        self.scriptDraft = scriptDraft
        self.status = status
        self.destinationIds = destinationIds
        self.errorDestinationId = errorDestinationId
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, description, dataSourceId, script, scriptDraft, status, destinationIds, errorDestinationId
    }

    /// Decodes a parser; `status` and `destinationIds` have defaults in hand-written files.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            name: try c.decode(String.self, forKey: .name),
            description: try c.decodeIfPresent(String.self, forKey: .description),
            dataSourceId: try c.decodeIfPresent(String.self, forKey: .dataSourceId),
            script: try c.decodeIfPresent(String.self, forKey: .script),
            scriptDraft: try c.decodeIfPresent(String.self, forKey: .scriptDraft),
            status: try c.decodeIfPresent(RuleStatus.self, forKey: .status) ?? .stopped,
            destinationIds: try c.decodeIfPresent([String].self, forKey: .destinationIds) ?? [],
            errorDestinationId: try c.decodeIfPresent(String.self, forKey: .errorDestinationId)
        )
    }
}
