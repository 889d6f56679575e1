//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import Rules

/// An instance held in an export file: planning works offline, and tests need no cloud.
///
/// The file is read once. Each write goes back to the file at once (atomically, via rename) unless a batch is
/// open (``beginBatch()``, used by `migrate run`/`clean`): then writes are held in memory and ``commit()``
/// rewrites the file once per batch, still via rename, so a kill leaves the file as of the last commit — valid,
/// and the runner's journal agrees with it. Rewriting a file drops its comments; the first rewrite says so once.
public actor FileBackend: InstanceBackend {
    /// Which instance the file stands for.
    public nonisolated let identity: InstanceIdentity
    /// The export file.
    public nonisolated let path: String
    /// An export file holds writes until ``commit()`` while a batch is open.
    public nonisolated var holdsWrites: Bool { true }
    /// The instance's current content.
    private var snapshot: InstanceSnapshot
    /// Whether writes wait for ``commit()``.
    private var batching = false
    /// Whether the snapshot has changes the file does not have yet.
    private var dirty = false
    /// Whether the file had comments of its own that the next rewrite drops (warned about once).
    private var hasComments: Bool
    private let logger: Logger
    /// The file's `assessment:` section (facts for `migrate assess`), kept so that writes do not drop it.
    let assessment: InstanceFacts?

    /// Opens an export file; a missing file is an empty instance when `createIfMissing` is set.
    public init(
        path: String,
        identity: InstanceIdentity? = nil,
        createIfMissing: Bool = false,
        logger: Logger = Logger(label: "iotbridge.migration")
    ) throws {
        self.path = path
        self.logger = logger
        let loaded: InstanceSnapshot
        if !FileManager.default.fileExists(atPath: path), createIfMissing {
            loaded = InstanceSnapshot(identity: identity ?? InstanceIdentity(kind: "file"))
            self.hasComments = false
            self.assessment = nil
        } else {
            let text: String
            do {
                text = try TextFile.read(path, what: "the export file")
            } catch {
                throw MigrationError(.config, error.description, location: path)
            }
            loaded = try YAMLFile.decode(InstanceSnapshot.self, from: text, file: path)
            self.assessment = try YAMLFile.decode(ExportAssessmentSection.self, from: text, file: path).assessment
            self.hasComments = Self.hasOwnComments(text)
        }
        self.snapshot = loaded
        // What migration.yaml says wins; what it leaves out (a `kind: file` side rarely names its instance) comes
        // from the export, so an Enterprise instance's export is known as Enterprise.
        var merged = identity ?? loaded.identity
        if (merged.iotInstanceId ?? "").isEmpty { merged.iotInstanceId = loaded.identity.iotInstanceId }
        if merged.regionId == nil { merged.regionId = loaded.identity.regionId }
        self.identity = merged
    }

    /// Whether a comment line other than the header ``write(_:to:)`` puts there is in the text.
    static func hasOwnComments(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            return trimmed.hasPrefix("#") && !line.hasPrefix(Self.header.dropLast())
        }
    }

    /// The first line of every export file.
    static let header = "# iotbridge instance export: consumer groups, subscriptions and forwarding rules.\n"

    /// Writes a snapshot as an export file, with the facts for `migrate assess` when given.
    public static func write(_ snapshot: InstanceSnapshot, assessment: InstanceFacts? = nil, to path: String) throws {
        try YAMLFile.write(ExportFile(snapshot: snapshot, assessment: assessment), to: path, header: Self.header)
    }

    /// Holds writes until ``commit()``.
    public func beginBatch() async {
        self.batching = true
    }

    /// Rewrites the file once with every held write (atomically, via rename); nothing to do when unchanged.
    public func commit() async throws {
        guard self.dirty else { return }
        try self.rewrite()
    }

    private func save() throws {
        self.dirty = true
        guard !self.batching else { return }
        try self.rewrite()
    }

    private func rewrite() throws {
        if self.hasComments {
            self.logger.warning(
                "rewriting the export file drops its comments (it is written back as an export)",
                metadata: ["file": "\(self.path)"]
            )
            self.hasComments = false
        }
        try Self.write(self.snapshot, assessment: self.assessment, to: self.path)
        self.dirty = false
    }

    private func newId(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }

    /// Reads everything forwarding depends on, restricted to some products when the list is not empty.
    public func exportSnapshot(products: [String]) async throws -> InstanceSnapshot {
        var copy = self.snapshot
        copy.identity = self.identity
        return copy.restricted(to: products)
    }

    /// The product keys of the instance.
    public func listProducts() async throws -> [String] { self.snapshot.products }

    /// All consumer groups.
    public func listConsumerGroups() async throws -> [ConsumerGroup] { self.snapshot.consumerGroups }

    /// Creates a consumer group and returns the ID the instance assigned.
    public func createConsumerGroup(name: String, description: String?) async throws -> String {
        let id = self.newId("G")
        self.snapshot.consumerGroups.append(ConsumerGroup(id: id, name: name, description: description))
        try self.save()
        return id
    }

    /// Deletes a consumer group.
    public func deleteConsumerGroup(id: String) async throws {
        self.snapshot.consumerGroups.removeAll { $0.id == id }
        try self.save()
    }

    /// The relation of one product and type, or `nil` when there is none.
    public func querySubscribeRelation(productKey: String, type: SubscriptionType) async throws -> SubscribeRelation? {
        self.snapshot.subscriptions.first { $0.productKey == productKey && $0.type == type }
    }

    /// Creates a subscribe relation.
    public func createSubscribeRelation(_ relation: SubscribeRelation) async throws {
        guard try await self.querySubscribeRelation(productKey: relation.productKey, type: relation.type) == nil else {
            throw MigrationError(.conflict, "\(relation.type.rawValue) relation of \(relation.productKey) exists")
        }
        self.snapshot.subscriptions.append(relation)
        if !self.snapshot.products.contains(relation.productKey) {
            self.snapshot.products.append(relation.productKey)
        }
        try self.save()
    }

    /// Replaces the flags and consumer groups of an existing relation.
    public func updateSubscribeRelation(_ relation: SubscribeRelation) async throws {
        guard
            let index = self.snapshot.subscriptions.firstIndex(where: {
                $0.productKey == relation.productKey && $0.type == relation.type
            })
        else {
            throw MigrationError(.notFound, "no \(relation.type.rawValue) relation of \(relation.productKey)")
        }
        self.snapshot.subscriptions[index] = relation
        try self.save()
    }

    /// Deletes a subscribe relation.
    public func deleteSubscribeRelation(productKey: String, type: SubscriptionType) async throws {
        self.snapshot.subscriptions.removeAll { $0.productKey == productKey && $0.type == type }
        try self.save()
    }

    /// All old-version rules, with their actions.
    public func listRules() async throws -> [OldRule] { self.snapshot.rules }

    /// Creates a rule (without actions) and returns its ID.
    public func createRule(_ rule: OldRule) async throws -> String {
        var copy = rule
        copy.id = self.newId("")
        copy.actions = []
        copy.errorAction = nil
        copy.status = .stopped
        self.snapshot.rules.append(copy)
        try self.save()
        return copy.id
    }

    private func ruleIndex(_ id: String) throws -> Int {
        guard let index = self.snapshot.rules.firstIndex(where: { $0.id == id }) else {
            throw MigrationError(.notFound, "rule \(id) does not exist")
        }
        return index
    }

    /// The actions of one rule; the error action has `errorAction == true`.
    public func listRuleActions(ruleId: String) async throws -> [(action: RuleAction, isErrorAction: Bool)] {
        let rule = self.snapshot.rules[try self.ruleIndex(ruleId)]
        return rule.actions.map { ($0, false) } + (rule.errorAction.map { [($0, true)] } ?? [])
    }

    /// Adds an action to a rule and returns its ID.
    public func createRuleAction(ruleId: String, action: RuleAction, isErrorAction: Bool) async throws -> String {
        let index = try self.ruleIndex(ruleId)
        var copy = action
        copy.id = self.newId("")
        if isErrorAction {
            self.snapshot.rules[index].errorAction = copy
        } else {
            self.snapshot.rules[index].actions.append(copy)
        }
        try self.save()
        return copy.id!
    }

    /// Starts a rule.
    public func startRule(id: String) async throws {
        self.snapshot.rules[try self.ruleIndex(id)].status = .running
        try self.save()
    }

    /// Stops a rule.
    public func stopRule(id: String) async throws {
        self.snapshot.rules[try self.ruleIndex(id)].status = .stopped
        try self.save()
    }

    /// Deletes a rule (stop it first: running rules cannot be deleted).
    public func deleteRule(id: String) async throws {
        self.snapshot.rules.removeAll { $0.id == id }
        try self.save()
    }

    /// All data sources, with their items.
    public func listDataSources() async throws -> [DataSource] { self.snapshot.dataSources }

    /// Creates a data source and returns its ID.
    public func createDataSource(name: String, description: String?) async throws -> String {
        let id = self.newId("")
        self.snapshot.dataSources.append(DataSource(id: id, name: name, description: description))
        try self.save()
        return id
    }

    /// Adds a topic to a data source.
    public func createDataSourceItem(dataSourceId: String, item: DataSourceItem) async throws {
        guard let index = self.snapshot.dataSources.firstIndex(where: { $0.id == dataSourceId }) else {
            throw MigrationError(.notFound, "data source \(dataSourceId) does not exist")
        }
        var copy = item
        copy.id = self.newId("")
        self.snapshot.dataSources[index].items.append(copy)
        try self.save()
    }

    /// Deletes a data source.
    public func deleteDataSource(id: String) async throws {
        self.snapshot.dataSources.removeAll { $0.id == id }
        try self.save()
    }

    /// All destinations.
    public func listDestinations() async throws -> [Destination] { self.snapshot.destinations }

    /// Creates a destination and returns its ID.
    public func createDestination(_ destination: Destination) async throws -> String {
        var copy = destination
        copy.id = String(1000 + self.snapshot.destinations.count + Int.random(in: 0..<1_000_000) * 1000)
        self.snapshot.destinations.append(copy)
        try self.save()
        return copy.id
    }

    /// Deletes a destination.
    public func deleteDestination(id: String) async throws {
        self.snapshot.destinations.removeAll { $0.id == id }
        try self.save()
    }

    /// All parsers, with script, data source and destinations.
    public func listParsers() async throws -> [Parser] { self.snapshot.parsers }

    private func parserIndex(_ id: String) throws -> Int {
        guard let index = self.snapshot.parsers.firstIndex(where: { $0.id == id }) else {
            throw MigrationError(.notFound, "parser \(id) does not exist")
        }
        return index
    }

    /// Creates a parser and returns its ID.
    public func createParser(name: String, description: String?) async throws -> String {
        let id = self.newId("")
        self.snapshot.parsers.append(Parser(id: id, name: name, description: description))
        try self.save()
        return id
    }

    /// Saves the script draft and publishes it.
    public func saveAndPublishScript(parserId: String, script: String) async throws {
        let index = try self.parserIndex(parserId)
        self.snapshot.parsers[index].scriptDraft = script
        self.snapshot.parsers[index].script = script
        try self.save()
    }

    /// Saves the script draft without publishing it.
    public func saveScriptDraft(parserId: String, script: String) async throws {
        self.snapshot.parsers[try self.parserIndex(parserId)].scriptDraft = script
        try self.save()
    }

    /// Binds the parser to its data source.
    public func attachDataSource(parserId: String, dataSourceId: String) async throws {
        self.snapshot.parsers[try self.parserIndex(parserId)].dataSourceId = dataSourceId
        try self.save()
    }

    /// Binds a destination to the parser.
    public func attachDestination(parserId: String, destinationId: String, isFailover: Bool) async throws {
        let index = try self.parserIndex(parserId)
        if isFailover {
            self.snapshot.parsers[index].errorDestinationId = destinationId
        } else if !self.snapshot.parsers[index].destinationIds.contains(destinationId) {
            self.snapshot.parsers[index].destinationIds.append(destinationId)
        }
        try self.save()
    }

    /// Starts a parser.
    public func startParser(id: String) async throws {
        self.snapshot.parsers[try self.parserIndex(id)].status = .running
        try self.save()
    }

    /// Stops a parser.
    public func stopParser(id: String) async throws {
        self.snapshot.parsers[try self.parserIndex(id)].status = .stopped
        try self.save()
    }

    /// Deletes a parser.
    public func deleteParser(id: String) async throws {
        self.snapshot.parsers.removeAll { $0.id == id }
        try self.save()
    }
}
