//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

/// A backend that forwards to another and fails the N-th mutating call, as a kill would: the calls before it
/// happened, the failing one did not (`.before`) or did without the caller learning its result (`.after`).
final class CrashingBackend: InstanceBackend, @unchecked Sendable {
    // @unchecked: the counter is only touched from the single task that runs a migration in these tests.
    enum Mode { case before, after }

    let inner: any InstanceBackend
    let crashAt: Int
    let mode: Mode
    private(set) var mutations = 0

    var identity: InstanceIdentity { self.inner.identity }

    init(_ inner: any InstanceBackend, crashAt: Int, mode: Mode) {
        self.inner = inner
        self.crashAt = crashAt
        self.mode = mode
    }

    struct Crash: Error {}

    private func mutate<T>(_ body: () async throws -> T) async throws -> T {
        self.mutations += 1
        guard self.mutations == self.crashAt else { return try await body() }
        if self.mode == .after { _ = try await body() }
        throw Crash()
    }

    func exportSnapshot(products: [String]) async throws -> InstanceSnapshot {
        try await self.inner.exportSnapshot(products: products)
    }
    func listProducts() async throws -> [String] { try await self.inner.listProducts() }
    func listConsumerGroups() async throws -> [ConsumerGroup] { try await self.inner.listConsumerGroups() }
    func createConsumerGroup(name: String, description: String?) async throws -> String {
        try await self.mutate { try await self.inner.createConsumerGroup(name: name, description: description) }
    }
    func deleteConsumerGroup(id: String) async throws {
        try await self.mutate { try await self.inner.deleteConsumerGroup(id: id) }
    }
    func querySubscribeRelation(productKey: String, type: SubscriptionType) async throws -> SubscribeRelation? {
        try await self.inner.querySubscribeRelation(productKey: productKey, type: type)
    }
    func createSubscribeRelation(_ relation: SubscribeRelation) async throws {
        try await self.mutate { try await self.inner.createSubscribeRelation(relation) }
    }
    func updateSubscribeRelation(_ relation: SubscribeRelation) async throws {
        try await self.mutate { try await self.inner.updateSubscribeRelation(relation) }
    }
    func deleteSubscribeRelation(productKey: String, type: SubscriptionType) async throws {
        try await self.mutate { try await self.inner.deleteSubscribeRelation(productKey: productKey, type: type) }
    }
    func listRules() async throws -> [OldRule] { try await self.inner.listRules() }
    func ruleIndex() async throws -> [String: String] { try await self.inner.ruleIndex() }
    func createRule(_ rule: OldRule) async throws -> String {
        try await self.mutate { try await self.inner.createRule(rule) }
    }
    func listRuleActions(ruleId: String) async throws -> [(action: RuleAction, isErrorAction: Bool)] {
        try await self.inner.listRuleActions(ruleId: ruleId)
    }
    func createRuleAction(ruleId: String, action: RuleAction, isErrorAction: Bool) async throws -> String {
        try await self.mutate {
            try await self.inner.createRuleAction(ruleId: ruleId, action: action, isErrorAction: isErrorAction)
        }
    }
    func startRule(id: String) async throws { try await self.mutate { try await self.inner.startRule(id: id) } }
    func stopRule(id: String) async throws { try await self.mutate { try await self.inner.stopRule(id: id) } }
    func deleteRule(id: String) async throws { try await self.mutate { try await self.inner.deleteRule(id: id) } }
    func listDataSources() async throws -> [DataSource] { try await self.inner.listDataSources() }
    func createDataSource(name: String, description: String?) async throws -> String {
        try await self.mutate { try await self.inner.createDataSource(name: name, description: description) }
    }
    func createDataSourceItem(dataSourceId: String, item: DataSourceItem) async throws {
        try await self.mutate { try await self.inner.createDataSourceItem(dataSourceId: dataSourceId, item: item) }
    }
    func deleteDataSource(id: String) async throws {
        try await self.mutate { try await self.inner.deleteDataSource(id: id) }
    }
    func listDestinations() async throws -> [Destination] { try await self.inner.listDestinations() }
    func createDestination(_ destination: Destination) async throws -> String {
        try await self.mutate { try await self.inner.createDestination(destination) }
    }
    func deleteDestination(id: String) async throws {
        try await self.mutate { try await self.inner.deleteDestination(id: id) }
    }
    func listParsers() async throws -> [Parser] { try await self.inner.listParsers() }
    func parserIndex() async throws -> [String: String] { try await self.inner.parserIndex() }
    func getParser(id: String) async throws -> Parser? { try await self.inner.getParser(id: id) }
    func createParser(name: String, description: String?) async throws -> String {
        try await self.mutate { try await self.inner.createParser(name: name, description: description) }
    }
    func saveAndPublishScript(parserId: String, script: String) async throws {
        try await self.mutate { try await self.inner.saveAndPublishScript(parserId: parserId, script: script) }
    }
    func saveScriptDraft(parserId: String, script: String) async throws {
        try await self.mutate { try await self.inner.saveScriptDraft(parserId: parserId, script: script) }
    }
    func attachDataSource(parserId: String, dataSourceId: String) async throws {
        try await self.mutate { try await self.inner.attachDataSource(parserId: parserId, dataSourceId: dataSourceId) }
    }
    func attachDestination(parserId: String, destinationId: String, isFailover: Bool) async throws {
        try await self.mutate {
            try await self.inner.attachDestination(
                parserId: parserId,
                destinationId: destinationId,
                isFailover: isFailover
            )
        }
    }
    func startParser(id: String) async throws { try await self.mutate { try await self.inner.startParser(id: id) } }
    func stopParser(id: String) async throws { try await self.mutate { try await self.inner.stopParser(id: id) } }
    func deleteParser(id: String) async throws { try await self.mutate { try await self.inner.deleteParser(id: id) } }
}
