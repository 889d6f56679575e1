//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How a planned step compares with what the target holds: the core of idempotent planning and of `verify`.
public enum TargetMatch: Sendable, Hashable {
    /// Nothing of that name (or product) exists.
    case absent
    /// It exists in the planned form, with this ID.
    case same(id: String)
    /// It exists under this ID, but differs as described.
    case different(id: String, reason: String)
}

/// Compares plan steps with a snapshot of the target.
public struct TargetComparison: Sendable {
    /// The target as it is now.
    public var target: InstanceSnapshot
    /// Symbol → target ID for every step that has one.
    public var ids: [String: String]

    /// Creates a comparison.
    public init(target: InstanceSnapshot, ids: [String: String]) {
        self.target = target
        self.ids = ids
    }

    private func resolve(_ text: String) -> String? {
        try? ReferenceRewriter.resolve(text, ids: self.ids)
    }

    private func resolveJSON(_ text: String) -> String? {
        self.resolve(text).map(ReferenceRewriter.canonicalJSON)
    }

    /// Matches one step. Steps that act on the source (`stopSource…`) are `.absent` here.
    public func match(_ step: PlanStep) -> TargetMatch {
        switch step.action {
        case .createConsumerGroup:
            guard let spec = step.consumerGroup,
                let group = self.target.consumerGroups.first(where: { $0.name == spec.name })
            else { return .absent }
            return .same(id: group.id)
        case .createDestination:
            guard let spec = step.destination,
                let found = self.target.destinations.first(where: { $0.name == spec.name })
            else { return .absent }
            if found.type != spec.type {
                return .different(id: found.id, reason: "type \(found.type), planned \(spec.type)")
            }
            guard let config = self.resolveJSON(spec.configuration) else {
                return .different(id: found.id, reason: "configuration references a consumer group not yet created")
            }
            if config != ReferenceRewriter.canonicalJSON(found.configuration) {
                return .different(id: found.id, reason: "configuration \(found.configuration), planned \(config)")
            }
            return .same(id: found.id)
        case .createDataSource:
            guard let spec = step.dataSource,
                let found = self.target.dataSources.first(where: { $0.name == spec.name })
            else { return .absent }
            let have = Set(found.items.map(\.form))
            let want = Set(spec.items.map(\.form))
            if have != want {
                let missing = want.subtracting(have).map(\.topic).sorted()
                let extra = have.subtracting(want).map(\.topic).sorted()
                return .different(id: found.id, reason: "topics missing \(missing), extra \(extra)")
            }
            return .same(id: found.id)
        case .createParser:
            guard let spec = step.parser, let found = self.target.parsers.first(where: { $0.name == spec.name }) else {
                return .absent
            }
            return self.compare(parser: found, spec: spec)
        case .createSubscription:
            guard let spec = step.subscription,
                let found = self.target.subscriptions.first(where: {
                    $0.productKey == spec.productKey && $0.type == .amqp
                })
            else { return .absent }
            let id = spec.productKey
            if Set(found.flags) != Set(spec.flags) {
                return .different(
                    id: id,
                    reason: "flags \(found.flags.map(\.rawValue)), planned \(spec.flags.map(\.rawValue))"
                )
            }
            let groups = spec.consumerGroups.map { self.resolve($0) }
            if groups.contains(nil) { return .different(id: id, reason: "a planned consumer group is not created yet") }
            if Set(groups.compactMap { $0 }) != Set(found.consumerGroupIds) {
                return .different(
                    id: id,
                    reason:
                        "consumer groups \(found.consumerGroupIds.sorted()), planned \(groups.compactMap { $0 }.sorted())"
                )
            }
            if (found.subscribeFlags.map(ReferenceRewriter.canonicalJSON) ?? "")
                != (spec.subscribeFlags.map(ReferenceRewriter.canonicalJSON) ?? "")
            {
                return .different(
                    id: id,
                    reason: "SubscribeFlags \(found.subscribeFlags ?? "-"), planned \(spec.subscribeFlags ?? "-")"
                )
            }
            return .same(id: id)
        case .createRule:
            guard let spec = step.rule, let found = self.target.rules.first(where: { $0.name == spec.name }) else {
                return .absent
            }
            return self.compare(rule: found, spec: spec)
        case .stopSourceRule, .stopSourceParser:
            return .absent
        }
    }

    private func compare(parser found: Parser, spec: ParserSpec) -> TargetMatch {
        let id = found.id
        if let script = spec.script {
            guard let resolved = self.resolve(script) else {
                return .different(id: id, reason: "script references a destination not yet created")
            }
            if (found.script ?? found.scriptDraft) != resolved { return .different(id: id, reason: "script differs") }
        }
        if let draft = spec.scriptDraft {
            guard let resolved = self.resolve(draft) else {
                return .different(id: id, reason: "draft references a destination not yet created")
            }
            if found.scriptDraft != resolved { return .different(id: id, reason: "draft differs") }
        }
        if let dataSource = spec.dataSource, found.dataSourceId != self.resolve(dataSource) {
            return .different(id: id, reason: "data source \(found.dataSourceId ?? "none"), planned \(dataSource)")
        }
        let destinations = spec.destinations.map { self.resolve($0) }
        if destinations.contains(nil) || Set(destinations.compactMap { $0 }) != Set(found.destinationIds) {
            return .different(
                id: id,
                reason: "destinations \(found.destinationIds.sorted()), planned \(spec.destinations)"
            )
        }
        if spec.errorDestination.flatMap({ self.resolve($0) }) != found.errorDestinationId {
            return .different(id: id, reason: "failover destination \(found.errorDestinationId ?? "none")")
        }
        if spec.start, found.status != .running { return .different(id: id, reason: "not running") }
        return .same(id: id)
    }

    private func compare(rule found: OldRule, spec: RuleSpec) -> TargetMatch {
        let id = found.id
        let fields: [(String, String?, String?)] = [
            ("productKey", found.productKey, spec.productKey),
            ("shortTopic", found.shortTopic, spec.shortTopic),
            ("topic", found.topic, spec.topic),
            ("topicType", found.topicType.map(String.init), spec.topicType.map(String.init)),
            ("select", found.select, spec.select),
            ("where", found.where, spec.where),
            ("dataType", found.dataType, spec.dataType),
        ]
        for (name, have, want) in fields where (have ?? "") != (want ?? "") {
            return .different(id: id, reason: "\(name) is \(have ?? "empty"), planned \(want ?? "empty")")
        }
        let want = spec.actions.map { action in self.resolveJSON(action.configuration).map { "\(action.type) \($0)" } }
        if want.contains(nil) {
            return .different(id: id, reason: "an action references a consumer group not yet created")
        }
        let have = found.actions.map { "\($0.type) \(ReferenceRewriter.canonicalJSON($0.configuration))" }
        if have.sorted() != want.compactMap({ $0 }).sorted() {
            return .different(id: id, reason: "actions \(have.sorted()), planned \(want.compactMap { $0 }.sorted())")
        }
        let wantError = spec.errorAction.map { action in
            "\(action.type) \(self.resolveJSON(action.configuration) ?? action.configuration)"
        }
        let haveError = found.errorAction.map { "\($0.type) \(ReferenceRewriter.canonicalJSON($0.configuration))" }
        if wantError != haveError {
            return .different(id: id, reason: "error action \(haveError ?? "none"), planned \(wantError ?? "none")")
        }
        if spec.start, found.status != .running { return .different(id: id, reason: "not running") }
        return .same(id: id)
    }
}
