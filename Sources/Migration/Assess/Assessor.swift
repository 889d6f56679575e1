//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Answers the platform's pre-migration checklist (``Checklist``) from what the instances told. Pure: no I/O.
///
/// A fact the instance could not tell becomes a question with the reason, never an assumption. An answered
/// question (``AssessmentAnswers``) becomes the item its answer implies.
public struct Assessor: Sendable {
    /// The `options` of migration.yaml: the consumer-group naming of the target.
    public var options: MigrationOptions
    /// The operator's answers.
    public var answers: AssessmentAnswers

    /// Creates an assessor.
    public init(options: MigrationOptions, answers: AssessmentAnswers = AssessmentAnswers()) {
        self.options = options
        self.answers = answers
    }

    /// Assesses the products of `source` (all of them unless `products` names some).
    public func assess(
        source fullSource: InstanceSnapshot,
        sourceFacts: InstanceFacts,
        target: InstanceIdentity,
        targetFacts: InstanceFacts,
        products: [String] = []
    ) -> AssessmentReport {
        let source = fullSource.restricted(to: products)
        var pass = AssessmentPass(assessor: self, source: source, facts: sourceFacts)
        pass.instance(target: target, targetFacts: targetFacts)
        for product in source.products.sorted() {
            pass.product(product, target: target)
        }
        return AssessmentReport(
            source: fullSource.identity, target: target, products: source.products, items: pass.items)
    }
}

/// One assessment's working state.
struct AssessmentPass {
    let assessor: Assessor
    let source: InstanceSnapshot
    let facts: InstanceFacts
    var items: [AssessmentItem] = []

    init(assessor: Assessor, source: InstanceSnapshot, facts: InstanceFacts) {
        self.assessor = assessor
        self.source = source
        self.facts = facts
    }

    mutating func add(
        _ category: AssessmentCategory,
        _ entry: ChecklistEntry,
        product: String? = nil,
        subject: String? = nil,
        finding: String,
        next: String = ""
    ) {
        self.items.append(
            AssessmentItem(
                category: category,
                check: entry.id,
                product: product,
                subject: subject,
                finding: finding,
                reason: entry.reason,
                source: entry.source,
                nextStep: next
            )
        )
    }

    /// What an answer implies: the category and the next step.
    struct Outcome {
        var category: AssessmentCategory
        var next: String
    }

    /// A question: asked when unanswered, otherwise the outcome of the answer.
    mutating func ask(
        _ entry: ChecklistEntry,
        product: String? = nil,
        subject: String? = nil,
        question: String? = nil,
        why: String,
        yes: Outcome,
        no: Outcome
    ) {
        let text = question ?? entry.question ?? entry.id
        let scope = product.map { "\($0):" } ?? ""
        guard let answer = self.assessor.answers.answer(entry.id, product: product) else {
            self.add(
                .question,
                entry,
                product: product,
                subject: subject,
                finding: "\(text) (\(why))",
                next: "find out, then re-run with --answer \(scope)\(entry.id)=yes or =no"
            )
            return
        }
        let outcome = answer ? yes : no
        var item = AssessmentItem(
            category: outcome.category,
            check: entry.id,
            product: product,
            subject: subject,
            finding: "\(text) Answered \(answer ? "yes" : "no").",
            reason: entry.reason,
            source: entry.source,
            nextStep: outcome.next
        )
        item.answer = answer ? "yes" : "no"
        self.items.append(item)
    }

    static let passed = Outcome(category: .passed, next: "")

    func leaveOut(_ product: String) -> String {
        "leave \(product) out of this migration (--product / options.products) and keep it on the legacy instance"
    }

    // MARK: Whole migration

    mutating func instance(target: InstanceIdentity, targetFacts: InstanceFacts) {
        let sourceIdentity = self.source.identity
        if sourceIdentity.isEnterprise {
            self.add(
                .blocked,
                Checklist.sourceLegacy,
                finding:
                    "the source has IotInstanceId \(sourceIdentity.iotInstanceId!): it is not a legacy public instance",
                next: "set source.iotInstanceId to empty for the legacy public instance, or upgrade a new-version "
                    + "public instance in the console instead"
            )
        } else {
            self.add(
                .passed, Checklist.sourceLegacy, finding: "the source is a legacy public instance (no IotInstanceId)")
        }
        if !target.isEnterprise {
            self.add(
                .blocked,
                Checklist.targetEnterprise,
                finding: "the target has no IotInstanceId: it is not an Enterprise Edition instance",
                next:
                    "buy or pick a Standard Enterprise Edition instance in the same region and set target.iotInstanceId"
            )
        } else if let from = sourceIdentity.regionId, let to = target.regionId, from != to {
            self.add(
                .blocked,
                Checklist.targetEnterprise,
                finding: "the source is in \(from) but the target in \(to)",
                next: "pick an Enterprise Edition instance in \(from)"
            )
        } else {
            self.add(
                .passed,
                Checklist.targetEnterprise,
                finding: "the target is Enterprise Edition instance \(target.iotInstanceId!)"
                    + (target.regionId.map { " in \($0)" } ?? "")
            )
        }
        let notCheckable = "no OpenAPI action tells"
        for entry in [Checklist.dataService, Checklist.video, Checklist.edge, Checklist.nbIoT, Checklist.distributed] {
            self.ask(
                entry,
                why: notCheckable,
                yes: Outcome(
                    category: .blocked,
                    next: "leave the products concerned out of this migration (--product / options.products)"
                ),
                no: Self.passed
            )
        }
        self.ask(
            Checklist.reconnect,
            why: notCheckable,
            yes: Self.passed,
            no: Outcome(
                category: .actionBefore,
                next:
                    "give the devices reconnect logic and the Enterprise endpoint (or the Link SDK) before they migrate"
            )
        )
        if self.source.identity.kind != "file" {
            // The API lists no HTTP/2 SDK subscriptions (README): only an export knows them.
            self.ask(
                Checklist.http2,
                question: "Does any consumer of these products use the legacy HTTP/2 server-subscription SDK?",
                why: "the OpenAPI does not list HTTP/2 subscriptions",
                yes: Outcome(
                    category: .actionBefore,
                    next: "move those SDK clients to an AMQP consumer group before migrating (add the HTTP2 relation "
                        + "to an export to have `migrate plan` translate it)"
                ),
                no: Self.passed
            )
        }
        // Capacity of the whole migration.
        let counts = self.source.products.map { self.facts.product($0)?.deviceCount }
        let known = counts.compactMap { $0 }.reduce(0, +)
        // "at least 0 devices" says nothing: with no count at all the number is unknown, and said so.
        let total =
            !counts.isEmpty && counts.allSatisfy({ $0 == nil })
            ? "the (unknown) number of" : counts.contains(nil) ? "at least \(known)" : "\(known)"
        if let spec = targetFacts.onlineDeviceSpec {
            if known >= spec {
                self.add(
                    .blocked,
                    Checklist.targetOnlineDevices,
                    finding: "\(total) devices to migrate, target online-device specification \(spec)",
                    next: "raise the target's online-device specification above \(known), or migrate fewer products"
                )
            } else {
                self.add(
                    .capacity,
                    Checklist.targetOnlineDevices,
                    finding: "\(total) devices to migrate, target online-device specification \(spec)"
                )
            }
        } else {
            let why = targetFacts.unavailable[FactName.onlineDeviceSpec] ?? "no OpenAPI action returns it"
            self.ask(
                Checklist.targetOnlineDevices,
                question: "Does the target's online-device specification exceed \(total) devices to migrate?",
                why: why,
                yes: Outcome(category: .capacity, next: ""),
                no: Outcome(category: .blocked, next: "raise the target's online-device specification in the console")
            )
        }
        let products = self.source.products.count
        let waves = (products + Checklist.maxConcurrentTasks - 1) / Checklist.maxConcurrentTasks
        self.add(
            .capacity,
            Checklist.concurrentTasks,
            finding:
                "\(products) products = \(products) migration tasks; at most \(Checklist.maxConcurrentTasks) at once"
                + (products > Checklist.maxConcurrentTasks ? ": plan \(waves) waves" : ""),
            next: products > Checklist.maxConcurrentTasks
                ? "run the migration tasks in \(waves) waves of at most \(Checklist.maxConcurrentTasks) (running "
                    + "device-distribution tasks count too)"
                : ""
        )
    }

    // MARK: One product

    func unknown(_ fact: String, _ product: ProductFacts?) -> String {
        product?.unavailable[fact] ?? self.facts.unavailable[fact] ?? "the source did not record it"
    }

    mutating func product(_ pk: String, target: InstanceIdentity) {
        let facts = self.facts.product(pk)
        self.productDetails(pk, facts)
        self.ota(pk, facts)
        self.subscriptions(pk, target: target)
        self.forwarding(pk)
        self.add(
            .actionAfter,
            Checklist.apiInstanceId,
            product: pk,
            finding: "cloud API calls about devices of \(pk) must name the Enterprise instance once they migrate",
            next: "pass IotInstanceId=\(target.iotInstanceId ?? "<target>") in every API call about a migrated "
                + "device of \(pk) (track device → instance from the migration-status messages)"
        )
    }

    mutating func productDetails(_ pk: String, _ facts: ProductFacts?) {
        switch facts?.owner {
        case false?:
            self.add(
                .blocked,
                Checklist.authorized,
                product: pk,
                finding: "QueryProduct says Owner=false: \(pk) is authorized to this account by another account",
                next: self.leaveOut(pk)
            )
        case true?:
            self.add(.passed, Checklist.authorized, product: pk, finding: "\(pk) belongs to this account")
        case nil:
            self.ask(
                Checklist.authorized,
                product: pk,
                why: self.unknown(FactName.product, facts),
                yes: Outcome(category: .blocked, next: self.leaveOut(pk)),
                no: Self.passed
            )
        }
        let authType = facts?.authType?.lowercased()
        if authType == "x509" {
            self.add(
                .blocked,
                Checklist.authentication,
                product: pk,
                finding: "the devices of \(pk) authenticate with X.509 certificates",
                next: self.leaveOut(pk)
            )
        } else if authType == "id2" || facts?.id2 == true {
            self.ask(
                Checklist.authentication,
                product: pk,
                question: "\(pk) uses ID² authentication: is this account on the ID² migration whitelist?",
                why: "the whitelist is granted by ticket and no API tells",
                yes: Self.passed,
                no: Outcome(category: .blocked, next: "apply for the ID² whitelist by ticket, or " + self.leaveOut(pk))
            )
        } else if let authType {
            self.add(
                .passed,
                Checklist.authentication,
                product: pk,
                finding: "the devices of \(pk) authenticate with AuthType \(authType)"
            )
        } else {
            self.ask(
                Checklist.authentication,
                product: pk,
                why: self.unknown(FactName.product, facts),
                yes: Outcome(category: .blocked, next: self.leaveOut(pk)),
                no: Self.passed
            )
        }
        switch facts?.nodeType {
        case 1?:
            self.add(
                .actionBefore,
                Checklist.gateway,
                product: pk,
                finding: "\(pk) is a gateway product",
                next:
                    "migrate the products of its sub-devices to the same Enterprise instance in the same batch as \(pk)"
            )
        case .some:
            self.add(.passed, Checklist.gateway, product: pk, finding: "\(pk) is not a gateway product")
        case nil:
            self.ask(
                Checklist.gateway,
                product: pk,
                why: self.unknown(FactName.product, facts),
                yes: Outcome(
                    category: .actionBefore,
                    next: "migrate the products of its sub-devices to the same Enterprise instance in the same batch"
                ),
                no: Self.passed
            )
        }
        let limit = Checklist.maxDevicesPerProduct
        if let count = facts?.deviceCount {
            let online = facts?.onlineCount.map { ", \($0) online now" } ?? ""
            if count > limit {
                self.add(
                    .blocked,
                    Checklist.devicesPerProduct,
                    product: pk,
                    finding: "\(pk) has \(count) devices\(online), over the limit of \(limit)",
                    next: "ask for a higher limit by ticket before migrating \(pk)"
                )
            } else {
                self.add(
                    .capacity,
                    Checklist.devicesPerProduct,
                    product: pk,
                    finding: "\(pk) has \(count) of at most \(limit) devices\(online)"
                )
            }
        } else {
            self.ask(
                Checklist.devicesPerProduct,
                product: pk,
                question: "Does \(pk) have more than \(limit) devices?",
                why: self.unknown(FactName.deviceCount, facts),
                yes: Outcome(category: .blocked, next: "ask for a higher limit by ticket before migrating \(pk)"),
                no: Outcome(category: .capacity, next: "")
            )
        }
    }

    mutating func ota(_ pk: String, _ facts: ProductFacts?) {
        guard let jobs = facts?.otaJobs else {
            self.ask(
                Checklist.otaJobs,
                product: pk,
                why: self.unknown(FactName.otaJobs, facts),
                yes: Outcome(category: .actionBefore, next: "stop the running OTA batches of \(pk) or let them finish"),
                no: Self.passed
            )
            return
        }
        let active = jobs.filter(\.isActive).sorted { $0.jobId < $1.jobId }
        if active.isEmpty {
            self.add(
                .passed,
                Checklist.otaJobs,
                product: pk,
                finding: "no OTA update batch of \(pk) is running or scheduled (\(jobs.count) finished or canceled)"
            )
        }
        for job in active {
            self.add(
                .actionBefore,
                Checklist.otaJobs,
                product: pk,
                subject: "ota-job:\(job.jobId)",
                finding: "OTA update batch \(job.jobId)\(job.firmwareId.map { " (firmware \($0))" } ?? "") is "
                    + job.status,
                next: "stop OTA job \(job.jobId) (console OTA page, or CancelOTAStrategyByJob and CancelOTATaskByJob) "
                    + "or wait until it completes, then migrate \(pk)"
            )
        }
    }

    func groupName(_ id: String) -> String {
        self.source.consumerGroups.first { $0.id == id }?.name ?? id
    }

    func targetGroupName(_ sourceName: String) -> String {
        self.assessor.options.consumerGroupNaming.replacingOccurrences(of: "{name}", with: sourceName)
    }

    mutating func subscriptions(_ pk: String, target: InstanceIdentity) {
        let relations = self.source.subscriptions.filter { $0.productKey == pk }
        let translation = self.assessor.options.translationConsumerGroup.replacingOccurrences(
            of: "{productKey}",
            with: pk
        )
        for relation in relations.sorted(by: { $0.type.rawValue < $1.type.rawValue }) {
            switch relation.type {
            case .mns:
                self.add(
                    .actionBefore,
                    Checklist.mns,
                    product: pk,
                    subject: "subscription:\(pk)/MNS",
                    finding: "the MNS subscription of \(pk) feeds queue \(relation.mnsQueueName ?? "aliyun-iot-\(pk)")",
                    next: "the MNS subscription of \(pk) becomes an AMQP subscription on consumer group \(translation) "
                        + "(migrate plan does it); move the consumers of queue aliyun-iot-\(pk) to that group, or to "
                        + "`iotbridge run`, before migrating"
                )
            case .http2:
                self.add(
                    .actionBefore,
                    Checklist.http2,
                    product: pk,
                    subject: "subscription:\(pk)/HTTP2",
                    finding: "\(pk) has an HTTP/2 SDK subscription",
                    next: "the HTTP/2 subscription of \(pk) becomes an AMQP subscription on consumer group "
                        + "\(translation) (migrate plan does it); move its SDK clients to AMQP before migrating"
                )
            case .amqp:
                for id in Array(Set(relation.consumerGroupIds)).sorted() {
                    self.amqpGroup(pk, id: id, target: target)
                }
            }
        }
    }

    mutating func amqpGroup(_ pk: String, id: String, target: InstanceIdentity) {
        let name = self.groupName(id)
        let targetName = self.targetGroupName(name)
        let subject = "consumer-group:\(name)"
        let facts = self.facts.consumerGroup(id)
        let secondClient =
            "start a second client on the target's consumer group \(targetName) (Enterprise AMQP "
            + "endpoint, iotInstanceId \(target.iotInstanceId ?? "<target>")), or consume both through `iotbridge "
            + "run`, before \(pk) migrates"
        if let clients = facts?.connectedClients {
            if clients.isEmpty {
                self.add(
                    .passed,
                    Checklist.connectedClients,
                    product: pk,
                    subject: subject,
                    finding: "no client is connected to consumer group \(name) (\(id)) now"
                )
            } else {
                let shown = clients.sorted().prefix(5).joined(separator: ", ") + (clients.count > 5 ? ", …" : "")
                self.add(
                    .actionBefore,
                    Checklist.connectedClients,
                    product: pk,
                    subject: subject,
                    finding: "consumer group \(name) (\(id)) has \(clients.count) connected "
                        + "client\(clients.count == 1 ? "" : "s") now: \(shown)",
                    next: secondClient
                )
            }
        } else {
            self.ask(
                Checklist.connectedClients,
                product: pk,
                subject: subject,
                question: "Are clients connected to consumer group \(name) (\(id)) now?",
                why: facts?.unavailable ?? self.facts.unavailable[FactName.connectedClients]
                    ?? "the source did not record it",
                yes: Outcome(category: .actionBefore, next: secondClient),
                no: Self.passed
            )
        }
        self.add(
            .actionAfter,
            Checklist.newGroupId,
            product: pk,
            subject: subject,
            finding: "the AMQP subscription of \(pk) delivers to consumer group \(name) (\(id))",
            next: "switch the consumers of \(name) to the target's group \(targetName): its new ID is in "
                + "`iotbridge migrate rewrite-rules --id-map` once `migrate run` created it"
        )
    }

    /// Whether a topic or data-source item belongs to a product.
    func belongs(_ topic: String?, to pk: String) -> Bool {
        topic?.split(separator: "/").first.map(String.init) == pk
    }

    static func groupId(in configuration: String) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(configuration.utf8))) as? [String: Any]
        return JSON.string(object?["groupId"])
    }

    mutating func forwarding(_ pk: String) {
        for rule in self.source.rules.sorted(by: { $0.name < $1.name })
        where rule.productKey == pk || (rule.productKey == nil && self.belongs(rule.topic, to: pk)) {
            let groups = (rule.actions + (rule.errorAction.map { [$0] } ?? [])).filter { $0.type == "AMQP" }
                .compactMap { Self.groupId(in: $0.configuration) }
            self.forwardingItem(pk, subject: "rule:\(rule.name)", kind: "rule \(rule.name)", groups: groups)
        }
        let sources = Set(
            self.source.dataSources.filter { source in
                source.items.contains { $0.productKey == pk || self.belongs($0.topic, to: pk) }
            }.map(\.id)
        )
        for parser in self.source.parsers.sorted(by: { $0.name < $1.name })
        where parser.dataSourceId.map(sources.contains) == true {
            let ids = parser.destinationIds + (parser.errorDestinationId.map { [$0] } ?? [])
            let groups = self.source.destinations.filter { ids.contains($0.id) && $0.type == "AMQP" }
                .compactMap { Self.groupId(in: $0.configuration) }
            self.forwardingItem(pk, subject: "parser:\(parser.name)", kind: "parser \(parser.name)", groups: groups)
        }
    }

    mutating func forwardingItem(_ pk: String, subject: String, kind: String, groups: [String]) {
        guard !groups.isEmpty else { return }
        let ids = Array(Set(groups)).sorted()
        let names = ids.map { "\(self.groupName($0)) (\($0))" }
        let symbols = ids.map { "${cg:\(self.groupName($0))}" }
        self.add(
            .actionBefore,
            Checklist.forwardingToGroup,
            product: pk,
            subject: subject,
            finding:
                "\(kind) forwards to consumer group \(names.joined(separator: ", ")), whose ID changes on the target",
            next:
                "review the \(subject) step of `migrate plan`: the copy forwards to \(symbols.joined(separator: ", ")), "
                + "the target's new group; the consumers of the old group must move with it"
        )
    }
}
