//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Yams

/// Decodes `type: …` destination mappings of rule files into typed ``Destination``s.
extension YAMLDecoder {
    /// The destination types a rule file may name.
    static let destinationTypes = ForwardingKind.all.map(\.rawValue)

    mutating func destination(_ node: Node, id: Int?, what: String) -> Destination? {
        guard case .mapping(let mapping) = node else {
            self.error("\(what) must be a mapping with a 'type', found \(Self.describe(node))", at: node)
            return nil
        }
        var typeName: String?
        var typeNode: Node?
        for (key, value) in mapping where key.scalar?.string == "type" {
            typeName = value.scalar?.string
            typeNode = value
        }
        guard let typeName else {
            self.error(
                "\(what) needs a 'type' (one of: \(Self.destinationTypes.joined(separator: ", ")))",
                at: node
            )
            return nil
        }
        let kind = ForwardingKind(typeName.lowercased())
        guard ForwardingKind.all.contains(kind) else {
            self.error(
                "unknown destination type '\(typeName)'" + Suggestion.didYouMean(typeName, among: Self.destinationTypes)
                    + " (known: \(Self.destinationTypes.joined(separator: ", ")))",
                at: typeNode,
                length: typeName.count
            )
            return nil
        }
        let location = self.location(of: node)
        guard let configuration = self.configuration(kind, node, what: "\(what) (\(kind.rawValue))") else {
            return nil
        }
        return Destination(id: id, configuration: configuration, location: location)
    }

    private mutating func configuration(
        _ kind: ForwardingKind,
        _ node: Node,
        what: String
    )
        -> DestinationConfiguration?
    {
        switch kind {
        case .amqp:
            guard let fields = self.fields(node, what, known: ["type", "consumerGroup", "tag"]),
                let group = self.string(fields, "consumerGroup")
            else { return nil }
            let tag = self.string(fields, "tag", required: false)
            if let tag, tag.utf8.count > 128 {
                self.error("an AMQP tag is at most 128 characters", at: fields["tag"])
            }
            return .amqp(consumerGroup: group, tag: tag)
        case .republish:
            guard let fields = self.fields(node, what, known: ["type", "topic"]),
                let topic = self.string(fields, "topic")
            else { return nil }
            if !topic.hasPrefix("/") {
                self.error(
                    "a republish topic must start with '/', e.g. /${productKey}/${deviceName}/user/get",
                    at: fields["topic"]
                )
            }
            return .republish(topic: topic)
        case .http:
            guard let fields = self.fields(node, what, known: ["type", "url"]),
                let url = self.string(fields, "url")
            else { return nil }
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                self.error("an http destination's url must start with http:// or https://", at: fields["url"])
            }
            return .http(url: url)
        case .ons:
            guard
                let fields = self.fields(
                    node,
                    what,
                    known: ["type", "instanceId", "topic", "regionName", "tag", "role"]
                ),
                let instance = self.string(fields, "instanceId"), let topic = self.string(fields, "topic"),
                let region = self.string(fields, "regionName")
            else { return nil }
            return .ons(
                ONSConfiguration(
                    instanceId: instance,
                    topic: topic,
                    regionName: region,
                    tag: self.string(fields, "tag", required: false),
                    role: self.role(fields)
                )
            )
        case .mns:
            guard let fields = self.fields(node, what, known: ["type", "themeName", "regionName", "role"]),
                let theme = self.string(fields, "themeName"), let region = self.string(fields, "regionName")
            else { return nil }
            return .mns(MNSConfiguration(themeName: theme, regionName: region, role: self.role(fields)))
        case .fc:
            guard
                let fields = self.fields(
                    node,
                    what,
                    known: ["type", "regionName", "serviceName", "functionName", "role"]
                ),
                let region = self.string(fields, "regionName"), let service = self.string(fields, "serviceName"),
                let function = self.string(fields, "functionName")
            else { return nil }
            return .fc(
                FCConfiguration(
                    regionName: region,
                    serviceName: service,
                    functionName: function,
                    role: self.role(fields)
                )
            )
        case .ots:
            guard
                let fields = self.fields(
                    node,
                    what,
                    known: ["type", "instanceName", "tableName", "regionName", "primaryKeys", "role"]
                ),
                let instance = self.string(fields, "instanceName"), let table = self.string(fields, "tableName"),
                let region = self.string(fields, "regionName")
            else { return nil }
            var keys: [OTSPrimaryKey] = []
            for item in self.list(fields, "primaryKeys") {
                guard
                    let column = self.fields(
                        item,
                        "a primary key",
                        known: ["columnName", "columnType", "columnValue", "option"]
                    ),
                    let name = self.string(column, "columnName"), let type = self.string(column, "columnType")
                else { continue }
                // An AUTO_INCREMENT column has no value; every other column needs one.
                let option = self.string(column, "option", required: false) ?? ""
                let value = self.string(column, "columnValue", required: option != "AUTO_INCREMENT") ?? ""
                if !["STRING", "INTEGER", "BINARY"].contains(type) {
                    self.error("columnType must be STRING, INTEGER or BINARY", at: column["columnType"])
                }
                keys.append(
                    OTSPrimaryKey(
                        columnName: name,
                        columnType: type,
                        columnValue: value,
                        option: option
                    )
                )
            }
            return .ots(
                OTSConfiguration(
                    instanceName: instance,
                    tableName: table,
                    regionName: region,
                    primaryKeys: keys,
                    role: self.role(fields)
                )
            )
        case .datahub:
            guard
                let fields = self.fields(
                    node,
                    what,
                    known: ["type", "projectName", "topicName", "regionName", "schema", "role"]
                ),
                let project = self.string(fields, "projectName"), let topic = self.string(fields, "topicName"),
                let region = self.string(fields, "regionName")
            else { return nil }
            var schema: [DataHubColumn] = []
            for item in self.list(fields, "schema") {
                guard let column = self.fields(item, "a DataHub column", known: ["name", "value", "type"]),
                    let name = self.string(column, "name"), let value = self.string(column, "value"),
                    let type = self.string(column, "type")
                else { continue }
                let types = ["BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP", "STRING", "DECIMAL"]
                if !types.contains(type) {
                    self.error("a DataHub column type is one of \(types.joined(separator: ", "))", at: column["type"])
                }
                schema.append(DataHubColumn(name: name, value: value, type: type))
            }
            return .datahub(
                DataHubConfiguration(
                    projectName: project,
                    topicName: topic,
                    regionName: region,
                    schema: schema,
                    role: self.role(fields)
                )
            )
        default:
            guard
                let fields = self.fields(
                    node,
                    what,
                    known: ["type", "regionName", "instanceId", "database", "table", "fields"]
                ),
                let region = self.string(fields, "regionName"), let instance = self.string(fields, "instanceId"),
                let table = self.string(fields, "table")
            else { return nil }
            var columns: [String: String] = [:]
            if let mapping = self.fields(fields["fields"], "fields", known: []) {
                for entry in mapping.entries {
                    guard let value = entry.value.scalar?.string else {
                        self.error("a field value must be text such as ${alias}", at: entry.value)
                        continue
                    }
                    columns[entry.key] = value
                }
            }
            let configuration = DatabaseConfiguration(
                regionName: region,
                instanceId: instance,
                database: self.string(fields, "database", required: false),
                table: table,
                fields: columns
            )
            switch kind {
            case .rds: return .rds(configuration)
            case .tsdb: return .tsdb(configuration)
            default: return .lindorm(configuration)
            }
        }
    }

    private mutating func role(_ fields: Fields) -> RAMRole? {
        guard let node = fields["role"], let role = self.fields(node, "role", known: ["roleArn", "roleName"]),
            let arn = self.string(role, "roleArn"), let name = self.string(role, "roleName")
        else { return nil }
        return RAMRole(roleArn: arn, roleName: name)
    }

    mutating func list(_ fields: Fields, _ key: String) -> [Node] {
        guard let node = fields[key] else { return [] }
        guard case .sequence(let sequence) = node else {
            self.error("'\(key)' must be a list, found \(Self.describe(node))", at: node)
            return []
        }
        return Array(sequence)
    }
}
