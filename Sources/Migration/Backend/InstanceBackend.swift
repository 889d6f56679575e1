//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// What the migration reads from and writes to one instance, whatever stands behind it: the OpenAPI, an export
/// file, or the simulator.
///
/// IDs are strings everywhere, though the API types some as numbers. Every method may throw ``MigrationError``.
public protocol InstanceBackend: Sendable {
    /// Which instance this is; never carries credentials.
    var identity: InstanceIdentity { get }
    /// Whether the backend can hold writes until ``commit()`` (an export file: one rewrite per batch instead of
    /// one per call). The runner then journals a step `done` only after the commit that made it durable.
    var holdsWrites: Bool { get }

    /// From now on, hold writes in memory until ``commit()``. A backend that writes through ignores it.
    func beginBatch() async
    /// Makes every held write durable at once. A backend that writes through has nothing to do.
    func commit() async throws

    /// Reads everything forwarding depends on, restricted to some products when the list is not empty.
    func exportSnapshot(products: [String]) async throws -> InstanceSnapshot

    /// The product keys of the instance.
    func listProducts() async throws -> [String]

    /// All consumer groups.
    func listConsumerGroups() async throws -> [ConsumerGroup]
    /// Creates a consumer group and returns the ID the instance assigned.
    func createConsumerGroup(name: String, description: String?) async throws -> String
    /// Deletes a consumer group.
    func deleteConsumerGroup(id: String) async throws

    /// The relation of one product and type, or `nil` when there is none.
    func querySubscribeRelation(productKey: String, type: SubscriptionType) async throws -> SubscribeRelation?
    /// Creates a subscribe relation.
    func createSubscribeRelation(_ relation: SubscribeRelation) async throws
    /// Replaces the flags and consumer groups of an existing relation.
    func updateSubscribeRelation(_ relation: SubscribeRelation) async throws
    /// Deletes a subscribe relation.
    func deleteSubscribeRelation(productKey: String, type: SubscriptionType) async throws

    /// All old-version rules, with their actions.
    func listRules() async throws -> [OldRule]
    /// Rule name → ID, cheaper than ``listRules()`` where the backend can list without actions.
    func ruleIndex() async throws -> [String: String]
    /// Creates a rule (without actions) and returns its ID.
    func createRule(_ rule: OldRule) async throws -> String
    /// The actions of one rule; the error action has `errorAction == true`.
    func listRuleActions(ruleId: String) async throws -> [(action: RuleAction, isErrorAction: Bool)]
    /// Adds an action to a rule and returns its ID.
    func createRuleAction(ruleId: String, action: RuleAction, isErrorAction: Bool) async throws -> String
    /// Adds an action to a rule and returns its ID. `knownActionIds` are the rule's actions before the call: when
    /// the answer is lost, only a matching action outside them can be the call's result, and is adopted.
    func createRuleAction(
        ruleId: String,
        action: RuleAction,
        isErrorAction: Bool,
        knownActionIds: Set<String>
    ) async throws -> String
    /// Starts a rule.
    func startRule(id: String) async throws
    /// Stops a rule.
    func stopRule(id: String) async throws
    /// Deletes a rule (stop it first: running rules cannot be deleted).
    func deleteRule(id: String) async throws

    /// All data sources, with their items.
    func listDataSources() async throws -> [DataSource]
    /// Creates a data source and returns its ID.
    func createDataSource(name: String, description: String?) async throws -> String
    /// Adds a topic to a data source.
    func createDataSourceItem(dataSourceId: String, item: DataSourceItem) async throws
    /// Deletes a data source.
    func deleteDataSource(id: String) async throws

    /// All destinations.
    func listDestinations() async throws -> [Destination]
    /// Creates a destination and returns its ID.
    func createDestination(_ destination: Destination) async throws -> String
    /// Deletes a destination.
    func deleteDestination(id: String) async throws

    /// All parsers, with script, data source and destinations.
    func listParsers() async throws -> [Parser]
    /// Parser name → ID, cheaper than ``listParsers()`` where the backend can list without details.
    func parserIndex() async throws -> [String: String]
    /// One parser with script, data source and destinations, or `nil`.
    func getParser(id: String) async throws -> Parser?
    /// Creates a parser and returns its ID.
    func createParser(name: String, description: String?) async throws -> String
    /// Saves the script draft and publishes it.
    func saveAndPublishScript(parserId: String, script: String) async throws
    /// Saves the script draft without publishing it.
    func saveScriptDraft(parserId: String, script: String) async throws
    /// Binds the parser to its data source.
    func attachDataSource(parserId: String, dataSourceId: String) async throws
    /// Binds a destination to the parser.
    func attachDestination(parserId: String, destinationId: String, isFailover: Bool) async throws
    /// Starts a parser.
    func startParser(id: String) async throws
    /// Stops a parser.
    func stopParser(id: String) async throws
    /// Deletes a parser.
    func deleteParser(id: String) async throws
}

extension InstanceBackend {
    /// Writes go through at once (the OpenAPI): nothing is held.
    public var holdsWrites: Bool { false }

    /// Nothing to hold.
    public func beginBatch() async {}

    /// Nothing held, nothing to commit.
    public func commit() async throws {}

    /// A backend whose calls cannot lose their answer (a file) needs no known IDs.
    public func createRuleAction(
        ruleId: String,
        action: RuleAction,
        isErrorAction: Bool,
        knownActionIds: Set<String>
    ) async throws -> String {
        try await self.createRuleAction(ruleId: ruleId, action: action, isErrorAction: isErrorAction)
    }

    /// Builds the index from ``listRules()``; keeps the first rule of each name.
    public func ruleIndex() async throws -> [String: String] {
        var index: [String: String] = [:]
        for rule in try await self.listRules() where index[rule.name] == nil { index[rule.name] = rule.id }
        return index
    }

    /// Builds the index from ``listParsers()``; keeps the first parser of each name.
    public func parserIndex() async throws -> [String: String] {
        var index: [String: String] = [:]
        for parser in try await self.listParsers() where index[parser.name] == nil { index[parser.name] = parser.id }
        return index
    }

    /// Finds the parser in ``listParsers()``.
    public func getParser(id: String) async throws -> Parser? {
        try await self.listParsers().first { $0.id == id }
    }

    /// Reads everything forwarding depends on into a snapshot, restricted to some products when given.
    public func exportSnapshot(products: [String]) async throws -> InstanceSnapshot {
        var allProducts = try await self.listProducts()
        if !products.isEmpty {
            allProducts = allProducts.filter { products.contains($0) }
        }
        var subscriptions: [SubscribeRelation] = []
        for product in allProducts {
            for type in [SubscriptionType.amqp, .mns] {
                if let relation = try await self.querySubscribeRelation(productKey: product, type: type) {
                    subscriptions.append(relation)
                }
            }
        }
        let snapshot = InstanceSnapshot(
            identity: self.identity,
            products: allProducts,
            consumerGroups: try await self.listConsumerGroups(),
            subscriptions: subscriptions,
            rules: try await self.listRules(),
            dataSources: try await self.listDataSources(),
            destinations: try await self.listDestinations(),
            parsers: try await self.listParsers()
        )
        return snapshot.restricted(to: products)
    }
}
