//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Logging

/// Name → ID look-ups on the target, loaded once per command and kept current as steps create and delete.
///
/// Not `Sendable`: one command's task owns it.
final class TargetIndex {
    private let backend: any InstanceBackend
    private var groups: [String: String]?
    private var destinations: [String: String]?
    private var dataSources: [String: DataSource]?
    private var parsers: [String: String]?
    private var rules: [String: String]?

    init(backend: any InstanceBackend) {
        self.backend = backend
    }

    func group(named name: String) async throws -> String? {
        if self.groups == nil {
            var map: [String: String] = [:]
            for group in try await self.backend.listConsumerGroups() where map[group.name] == nil {
                map[group.name] = group.id
            }
            self.groups = map
        }
        return self.groups?[name]
    }

    func setGroup(_ name: String, _ id: String?) { self.groups?[name] = id }

    func destination(named name: String) async throws -> String? {
        if self.destinations == nil {
            var map: [String: String] = [:]
            for destination in try await self.backend.listDestinations() where map[destination.name] == nil {
                map[destination.name] = destination.id
            }
            self.destinations = map
        }
        return self.destinations?[name]
    }

    func setDestination(_ name: String, _ id: String?) { self.destinations?[name] = id }

    func dataSource(named name: String) async throws -> DataSource? {
        if self.dataSources == nil {
            var map: [String: DataSource] = [:]
            for source in try await self.backend.listDataSources() where map[source.name] == nil {
                map[source.name] = source
            }
            self.dataSources = map
        }
        return self.dataSources?[name]
    }

    func setDataSource(_ name: String, _ value: DataSource?) { self.dataSources?[name] = value }

    func parser(named name: String) async throws -> String? {
        if self.parsers == nil { self.parsers = try await self.backend.parserIndex() }
        return self.parsers?[name]
    }

    func setParser(_ name: String, _ id: String?) { self.parsers?[name] = id }

    func rule(named name: String) async throws -> String? {
        if self.rules == nil { self.rules = try await self.backend.ruleIndex() }
        return self.rules?[name]
    }

    func setRule(_ name: String, _ id: String?) { self.rules?[name] = id }
}

/// Performs plan steps against the target (and, for source stops, the source). Every step is idempotent: it
/// looks the resource up by name before creating it, and completes what a killed attempt left half done.
///
/// Within a call, a lost answer is handled by the backend (it looks up before sending a create again); across a
/// kill, by the look-ups here and, for rule actions, by the ``CallJournal`` record written before each call.
struct StepExecutor {
    let target: any InstanceBackend
    let source: any InstanceBackend
    let index: TargetIndex
    let calls: CallJournal?
    let logger: Logger

    init(
        target: any InstanceBackend,
        source: any InstanceBackend,
        calls: CallJournal? = nil,
        logger: Logger = Logger(label: "iotbridge.migration")
    ) {
        self.target = target
        self.source = source
        self.index = TargetIndex(backend: target)
        self.calls = calls
        self.logger = logger
    }

    /// The target ID of the step's resource when the target has one of that name (or product), without changing
    /// anything.
    func lookup(_ step: PlanStep) async throws -> String? {
        switch step.action {
        case .createConsumerGroup: return try await self.index.group(named: step.consumerGroup!.name)
        case .createDestination: return try await self.index.destination(named: step.destination!.name)
        case .createDataSource: return try await self.index.dataSource(named: step.dataSource!.name)?.id
        case .createParser: return try await self.index.parser(named: step.parser!.name)
        case .createRule: return try await self.index.rule(named: step.rule!.name)
        case .createSubscription:
            let productKey = step.subscription!.productKey
            return try await self.target.querySubscribeRelation(productKey: productKey, type: .amqp) == nil
                ? nil : productKey
        case .stopSourceRule, .stopSourceParser: return nil
        }
    }

    /// Executes a step and returns the target ID and whether this call created the resource.
    func apply(_ step: PlanStep, ids: [String: String]) async throws -> (targetId: String?, created: Bool) {
        switch step.action {
        case .createConsumerGroup:
            let spec = step.consumerGroup!
            if let id = try await self.index.group(named: spec.name) { return (id, false) }
            let id = try await self.target.createConsumerGroup(name: spec.name, description: nil)
            self.index.setGroup(spec.name, id)
            return (id, true)
        case .createDestination:
            let spec = step.destination!
            if let id = try await self.index.destination(named: spec.name) { return (id, false) }
            let destination = Destination(
                id: "",
                name: spec.name,
                type: spec.type,
                configuration: try ReferenceRewriter.resolve(spec.configuration, ids: ids),
                description: spec.description
            )
            let id = try await self.target.createDestination(destination)
            self.index.setDestination(spec.name, id)
            return (id, true)
        case .createDataSource:
            return try await self.applyDataSource(step.dataSource!)
        case .createParser:
            return try await self.applyParser(step.parser!, ids: ids)
        case .createSubscription:
            let spec = step.subscription!
            let relation = SubscribeRelation(
                productKey: spec.productKey,
                type: .amqp,
                flags: spec.flags,
                subscribeFlags: spec.subscribeFlags,
                consumerGroupIds: try spec.consumerGroups.map { try ReferenceRewriter.resolve($0, ids: ids) }
            )
            if let existing = try await self.target.querySubscribeRelation(productKey: spec.productKey, type: .amqp) {
                if Set(existing.flags) != Set(relation.flags)
                    || Set(existing.consumerGroupIds) != Set(relation.consumerGroupIds)
                    || existing.subscribeFlags != relation.subscribeFlags
                {
                    try await self.target.updateSubscribeRelation(relation)
                }
                return (spec.productKey, false)
            }
            try await self.target.createSubscribeRelation(relation)
            return (spec.productKey, true)
        case .createRule:
            return try await self.applyRule(step.rule!, stepId: step.id, ids: ids)
        case .stopSourceRule:
            try await self.source.stopRule(id: step.sourceResource!.sourceId)
            return (step.sourceResource!.sourceId, false)
        case .stopSourceParser:
            try await self.source.stopParser(id: step.sourceResource!.sourceId)
            return (step.sourceResource!.sourceId, false)
        }
    }

    private func applyDataSource(_ spec: DataSourceSpec) async throws -> (targetId: String?, created: Bool) {
        var created = false
        var current: DataSource
        if let found = try await self.index.dataSource(named: spec.name) {
            current = found
        } else {
            let id = try await self.target.createDataSource(name: spec.name, description: spec.description)
            current = DataSource(id: id, name: spec.name, description: spec.description)
            created = true
        }
        let have = Set(current.items.map(\.form))
        for item in spec.items where !have.contains(item.form) {
            try await self.target.createDataSourceItem(dataSourceId: current.id, item: item)
            current.items.append(item)
            // Keep the index current after every item: a failure mid-way must not make a retry re-add them.
            self.index.setDataSource(spec.name, current)
        }
        self.index.setDataSource(spec.name, current)
        return (current.id, created)
    }

    private func applyParser(
        _ spec: ParserSpec,
        ids: [String: String]
    ) async throws -> (targetId: String?, created: Bool) {
        var created = false
        var current: Parser?
        let id: String
        if let found = try await self.index.parser(named: spec.name) {
            id = found
            current = try await self.target.getParser(id: found)
        } else {
            id = try await self.target.createParser(name: spec.name, description: spec.description)
            self.index.setParser(spec.name, id)
            created = true
        }
        if let script = spec.script {
            let resolved = try ReferenceRewriter.resolve(script, ids: ids)
            if current?.script != resolved {
                try await self.target.saveAndPublishScript(parserId: id, script: resolved)
                current?.scriptDraft = resolved
            }
        }
        // After publishing: publishing overwrites the draft, saving a draft leaves the published script alone.
        if let draft = spec.scriptDraft {
            let resolved = try ReferenceRewriter.resolve(draft, ids: ids)
            if current?.scriptDraft != resolved {
                try await self.target.saveScriptDraft(parserId: id, script: resolved)
            }
        }
        if let dataSource = spec.dataSource {
            let resolved = try ReferenceRewriter.resolve(dataSource, ids: ids)
            if current?.dataSourceId != resolved {
                try await self.target.attachDataSource(parserId: id, dataSourceId: resolved)
            }
        }
        for destination in spec.destinations {
            let resolved = try ReferenceRewriter.resolve(destination, ids: ids)
            if current?.destinationIds.contains(resolved) != true {
                try await self.target.attachDestination(parserId: id, destinationId: resolved, isFailover: false)
            }
        }
        if let failover = spec.errorDestination {
            let resolved = try ReferenceRewriter.resolve(failover, ids: ids)
            if current?.errorDestinationId != resolved {
                try await self.target.attachDestination(parserId: id, destinationId: resolved, isFailover: true)
            }
        }
        if spec.start, current?.status != .running {
            try await self.target.startParser(id: id)
        }
        return (id, created)
    }

    private func applyRule(
        _ spec: RuleSpec,
        stepId: String,
        ids: [String: String]
    ) async throws -> (targetId: String?, created: Bool) {
        var created = false
        // The rule's actions on the target: a multiset, so a rule that wants two equal actions gets two.
        var remaining: [RuleActionKey] = []
        var known = Set<String>()
        let id: String
        if let found = try await self.index.rule(named: spec.name) {
            id = found
            // Resuming: keep what a killed attempt already added.
            let actions = try await self.target.listRuleActions(ruleId: id)
            remaining = actions.map { RuleActionKey($0.action, isErrorAction: $0.isErrorAction) }
            known = Set(actions.compactMap(\.action.id))
            if let attempt = try await self.calls?.pending(stepId: stepId), attempt.ruleId == id {
                // The call a kill cut off: only an action that was not there before it can be its result.
                let before = Set(attempt.knownActionIds)
                let adopted = actions.filter { found in
                    guard let actionId = found.action.id, !before.contains(actionId) else { return false }
                    return RuleActionKey(found.action, isErrorAction: found.isErrorAction).description
                        == attempt.action
                }
                self.logger.notice(
                    "resuming a rule action call whose answer was lost",
                    metadata: [
                        "migration.step": "\(stepId)", "rule.id": "\(id)",
                        "adopted": "\(adopted.compactMap(\.action.id))",
                    ]
                )
            }
        } else {
            let rule = OldRule(
                id: "",
                name: spec.name,
                productKey: spec.productKey,
                shortTopic: spec.shortTopic,
                topic: spec.topic,
                topicType: spec.topicType,
                select: spec.select,
                where: spec.where,
                dataType: spec.dataType,
                description: spec.description
            )
            id = try await self.target.createRule(rule)
            self.index.setRule(spec.name, id)
            created = true
        }
        let wanted = spec.actions.map { ($0, false) } + (spec.errorAction.map { [($0, true)] } ?? [])
        var recorded = false
        for (action, isError) in wanted {
            let resolved = RuleAction(
                type: action.type,
                configuration: try ReferenceRewriter.resolve(action.configuration, ids: ids)
            )
            let key = RuleActionKey(resolved, isErrorAction: isError)
            if let at = remaining.firstIndex(of: key) {
                remaining.remove(at: at)
                continue
            }
            // Journal the call before it goes out: a resume after a kill needs what was there before it.
            try await self.calls?.record(
                RuleActionAttempt(ruleId: id, knownActionIds: known.sorted(), action: key.description),
                stepId: stepId
            )
            recorded = true
            let actionId = try await self.target.createRuleAction(
                ruleId: id,
                action: resolved,
                isErrorAction: isError,
                knownActionIds: known
            )
            if !actionId.isEmpty { known.insert(actionId) }
        }
        if recorded { try await self.calls?.clear(stepId: stepId) }
        if spec.start {
            try await self.target.startRule(id: id)
        }
        return (id, created)
    }

    /// Deletes what a journal entry names; absent resources count as deleted. The name decides, not the
    /// recorded ID: a kill may have struck between the create call and the journal write.
    func delete(action: StepAction, name: String) async throws {
        switch action {
        case .createConsumerGroup:
            guard let id = try await self.index.group(named: name) else { return }
            try await self.target.deleteConsumerGroup(id: id)
            self.index.setGroup(name, nil)
        case .createDestination:
            guard let id = try await self.index.destination(named: name) else { return }
            try await self.target.deleteDestination(id: id)
            self.index.setDestination(name, nil)
        case .createDataSource:
            guard let id = try await self.index.dataSource(named: name)?.id else { return }
            try await self.target.deleteDataSource(id: id)
            self.index.setDataSource(name, nil)
        case .createParser:
            guard let id = try await self.index.parser(named: name) else { return }
            // Running parsers cannot be deleted.
            try await self.target.stopParser(id: id)
            try await self.target.deleteParser(id: id)
            self.index.setParser(name, nil)
        case .createSubscription:
            let productKey = String(name.split(separator: "/").first ?? "")
            guard try await self.target.querySubscribeRelation(productKey: productKey, type: .amqp) != nil else {
                return
            }
            try await self.target.deleteSubscribeRelation(productKey: productKey, type: .amqp)
        case .createRule:
            guard let id = try await self.index.rule(named: name) else { return }
            // Running rules cannot be deleted.
            try await self.target.stopRule(id: id)
            try await self.target.deleteRule(id: id)
            self.index.setRule(name, nil)
        case .stopSourceRule, .stopSourceParser:
            return
        }
    }

    /// Starts a source rule or parser that a stop step stopped.
    func restart(_ step: (action: StepAction, sourceId: String)) async throws {
        switch step.action {
        case .stopSourceRule: try await self.source.startRule(id: step.sourceId)
        case .stopSourceParser: try await self.source.startParser(id: step.sourceId)
        default: return
        }
    }
}
