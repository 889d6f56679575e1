//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Computes a migration plan from a snapshot of the source and one of the target. Pure: no I/O.
///
/// Order of the steps: consumer groups, destinations, data sources, parsers, subscriptions, rules, then (when
/// asked) stopping the migrated rules and parsers on the source. Every step comes after the steps it references.
public struct MigrationPlanner: Sendable {
    /// The `options` of migration.yaml.
    public var options: MigrationOptions

    /// Creates a planner.
    public init(options: MigrationOptions) {
        self.options = options
    }

    /// Builds the plan.
    public func plan(
        source fullSource: InstanceSnapshot,
        target: InstanceSnapshot,
        configPath: String? = nil,
        now: Date = Date()
    ) -> MigrationPlan {
        var state = PlanningState(
            options: self.options,
            source: fullSource.restricted(to: self.options.products),
            target: target
        )
        state.planConsumerGroups()
        state.planDestinations()
        state.planDataSources()
        state.planParsers()
        state.planSubscriptions()
        state.planRules()
        state.planSourceStops()
        let fingerprint = state.source.fingerprint
        let steps =
            state.groupSteps + state.destinationSteps + state.dataSourceSteps + state.parserSteps
            + state.subscriptionSteps + state.ruleSteps + state.stopSteps
        let stamp = OpenAPITimestamp.compact(now)
        return MigrationPlan(
            migrationId: "mig-\(stamp)-\(fingerprint.dropFirst("sha256:".count).prefix(8))",
            createdAt: OpenAPITimestamp.iso(now),
            config: configPath,
            source: fullSource.identity,
            target: target.identity,
            products: self.options.products,
            sourceFingerprint: fingerprint,
            consumerGroupMap: state.mappings,
            findings: state.findings,
            consumerImpact: state.impact,
            steps: steps
        )
    }
}

/// Timestamps for plan metadata.
enum OpenAPITimestamp {
    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func compact(_ date: Date) -> String {
        Self.iso(date).filter { $0.isNumber }.prefix(14).description
    }
}

/// The working state of one planning pass.
struct PlanningState {
    let options: MigrationOptions
    let source: InstanceSnapshot
    let target: InstanceSnapshot
    /// Symbol → target ID of what already exists, so that references to it compare at plan time.
    var knownIds: [String: String] = [:]
    var groupSymbols: [String: String] = [:]  // source group ID → symbol
    var groupSymbolsByTargetName: [String: String] = [:]
    var destinationSymbols: [String: String] = [:]  // source destination ID → symbol
    var dataSourceSymbols: [String: String] = [:]
    var mappings: [ConsumerGroupMapping] = []
    var findings: [PlanFinding] = []
    var impact: [String] = []
    var groupSteps: [PlanStep] = []
    var destinationSteps: [PlanStep] = []
    var dataSourceSteps: [PlanStep] = []
    var parserSteps: [PlanStep] = []
    var subscriptionSteps: [PlanStep] = []
    var ruleSteps: [PlanStep] = []
    var stopSteps: [PlanStep] = []

    init(options: MigrationOptions, source: InstanceSnapshot, target: InstanceSnapshot) {
        self.options = options
        self.source = source
        self.target = target
    }

    /// Marks a step as existing when the target already holds it in the same form.
    mutating func settle(_ step: inout PlanStep, kind: String) {
        let comparison = TargetComparison(target: self.target, ids: self.knownIds)
        switch comparison.match(step) {
        case .absent:
            break
        case .same(let id):
            step.existing = id
            self.knownIds[step.id] = id
        case .different(let id, let reason):
            self.findings.append(
                PlanFinding(
                    resource: step.id,
                    issue: "a \(kind) named \(step.resourceName) already exists on the target (ID \(id)) in another "
                        + "form: \(reason)",
                    replacement: "run adopts the existing \(kind) as it is and verify reports it as mismatched; "
                        + "rename or delete it on the target and re-plan to migrate the source's form"
                )
            )
            step.existing = id
            self.knownIds[step.id] = id
        }
    }

    /// A name valid for `CreateConsumerGroup`: letters, digits and `_`, 4–30 characters.
    func sanitizedGroupName(_ name: String) -> String {
        var cleaned = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" })
        if cleaned.count > 30 { cleaned = String(cleaned.prefix(30)) }
        while cleaned.count < 4 { cleaned += "_" }
        return cleaned
    }

    mutating func planConsumerGroups() {
        for group in self.source.consumerGroups.sorted(by: { $0.name < $1.name }) {
            let symbol = "cg:\(group.name)"
            guard self.groupSymbols.values.contains(symbol) == false else {
                self.findings.append(
                    PlanFinding(
                        resource: symbol,
                        issue: "two consumer groups on the source are named \(group.name) (ID \(group.id))",
                        replacement: "references to \(group.id) use the first group of that name"
                    )
                )
                self.groupSymbols[group.id] = symbol
                continue
            }
            var name =
                group.name == "DEFAULT_GROUP"
                ? "DEFAULT_GROUP"
                : self.options.consumerGroupNaming.replacingOccurrences(of: "{name}", with: group.name)
            if !ConsumerGroup.isValidName(name) {
                let fixed = self.sanitizedGroupName(name)
                self.findings.append(
                    PlanFinding(
                        resource: symbol,
                        issue: "target name \(name) is not 4–30 letters, digits or _",
                        replacement: "the plan uses \(fixed); edit consumerGroup.name to choose another"
                    )
                )
                name = fixed
            }
            var step = PlanStep(id: symbol, action: .createConsumerGroup)
            step.consumerGroup = ConsumerGroupSpec(name: name, sourceId: group.id)
            step.note = "recreated from source group \(group.id); the target assigns the new ID"
            self.settle(&step, kind: "consumer group")
            self.groupSteps.append(step)
            self.groupSymbols[group.id] = symbol
            self.groupSymbolsByTargetName[name] = symbol
            self.mappings.append(
                ConsumerGroupMapping(sourceId: group.id, sourceName: group.name, symbol: symbol, targetName: name)
            )
        }
    }

    /// The symbol of the consumer group that receives translated subscriptions and replaced MNS actions, planning
    /// its creation the first time.
    mutating func translationGroup(productKey: String?) -> String {
        let raw = self.options.translationConsumerGroup.replacingOccurrences(
            of: "{productKey}",
            with: productKey ?? "forwarding"
        )
        let name = ConsumerGroup.isValidName(raw) ? raw : self.sanitizedGroupName(raw)
        if let symbol = self.groupSymbolsByTargetName[name] { return symbol }
        let symbol = "cg:\(name)"
        var step = PlanStep(id: symbol, action: .createConsumerGroup)
        step.consumerGroup = ConsumerGroupSpec(name: name, sourceId: nil)
        step.note = "receives what the source delivered over MNS or HTTP/2 (translationConsumerGroup)"
        self.settle(&step, kind: "consumer group")
        self.groupSteps.append(step)
        self.groupSymbolsByTargetName[name] = symbol
        return symbol
    }

    /// Rewrites an action or destination configuration for the target: consumer groups through the ID map, MNS
    /// replaced by AMQP on an Enterprise target.
    mutating func retarget(
        type: String,
        configuration: String,
        productKey: String?,
        resource: String
    ) -> (type: String, configuration: String) {
        if type == "MNS", self.target.identity.isEnterprise {
            let group = self.translationGroup(productKey: productKey)
            self.findings.append(
                PlanFinding(
                    resource: resource,
                    issue: "forwards to MNS (\(configuration)), which the Enterprise Edition target does not carry",
                    replacement: "forward to AMQP consumer group ${\(group)} instead; consumers read it as the "
                        + "translated subscriptions describe"
                )
            )
            return ("AMQP", "{\"groupId\":\"${\(group)}\"}")
        }
        guard type == "AMQP" else { return (type, ReferenceRewriter.canonicalJSON(configuration)) }
        let (rewritten, dangling) = ReferenceRewriter.rewriteConsumerGroup(
            inConfiguration: configuration,
            symbols: self.groupSymbols
        )
        if let dangling {
            self.findings.append(
                PlanFinding(
                    resource: resource,
                    issue: "forwards to consumer group \(dangling), which does not exist on the source",
                    replacement: "the ID is kept as it is; edit the plan to point at a target group"
                )
            )
        }
        return (type, rewritten)
    }

    mutating func planDestinations() {
        var seen: Set<String> = []
        for destination in self.source.destinations.sorted(by: { $0.name < $1.name }) {
            let symbol = "dest:\(destination.name)"
            guard seen.insert(destination.name).inserted else {
                self.findings.append(
                    PlanFinding(
                        resource: symbol,
                        issue: "two destinations are named \(destination.name); names identify resources on resume",
                        replacement: "destination \(destination.id) is not migrated; rename it on the source"
                    )
                )
                continue
            }
            let (type, configuration) = self.retarget(
                type: destination.type,
                configuration: destination.configuration,
                productKey: nil,
                resource: symbol
            )
            var step = PlanStep(id: symbol, action: .createDestination)
            step.destination = DestinationSpec(
                name: destination.name,
                type: type,
                configuration: configuration,
                description: destination.description
            )
            self.settle(&step, kind: "destination")
            self.destinationSteps.append(step)
            self.destinationSymbols[destination.id] = symbol
        }
    }

    mutating func planDataSources() {
        var seen: Set<String> = []
        for dataSource in self.source.dataSources.sorted(by: { $0.name < $1.name }) {
            let symbol = "ds:\(dataSource.name)"
            guard seen.insert(dataSource.name).inserted else {
                self.findings.append(
                    PlanFinding(
                        resource: symbol,
                        issue: "two data sources are named \(dataSource.name)",
                        replacement: "data source \(dataSource.id) is not migrated; rename it on the source"
                    )
                )
                continue
            }
            var step = PlanStep(id: symbol, action: .createDataSource)
            step.dataSource = DataSourceSpec(
                name: dataSource.name,
                description: dataSource.description,
                items: dataSource.items.map(\.form)
            )
            self.settle(&step, kind: "data source")
            self.dataSourceSteps.append(step)
            self.dataSourceSymbols[dataSource.id] = symbol
        }
    }

    mutating func planParsers() {
        var seen: Set<String> = []
        for parser in self.source.parsers.sorted(by: { $0.name < $1.name }) {
            let symbol = "parser:\(parser.name)"
            guard seen.insert(parser.name).inserted else {
                self.findings.append(
                    PlanFinding(
                        resource: symbol,
                        issue: "two parsers are named \(parser.name)",
                        replacement: "parser \(parser.id) is not migrated; rename it on the source"
                    )
                )
                continue
            }
            // A draft that differs from the published script was saved but never published: it stays a draft.
            let draft = parser.scriptDraft.flatMap { $0 == parser.script ? nil : $0 }
            var rewritten: [String?] = []
            for (text, label) in [(parser.script, "script"), (draft, "draft")] {
                guard let text else {
                    rewritten.append(nil)
                    continue
                }
                let (result, dangling) = ReferenceRewriter.rewriteDestinations(
                    inScript: text,
                    symbols: self.destinationSymbols
                )
                rewritten.append(result)
                for id in Set(dangling).sorted() {
                    self.findings.append(
                        PlanFinding(
                            resource: symbol,
                            issue: "the \(label) writes to destination \(id), which does not exist on the source",
                            replacement: "the ID is kept as it is; edit the \(label) in the plan"
                        )
                    )
                }
            }
            if draft != nil {
                self.findings.append(
                    PlanFinding(
                        resource: symbol,
                        issue: parser.script == nil
                            ? "the script is an unpublished draft" : "the script has an unpublished draft",
                        replacement: "saved on the target as a draft (scriptDraft), not published"
                    )
                )
            }
            var step = PlanStep(id: symbol, action: .createParser)
            step.parser = ParserSpec(
                name: parser.name,
                description: parser.description,
                dataSource: parser.dataSourceId.flatMap { self.dataSourceSymbols[$0] }.map { "${\($0)}" },
                script: rewritten[0],
                scriptDraft: rewritten[1],
                destinations: parser.destinationIds.compactMap { self.destinationSymbols[$0] }.map { "${\($0)}" },
                errorDestination: parser.errorDestinationId.flatMap { self.destinationSymbols[$0] }.map { "${\($0)}" },
                start: parser.status == .running && self.options.startMigratedRules
            )
            self.settle(&step, kind: "parser")
            self.parserSteps.append(step)
        }
    }

    mutating func planSubscriptions() {
        let byProduct = Dictionary(grouping: self.source.subscriptions, by: \.productKey)
        for productKey in byProduct.keys.sorted() {
            let relations = byProduct[productKey]!.sorted { $0.type.rawValue < $1.type.rawValue }
            var groups: [String] = []
            var flags = Set<SubscriptionFlag>()
            var subscribeFlags: String?
            var translated: [SubscriptionType] = []
            for relation in relations {
                flags.formUnion(relation.flags)
                subscribeFlags = subscribeFlags ?? relation.subscribeFlags
                switch relation.type {
                case .amqp:
                    for id in relation.consumerGroupIds {
                        if let symbol = self.groupSymbols[id] {
                            groups.append("${\(symbol)}")
                        } else {
                            groups.append(id)
                            self.findings.append(
                                PlanFinding(
                                    resource: "sub:\(productKey)",
                                    issue: "the AMQP relation names consumer group \(id), unknown on the source",
                                    replacement: "the ID is kept as it is; edit the plan to point at a target group"
                                )
                            )
                        }
                    }
                case .mns, .http2:
                    let group = self.translationGroup(productKey: productKey)
                    groups.append("${\(group)}")
                    translated.append(relation.type)
                    let name = self.groupSteps.first { $0.id == group }?.consumerGroup?.name ?? group
                    self.impact.append(
                        SubscriptionTranslation.consumerImpact(
                            from: relation.type,
                            productKey: productKey,
                            groupName: name
                        )
                    )
                    if self.target.identity.isEnterprise || relation.type == .http2 {
                        self.findings.append(
                            PlanFinding(
                                resource: "sub:\(productKey)",
                                issue:
                                    "\(relation.type.rawValue) server-side subscription is not available on the target",
                                replacement: "AMQP subscription on consumer group \(name) with the same flags"
                            )
                        )
                    }
                }
            }
            // Keep what the target already delivers to: completing a relation must not cut off its consumers.
            if let existing = self.target.subscriptions.first(where: { $0.productKey == productKey && $0.type == .amqp }
            ) {
                flags.formUnion(existing.flags)
                for id in existing.consumerGroupIds {
                    let known = groups.contains { (try? ReferenceRewriter.resolve($0, ids: self.knownIds)) == id }
                    if !known { groups.append(id) }
                }
            }
            var unique: [String] = []
            for group in groups where !unique.contains(group) { unique.append(group) }
            var step = PlanStep(id: "sub:\(productKey)", action: .createSubscription)
            step.subscription = SubscriptionSpec(
                productKey: productKey,
                flags: flags.sorted(),
                subscribeFlags: subscribeFlags,
                consumerGroups: unique
            )
            step.translatedFrom = translated.isEmpty ? nil : translated
            if !translated.isEmpty {
                step.note =
                    "translated from \(translated.map(\.rawValue).joined(separator: " and ")) to AMQP; "
                    + "see consumerImpact"
            }
            self.settle(&step, kind: "subscription")
            self.subscriptionSteps.append(step)
        }
    }

    mutating func planRules() {
        var seen: Set<String> = []
        for rule in self.source.rules.sorted(by: { $0.name < $1.name }) {
            let symbol = "rule:\(rule.name)"
            guard seen.insert(rule.name).inserted else {
                self.findings.append(
                    PlanFinding(
                        resource: symbol,
                        issue: "two rules are named \(rule.name); names identify rules on resume",
                        replacement: "rule \(rule.id) is not migrated; rename it on the source"
                    )
                )
                continue
            }
            let product = rule.productKey ?? rule.topic?.split(separator: "/").first.map(String.init)
            var actions: [RuleActionSpec] = []
            for (index, action) in rule.actions.enumerated() {
                let (type, configuration) = self.retarget(
                    type: action.type,
                    configuration: action.configuration,
                    productKey: product,
                    resource: "\(symbol) action \(index + 1)"
                )
                actions.append(RuleActionSpec(type: type, configuration: configuration))
            }
            var errorAction: RuleActionSpec?
            if let action = rule.errorAction {
                let replacedType = action.type == "MNS" && self.target.identity.isEnterprise ? "AMQP" : action.type
                if action.type == "MNS", replacedType == "AMQP", actions.contains(where: { $0.type == "AMQP" }) {
                    // The platform refuses an error action of the same type as a normal action.
                    self.findings.append(
                        PlanFinding(
                            resource: "\(symbol) error action",
                            issue: "forwards to MNS, which the Enterprise Edition target does not carry, and AMQP "
                                + "is already a normal action of the rule",
                            replacement: "the error action is dropped: failed forwards are retried (1 s, 3 s, 10 s) "
                                + "and then discarded; add an error action of another type in the plan if needed"
                        )
                    )
                } else {
                    let (type, configuration) = self.retarget(
                        type: action.type,
                        configuration: action.configuration,
                        productKey: product,
                        resource: "\(symbol) error action"
                    )
                    errorAction = RuleActionSpec(type: type, configuration: configuration)
                }
            }
            if let errorAction, actions.contains(where: { $0.type == errorAction.type }) {
                self.findings.append(
                    PlanFinding(
                        resource: symbol,
                        issue: "an action and the error action both forward to \(errorAction.type), which the "
                            + "platform refuses",
                        replacement: "none: edit the rule in the plan (for example drop the error action)"
                    )
                )
            }
            var step = PlanStep(id: symbol, action: .createRule)
            step.rule = RuleSpec(
                name: rule.name,
                productKey: rule.productKey,
                shortTopic: rule.shortTopic,
                topic: rule.topic,
                topicType: rule.topicType,
                select: rule.select,
                where: rule.where,
                dataType: rule.dataType,
                description: rule.description,
                actions: actions,
                errorAction: errorAction,
                start: rule.status == .running && self.options.startMigratedRules
            )
            self.settle(&step, kind: "rule")
            self.ruleSteps.append(step)
        }
    }

    mutating func planSourceStops() {
        guard self.options.stopSourceRules else { return }
        let planned = Set(self.ruleSteps.map(\.id))
        for rule in self.source.rules.sorted(by: { $0.name < $1.name }) where rule.status == .running {
            guard planned.contains("rule:\(rule.name)"),
                !self.stopSteps.contains(where: { $0.id == "stop-rule:\(rule.name)" })
            else { continue }
            var step = PlanStep(id: "stop-rule:\(rule.name)", action: .stopSourceRule)
            step.sourceResource = SourceResourceSpec(sourceId: rule.id, name: rule.name)
            step.note = "stopped on the source once its copy runs on the target; rollback restarts it"
            self.stopSteps.append(step)
        }
        let plannedParsers = Set(self.parserSteps.map(\.id))
        for parser in self.source.parsers.sorted(by: { $0.name < $1.name }) where parser.status == .running {
            guard plannedParsers.contains("parser:\(parser.name)"),
                !self.stopSteps.contains(where: { $0.id == "stop-parser:\(parser.name)" })
            else { continue }
            var step = PlanStep(id: "stop-parser:\(parser.name)", action: .stopSourceParser)
            step.sourceResource = SourceResourceSpec(sourceId: parser.id, name: parser.name)
            step.note = "stopped on the source once its copy runs on the target; rollback restarts it"
            self.stopSteps.append(step)
        }
    }
}
