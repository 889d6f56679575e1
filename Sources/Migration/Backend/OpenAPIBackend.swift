//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HTTPClient
import Logging

/// An instance behind the IoT OpenAPI: Alibaba Cloud itself (`kind: aliyun`) or a simulator (`kind: sim`).
public struct OpenAPIBackend: InstanceBackend {
    /// Which instance this is; never carries credentials.
    public let identity: InstanceIdentity
    let client: OpenAPIClient

    /// Creates a backend from one side of `migration.yaml`; reads the secret from the environment.
    public init(
        config: InstanceConfig,
        options: MigrationOptions,
        http: HTTPClient = HTTPClient(),
        logger: Logger = Logger(label: "iotbridge.migration"),
        environment: [String: String]? = nil
    ) throws {
        guard let endpoint = config.resolvedEndpoint, let keyId = config.accessKeyId,
            let secret = config.accessKeySecret
        else {
            throw MigrationError(.config, "an OpenAPI side needs endpoint, accessKeyId and accessKeySecret")
        }
        let value = try environment.map { try secret.resolve(environment: $0) } ?? secret.resolve()
        self.identity = config.identity
        self.client = OpenAPIClient(
            endpoint: endpoint,
            regionId: config.regionId ?? "cn-shanghai",
            iotInstanceId: config.iotInstanceId ?? "",
            accessKeyId: keyId,
            accessKeySecret: value,
            secretSource: secret.description,
            http: http,
            retry: options.retry,
            logger: logger
        )
    }

    /// The product keys of the instance.
    public func listProducts() async throws -> [String] {
        let items = try await self.client.paginate("QueryProductList", pageSize: 50) {
            JSON.objects($0, "Data", "List", "ProductInfo")
        }
        return items.compactMap { JSON.string($0["ProductKey"]) }
    }

    /// All consumer groups.
    public func listConsumerGroups() async throws -> [ConsumerGroup] {
        let items = try await self.client.paginate("QueryConsumerGroupList", pageSize: 1000) {
            JSON.objects($0, "Data", "ConsumerGroupDTO")
        }
        return items.compactMap { item in
            guard let id = JSON.string(item["GroupId"]), let name = JSON.string(item["GroupName"]) else { return nil }
            return ConsumerGroup(id: id, name: name)
        }
    }

    /// Creates a consumer group and returns the ID the instance assigned.
    public func createConsumerGroup(name: String, description: String?) async throws -> String {
        let response = try await self.client.call("CreateConsumerGroup", ["GroupName": name]) {
            // Group names are unique in an instance: the name finds what a lost call created.
            try await self.listConsumerGroups().first { $0.name == name }.map { ["GroupId": $0.id] }
        }
        guard let id = JSON.string(response["GroupId"]) else {
            throw MigrationError(.api, "CreateConsumerGroup returned no GroupId for \(name)")
        }
        return id
    }

    /// Deletes a consumer group.
    public func deleteConsumerGroup(id: String) async throws {
        // A repeated delete of a deleted resource is refused (NotExist): after a lost answer, look first.
        _ = try await self.client.call("DeleteConsumerGroup", ["GroupId": id]) {
            try await self.listConsumerGroups().contains { $0.id == id } ? nil : [:]
        }
    }

    /// The relation of one product and type, or `nil` when there is none.
    public func querySubscribeRelation(productKey: String, type: SubscriptionType) async throws -> SubscribeRelation? {
        let response: [String: Any]
        do {
            response = try await self.client.call(
                "QuerySubscribeRelation",
                ["ProductKey": productKey, "Type": type.rawValue]
            )
        } catch let error as MigrationError
            where error.code == .api && (error.message.contains("NotExist") || error.message.contains("NotFound"))
        {
            return nil
        }
        guard JSON.string(response["ProductKey"]) != nil || response["ConsumerGroupIds"] != nil else { return nil }
        let flags = SubscriptionFlag.allCases.filter { JSON.bool(response[$0.rawValue]) }
        let groups = (response["ConsumerGroupIds"] as? [Any])?.compactMap(JSON.string) ?? []
        return SubscribeRelation(
            productKey: productKey,
            type: type,
            flags: flags,
            subscribeFlags: JSON.string(response["SubscribeFlags"]).flatMap { $0.isEmpty ? nil : $0 },
            consumerGroupIds: groups,
            mnsConfiguration: JSON.string(response["MnsConfiguration"]).flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    private func relationParameters(_ relation: SubscribeRelation) -> [String: String] {
        var parameters = ["ProductKey": relation.productKey, "Type": relation.type.rawValue]
        for flag in SubscriptionFlag.allCases {
            parameters[flag.rawValue] = relation.flags.contains(flag) ? "true" : "false"
        }
        for (index, group) in relation.consumerGroupIds.enumerated() {
            parameters["ConsumerGroupIds.\(index + 1)"] = group
        }
        if let flags = relation.subscribeFlags { parameters["SubscribeFlags"] = flags }
        if let mns = relation.mnsConfiguration { parameters["MnsConfiguration"] = mns }
        return parameters
    }

    /// Creates a subscribe relation.
    public func createSubscribeRelation(_ relation: SubscribeRelation) async throws {
        _ = try await self.client.call("CreateSubscribeRelation", self.relationParameters(relation)) {
            // One relation per product and type: if it is there, the lost call made it.
            try await self.querySubscribeRelation(productKey: relation.productKey, type: relation.type) == nil
                ? nil : [:]
        }
    }

    /// Replaces the flags and consumer groups of an existing relation.
    public func updateSubscribeRelation(_ relation: SubscribeRelation) async throws {
        _ = try await self.client.call("UpdateSubscribeRelation", self.relationParameters(relation))
    }

    /// Deletes a subscribe relation.
    public func deleteSubscribeRelation(productKey: String, type: SubscriptionType) async throws {
        _ = try await self.client.call("DeleteSubscribeRelation", ["ProductKey": productKey, "Type": type.rawValue]) {
            try await self.querySubscribeRelation(productKey: productKey, type: type) == nil ? [:] : nil
        }
    }

    /// All old-version rules, with their actions.
    public func listRules() async throws -> [OldRule] {
        let items = try await self.client.paginate("ListRule", pageSize: 100) { JSON.objects($0, "Data", "RuleInfo") }
        // ListRule's items carry no TopicType (the SDK's ListRuleResponseBodyDataRuleInfo has none) and may leave
        // out the SQL; GetRule has every field (reference §6.3), so it fills in whatever the item lacks.
        let seeds: [(id: String, rule: OldRule?)] = items.compactMap { item in
            guard let id = JSON.string(item["Id"]) else { return nil }
            let complete = item["Select"] != nil && item["TopicType"] != nil
            return (id, complete ? Self.rule(from: item, id: id) : nil)
        }
        return try await concurrentMap(seeds, limit: Self.readConcurrency) { seed in
            var rule: OldRule
            if let known = seed.rule {
                rule = known
            } else {
                let info = JSON.path(try await self.client.call("GetRule", ["RuleId": seed.id]), "RuleInfo")
                rule = Self.rule(from: info as? [String: Any] ?? [:], id: seed.id)
            }
            for (action, isError) in try await self.listRuleActions(ruleId: seed.id) {
                if isError { rule.errorAction = action } else { rule.actions.append(action) }
            }
            return rule
        }
    }

    /// How many per-resource detail reads run at once.
    static let readConcurrency = 4

    private static func rule(from item: [String: Any], id: String) -> OldRule {
        OldRule(
            id: id,
            name: JSON.string(item["Name"]) ?? id,
            productKey: JSON.string(item["ProductKey"]).flatMap { $0.isEmpty ? nil : $0 },
            shortTopic: JSON.string(item["ShortTopic"]).flatMap { $0.isEmpty ? nil : $0 },
            topic: JSON.string(item["Topic"]).flatMap { $0.isEmpty ? nil : $0 },
            // GetRule answers -1 for a rule without SQL: no topic type, not one CreateRule would accept.
            topicType: JSON.int(item["TopicType"]).flatMap { $0 < 0 ? nil : $0 },
            select: JSON.string(item["Select"]) ?? "*",
            where: JSON.string(item["Where"]).flatMap { $0.isEmpty ? nil : $0 },
            dataType: JSON.string(item["DataType"]) ?? "JSON",
            description: JSON.string(item["RuleDesc"]).flatMap { $0.isEmpty ? nil : $0 },
            status: JSON.string(item["Status"]) == "RUNNING" ? .running : .stopped
        )
    }

    /// Creates a rule (without actions) and returns its ID.
    public func createRule(_ rule: OldRule) async throws -> String {
        var parameters = ["Name": rule.name, "Select": rule.select, "DataType": rule.dataType]
        parameters["ProductKey"] = rule.productKey
        parameters["ShortTopic"] = rule.shortTopic
        parameters["Topic"] = rule.topic
        parameters["TopicType"] = rule.topicType.map(String.init)
        parameters["Where"] = rule.where
        parameters["RuleDesc"] = rule.description
        let response = try await self.client.call("CreateRule", parameters) {
            try await self.ruleIndex()[rule.name].map { ["RuleId": $0] }
        }
        guard let id = JSON.string(response["RuleId"]) else {
            throw MigrationError(.api, "CreateRule returned no RuleId for \(rule.name)")
        }
        return id
    }

    /// The actions of one rule; the error action has `errorAction == true`.
    public func listRuleActions(ruleId: String) async throws -> [(action: RuleAction, isErrorAction: Bool)] {
        let response = try await self.client.call("ListRuleActions", ["RuleId": ruleId])
        return JSON.objects(response, "RuleActionList", "RuleActionInfo").map { item in
            (
                RuleAction(
                    id: JSON.string(item["Id"]),
                    type: JSON.string(item["Type"]) ?? "",
                    configuration: JSON.string(item["Configuration"]) ?? "{}"
                ),
                JSON.bool(item["ErrorActionFlag"])
            )
        }
    }

    /// Adds an action to a rule and returns its ID.
    public func createRuleAction(ruleId: String, action: RuleAction, isErrorAction: Bool) async throws -> String {
        let known = Set(try await self.listRuleActions(ruleId: ruleId).compactMap(\.action.id))
        return try await self.createRuleAction(
            ruleId: ruleId,
            action: action,
            isErrorAction: isErrorAction,
            knownActionIds: known
        )
    }

    /// Adds an action to a rule; after a lost answer, adopts an action that matches and is not in `knownActionIds`.
    public func createRuleAction(
        ruleId: String,
        action: RuleAction,
        isErrorAction: Bool,
        knownActionIds: Set<String>
    ) async throws -> String {
        let response = try await self.client.call(
            "CreateRuleAction",
            [
                "RuleId": ruleId, "Type": action.type, "Configuration": action.configuration,
                "ErrorActionFlag": isErrorAction ? "true" : "false",
            ]
        ) {
            // Actions have no name: only an action that was not there before the call can be its result.
            let wanted = RuleActionKey(action, isErrorAction: isErrorAction)
            return try await self.listRuleActions(ruleId: ruleId).first { found in
                guard let id = found.action.id, !knownActionIds.contains(id) else { return false }
                return RuleActionKey(found.action, isErrorAction: found.isErrorAction) == wanted
            }.map { ["ActionId": $0.action.id ?? ""] }
        }
        return JSON.string(response["ActionId"]) ?? ""
    }

    /// Starts a rule.
    public func startRule(id: String) async throws { _ = try await self.client.call("StartRule", ["RuleId": id]) }

    /// Stops a rule.
    public func stopRule(id: String) async throws { _ = try await self.client.call("StopRule", ["RuleId": id]) }

    /// Deletes a rule (stop it first: running rules cannot be deleted).
    public func deleteRule(id: String) async throws {
        _ = try await self.client.call("DeleteRule", ["RuleId": id]) {
            try await self.ruleIndex().values.contains(id) ? nil : [:]
        }
    }

    /// All data sources, with their items.
    public func listDataSources() async throws -> [DataSource] {
        let items = try await self.dataSourceSummaries()
        let seeds: [DataSource] = items.compactMap { item in
            guard let id = JSON.string(item["DataSourceId"]) else { return nil }
            return DataSource(
                id: id,
                name: JSON.string(item["Name"]) ?? id,
                description: JSON.string(item["Description"]).flatMap { $0.isEmpty ? nil : $0 }
            )
        }
        return try await concurrentMap(seeds, limit: Self.readConcurrency) { seed in
            let entries = try await self.dataSourceItems(dataSourceId: seed.id)
            var source = seed
            source.items = entries.map { entry in
                DataSourceItem(
                    id: JSON.string(entry["DataSourceItemId"]),
                    topic: JSON.string(entry["Topic"]) ?? "",
                    scopeType: JSON.string(entry["ScopeType"]),
                    productKey: JSON.string(entry["ProductKey"]),
                    deviceName: JSON.string(entry["DeviceName"])
                )
            }
            return source
        }
    }

    private func dataSourceSummaries() async throws -> [[String: Any]] {
        try await self.client.paginate("ListParserDataSource", pageKey: "Page", pageSize: 100) {
            JSON.objects($0, "Data", "DataSource")
        }
    }

    private func dataSourceItems(dataSourceId: String) async throws -> [[String: Any]] {
        try await self.client.paginate(
            "ListDataSourceItem",
            ["DataSourceId": dataSourceId],
            pageKey: "Page",
            pageSize: 100
        ) { JSON.objects($0, "DataSourceItems", "dataSourceItem") }
    }

    /// Creates a data source and returns its ID.
    public func createDataSource(name: String, description: String?) async throws -> String {
        var parameters = ["Name": name]
        parameters["Description"] = description
        let response = try await self.client.call("CreateParserDataSource", parameters) {
            let found = try await self.dataSourceSummaries().first { JSON.string($0["Name"]) == name }
            return found.flatMap { JSON.string($0["DataSourceId"]) }.map { ["DataSource": ["DataSourceId": $0]] }
        }
        guard let id = JSON.string(JSON.path(response, "DataSource", "DataSourceId")) else {
            throw MigrationError(.api, "CreateParserDataSource returned no DataSourceId for \(name)")
        }
        return id
    }

    /// Adds a topic to a data source.
    public func createDataSourceItem(dataSourceId: String, item: DataSourceItem) async throws {
        var parameters = ["DataSourceId": dataSourceId, "Topic": item.topic]
        parameters["ScopeType"] = item.scopeType
        parameters["ProductKey"] = item.productKey
        parameters["DeviceName"] = item.deviceName
        _ = try await self.client.call("CreateDataSourceItem", parameters) {
            // A topic is in a data source at most once.
            let items = try await self.dataSourceItems(dataSourceId: dataSourceId)
            return items.contains { JSON.string($0["Topic"]) == item.topic } ? [:] : nil
        }
    }

    /// Deletes a data source.
    public func deleteDataSource(id: String) async throws {
        _ = try await self.client.call("DeleteParserDataSource", ["DataSourceId": id]) {
            try await self.dataSourceSummaries().contains { JSON.string($0["DataSourceId"]) == id } ? nil : [:]
        }
    }

    /// All destinations.
    public func listDestinations() async throws -> [Destination] {
        let items = try await self.client.paginate("ListDestination", pageKey: "Page", pageSize: 100) {
            JSON.objects($0, "Destinations", "destinations")
        }
        return items.compactMap { item in
            guard let id = JSON.string(item["DestinationId"]) else { return nil }
            return Destination(
                id: id,
                name: JSON.string(item["Name"]) ?? id,
                type: JSON.string(item["Type"]) ?? "",
                configuration: JSON.string(item["Configuration"]) ?? "{}",
                description: JSON.string(item["Description"]).flatMap { $0.isEmpty ? nil : $0 }
            )
        }
    }

    /// Creates a destination and returns its ID.
    public func createDestination(_ destination: Destination) async throws -> String {
        var parameters = [
            "Name": destination.name, "Type": destination.type, "Configuration": destination.configuration,
        ]
        parameters["Description"] = destination.description
        let response = try await self.client.call("CreateDestination", parameters) {
            try await self.listDestinations().first { $0.name == destination.name }.map {
                ["Destination": ["DestinationId": $0.id]]
            }
        }
        guard let id = JSON.string(JSON.path(response, "Destination", "DestinationId")) else {
            throw MigrationError(.api, "CreateDestination returned no DestinationId for \(destination.name)")
        }
        return id
    }

    /// Deletes a destination.
    public func deleteDestination(id: String) async throws {
        _ = try await self.client.call("DeleteDestination", ["DestinationId": id]) {
            try await self.listDestinations().contains { $0.id == id } ? nil : [:]
        }
    }

    /// Rule name → ID, cheaper than ``listRules()`` where the backend can list without actions.
    public func ruleIndex() async throws -> [String: String] {
        let items = try await self.client.paginate("ListRule", pageSize: 100) { JSON.objects($0, "Data", "RuleInfo") }
        var index: [String: String] = [:]
        for item in items {
            guard let id = JSON.string(item["Id"]), let name = JSON.string(item["Name"]), index[name] == nil else {
                continue
            }
            index[name] = id
        }
        return index
    }

    /// Parser name → ID, cheaper than ``listParsers()`` where the backend can list without details.
    public func parserIndex() async throws -> [String: String] {
        var index: [String: String] = [:]
        for item in try await self.parserSummaries() {
            guard let id = JSON.string(item["ParserId"]), let name = JSON.string(item["Name"]), index[name] == nil
            else { continue }
            index[name] = id
        }
        return index
    }

    private func parserSummaries() async throws -> [[String: Any]] {
        try await self.client.paginate("ListParser", pageSize: 100) { JSON.objects($0, "Data", "ParserList") }
    }

    /// One parser with script, data source and destinations, or `nil`.
    public func getParser(id: String) async throws -> Parser? {
        try await self.parser(id: id, summary: ParserSummary(id: id))
    }

    /// All parsers, with script, data source and destinations.
    public func listParsers() async throws -> [Parser] {
        let summaries: [ParserSummary] = try await self.parserSummaries().compactMap { item in
            guard let id = JSON.string(item["ParserId"]) else { return nil }
            return ParserSummary(
                id: id,
                name: JSON.string(item["Name"]),
                description: JSON.string(item["Description"]),
                status: JSON.string(item["Status"])
            )
        }
        return try await concurrentMap(summaries, limit: Self.readConcurrency) { summary in
            try await self.parser(id: summary.id, summary: summary)
        }.compactMap { $0 }
    }

    /// What ListParser says about a parser.
    struct ParserSummary: Sendable {
        var id: String
        var name: String?
        var description: String?
        var status: String?
    }

    private func parser(id: String, summary: ParserSummary) async throws -> Parser? {
        do {
            let detail =
                JSON.path(try await self.client.call("GetParser", ["ParserId": id]), "Data") as? [String: Any] ?? [:]
            let normal = try await self.client.call("ListParserDestination", ["ParserId": id, "IsFailover": "false"])
            let failover = try await self.client.call("ListParserDestination", ["ParserId": id, "IsFailover": "true"])
            return Parser(
                id: id,
                name: summary.name ?? JSON.string(detail["Name"]) ?? id,
                description: (summary.description ?? JSON.string(detail["Description"])).flatMap {
                    $0.isEmpty ? nil : $0
                },
                dataSourceId: JSON.string(detail["DataSourceId"]).flatMap { $0.isEmpty || $0 == "0" ? nil : $0 },
                script: JSON.string(detail["Script"]).flatMap { $0.isEmpty ? nil : $0 },
                scriptDraft: JSON.string(detail["ScriptDraft"]).flatMap { $0.isEmpty ? nil : $0 },
                status: (JSON.string(detail["Status"]) ?? summary.status) == "RUNNING" ? .running : .stopped,
                destinationIds: JSON.objects(normal, "Data", "destinations").compactMap {
                    JSON.string($0["DestinationId"])
                },
                errorDestinationId: JSON.objects(failover, "Data", "destinations").first.flatMap {
                    JSON.string($0["DestinationId"])
                }
            )
        } catch let error as MigrationError where error.code == .api && error.message.contains("NotExist") {
            return nil
        }
    }

    /// Creates a parser and returns its ID.
    public func createParser(name: String, description: String?) async throws -> String {
        var parameters = ["Name": name]
        parameters["Description"] = description
        let response = try await self.client.call("CreateParser", parameters) {
            try await self.parserIndex()[name].map { ["ParserId": $0] }
        }
        guard let id = JSON.string(response["ParserId"]) ?? JSON.string(JSON.path(response, "Data", "ParserId")) else {
            throw MigrationError(.api, "CreateParser returned no ParserId for \(name)")
        }
        return id
    }

    /// Saves the script draft and publishes it.
    public func saveAndPublishScript(parserId: String, script: String) async throws {
        _ = try await self.client.call("SaveScript", ["ParserId": parserId, "ScriptDraft": script])
        let response = try await self.client.call("PublishScript", ["ParserId": parserId])
        if let syntax = JSON.string(response["SyntaxErrorMsg"]), !syntax.isEmpty {
            throw MigrationError(.api, "PublishScript rejected the script of parser \(parserId): \(syntax)")
        }
    }

    /// Saves the script draft without publishing it.
    public func saveScriptDraft(parserId: String, script: String) async throws {
        _ = try await self.client.call("SaveScript", ["ParserId": parserId, "ScriptDraft": script])
    }

    /// Binds the parser to its data source.
    public func attachDataSource(parserId: String, dataSourceId: String) async throws {
        _ = try await self.client.call("AttachParserDataSource", ["ParserId": parserId, "DataSourceId": dataSourceId])
    }

    /// Binds a destination to the parser.
    public func attachDestination(parserId: String, destinationId: String, isFailover: Bool) async throws {
        _ = try await self.client.call(
            "AttachDestination",
            ["ParserId": parserId, "DestinationId": destinationId, "IsFailover": isFailover ? "true" : "false"]
        ) {
            // Attaching twice is refused (the destination is attached already): look first.
            let response = try await self.client.call(
                "ListParserDestination",
                ["ParserId": parserId, "IsFailover": isFailover ? "true" : "false"]
            )
            let attached = JSON.objects(response, "Data", "destinations").compactMap { JSON.string($0["DestinationId"]) }
            return attached.contains(destinationId) ? [:] : nil
        }
    }

    /// Starts a parser.
    public func startParser(id: String) async throws { _ = try await self.client.call("StartParser", ["ParserId": id]) }

    /// Stops a parser.
    public func stopParser(id: String) async throws { _ = try await self.client.call("StopParser", ["ParserId": id]) }

    /// Deletes a parser.
    public func deleteParser(id: String) async throws {
        _ = try await self.client.call("DeleteParser", ["ParserId": id]) {
            try await self.parserIndex().values.contains(id) ? nil : [:]
        }
    }
}
