//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

extension DestinationConfiguration {
    /// The platform's action/destination `Type` (`CreateRuleAction`, `CreateDestination`), e.g. `AMQP`.
    public var platformType: String {
        self.kind.rawValue.uppercased()
    }

    /// The `Configuration` JSON the platform's `CreateRuleAction` takes for this destination (reference §4.5).
    ///
    /// `groupID` turns the symbolic consumer-group name of an `amqp` destination into the instance's group ID
    /// (the migration's ID map); `nil` keeps the name. A republish topic under `/sys/` is a TSL downlink
    /// (`topicType` 0), any other a custom topic (`topicType` 1). `http` is local only and has no platform
    /// configuration.
    public func actionConfiguration(groupID: (String) -> String? = { _ in nil }) -> JSONObject? {
        var object = JSONObject()
        switch self {
        case .amqp(let group, let tag):
            object["groupId"] = .string(groupID(group) ?? group)
            if let tag { object["tag"] = .string(tag) }
        case .republish(let topic):
            object["topic"] = .string(topic)
            object["topicType"] = .int(topic.hasPrefix("/sys/") ? 0 : 1)
        case .http:
            return nil
        case .ons(let ons):
            object["instanceId"] = .string(ons.instanceId)
            object["topic"] = .string(ons.topic)
            object["regionName"] = .string(ons.regionName)
            if let tag = ons.tag { object["tag"] = .string(tag) }
            Self.add(ons.role, to: &object)
        case .mns(let mns):
            object["themeName"] = .string(mns.themeName)
            object["regionName"] = .string(mns.regionName)
            Self.add(mns.role, to: &object)
        case .fc(let fc):
            object["regionName"] = .string(fc.regionName)
            Self.add(fc.role, to: &object)
            object["functionName"] = .string(fc.functionName)
            object["serviceName"] = .string(fc.serviceName)
        case .ots(let ots):
            object["instanceName"] = .string(ots.instanceName)
            object["tableName"] = .string(ots.tableName)
            object["primaryKeys"] = .array(
                ots.primaryKeys.map { key in
                    [
                        "columnType": .string(key.columnType), "columnName": .string(key.columnName),
                        "columnValue": .string(key.columnValue), "option": .string(key.option),
                    ]
                }
            )
            object["regionName"] = .string(ots.regionName)
            Self.add(ots.role, to: &object)
        case .datahub(let datahub):
            object["schemaVals"] = .array(
                datahub.schema.map { column in
                    ["name": .string(column.name), "value": .string(column.value), "type": .string(column.type)]
                }
            )
            Self.add(datahub.role, to: &object)
            object["projectName"] = .string(datahub.projectName)
            object["topicName"] = .string(datahub.topicName)
            object["regionName"] = .string(datahub.regionName)
        case .rds(let database), .tsdb(let database), .lindorm(let database):
            object["regionName"] = .string(database.regionName)
            object["instanceId"] = .string(database.instanceId)
            if let name = database.database { object["database"] = .string(name) }
            object["table"] = .string(database.table)
            var fields = JSONObject()
            for key in database.fields.keys.sorted() { fields[key] = .string(database.fields[key] ?? "") }
            object["fields"] = .object(fields)
        }
        return object
    }

    private static func add(_ role: RAMRole?, to object: inout JSONObject) {
        guard let role else { return }
        object["role"] = ["roleArn": .string(role.roleArn), "roleName": .string(role.roleName)]
    }
}
