//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

/// A RAM role the cloud assumes to write to a cloud product.
public struct RAMRole: Sendable, Hashable {
    /// `acs:ram::…:role/…`.
    public var roleArn: String
    /// The role's name, e.g. `AliyunIOTAccessingMNSRole`.
    public var roleName: String
}

/// RocketMQ (`ONS`) configuration, as `CreateRuleAction` takes it.
public struct ONSConfiguration: Sendable, Hashable {
    /// `MQ_INST_…`.
    public var instanceId: String
    /// The RocketMQ topic.
    public var topic: String
    /// The region, e.g. `cn-hangzhou`.
    public var regionName: String
    /// An optional message tag (at most 128 bytes).
    public var tag: String?
    /// The role the platform assumes.
    public var role: RAMRole?
}

/// Message Service (`MNS`) configuration.
public struct MNSConfiguration: Sendable, Hashable {
    /// The MNS topic ("theme").
    public var themeName: String
    /// The region.
    public var regionName: String
    /// The role the platform assumes.
    public var role: RAMRole?
}

/// Function Compute (`FC`) configuration.
public struct FCConfiguration: Sendable, Hashable {
    /// The region.
    public var regionName: String
    /// The FC service.
    public var serviceName: String
    /// The function.
    public var functionName: String
    /// The role the platform assumes.
    public var role: RAMRole?
}

/// One primary-key column of a Tablestore destination.
public struct OTSPrimaryKey: Sendable, Hashable {
    /// The column name.
    public var columnName: String
    /// `STRING`, `INTEGER` or `BINARY`.
    public var columnType: String
    /// The value, usually a `${alias}` of the rule's SELECT.
    public var columnValue: String
    /// `""` or `AUTO_INCREMENT`.
    public var option: String
}

/// Tablestore (`OTS`) configuration.
public struct OTSConfiguration: Sendable, Hashable {
    /// The Tablestore instance.
    public var instanceName: String
    /// The table.
    public var tableName: String
    /// The region.
    public var regionName: String
    /// The primary key columns.
    public var primaryKeys: [OTSPrimaryKey]
    /// The role the platform assumes.
    public var role: RAMRole?
}

/// One column of a DataHub destination's schema.
public struct DataHubColumn: Sendable, Hashable {
    /// The column name.
    public var name: String
    /// The value, usually a `${alias}`.
    public var value: String
    /// `BIGINT`, `DOUBLE`, `BOOLEAN`, `TIMESTAMP`, `STRING` or `DECIMAL`.
    public var type: String
}

/// DataHub configuration.
public struct DataHubConfiguration: Sendable, Hashable {
    /// The DataHub project.
    public var projectName: String
    /// The DataHub topic.
    public var topicName: String
    /// The region.
    public var regionName: String
    /// The column mapping.
    public var schema: [DataHubColumn]
    /// The role the platform assumes.
    public var role: RAMRole?
}

/// A database destination (RDS/PolarDB, TSDB, Lindorm): where to write and which column gets which value.
/// The platform's API does not document these (console only), so the fields are the console's.
public struct DatabaseConfiguration: Sendable, Hashable {
    /// The region.
    public var regionName: String
    /// The database instance.
    public var instanceId: String
    /// The database (RDS) or namespace (Lindorm); optional for TSDB.
    public var database: String?
    /// The table (RDS, Lindorm) or metric (TSDB).
    public var table: String
    /// Column (or tag/field) name → value template such as `${t}`, in file order.
    public var fields: [String: String]
}

/// Where a rule action or a parser destination sends data.
public enum DestinationConfiguration: Sendable, Hashable {
    /// An AMQP consumer group, named symbolically (the migration's ID map turns the name into the ID of the
    /// instance in hand), with an optional tag.
    case amqp(consumerGroup: String, tag: String?)
    /// Another topic of the platform (`REPUBLISH`).
    case republish(topic: String)
    /// An HTTP endpoint, for running rules locally.
    case http(url: String)
    /// RocketMQ (cloud only).
    case ons(ONSConfiguration)
    /// Message Service (cloud only).
    case mns(MNSConfiguration)
    /// Function Compute (cloud only).
    case fc(FCConfiguration)
    /// Tablestore (cloud only).
    case ots(OTSConfiguration)
    /// DataHub (cloud only).
    case datahub(DataHubConfiguration)
    /// RDS / PolarDB (cloud only).
    case rds(DatabaseConfiguration)
    /// TSDB (cloud only).
    case tsdb(DatabaseConfiguration)
    /// Lindorm (cloud only).
    case lindorm(DatabaseConfiguration)

    /// The kind of destination.
    public var kind: ForwardingKind {
        switch self {
        case .amqp: .amqp
        case .republish: .republish
        case .http: .http
        case .ons: .ons
        case .mns: .mns
        case .fc: .fc
        case .ots: .ots
        case .datahub: .datahub
        case .rds: .rds
        case .tsdb: .tsdb
        case .lindorm: .lindorm
        }
    }
}

/// A destination of a rule file with where it was written.
public struct Destination: Sendable, Hashable {
    /// The destination's number (`DestinationId`) for parsers; `nil` for old-version rule actions.
    public var id: Int?
    /// What and where.
    public var configuration: DestinationConfiguration
    /// Where the destination is in the rule file.
    public var location: SourceLocation

    /// The kind of destination.
    public var kind: ForwardingKind {
        self.configuration.kind
    }

    /// Creates a destination.
    public init(id: Int? = nil, configuration: DestinationConfiguration, location: SourceLocation) {
        self.id = id
        self.configuration = configuration
        self.location = location
    }
}
