//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL
import Rules

/// Reads, checks and writes plan files.
public enum PlanFile {
    /// The comment at the top of every plan.
    static let header = """
        # iotbridge migration plan. Review it, edit it if you must, then: iotbridge migrate run --plan <this file>
        # Steps run in order. ${cg:NAME}, ${dest:NAME}, ${ds:NAME} stand for IDs the target assigns during the run.
        # A step with `existing:` is already on the target in that form and is skipped. Do not edit
        # sourceFingerprint: run refuses a plan whose source has changed since (unless --force).

        """

    /// Writes a plan.
    public static func write(_ plan: MigrationPlan, to path: String) throws {
        try YAMLFile.write(plan, to: path, header: Self.header)
    }

    /// Reads and checks a plan.
    ///
    /// - Throws: ``MigrationError`` `.yaml` or `.invalidPlan`, naming the file, line and step.
    public static func load(path: String) throws -> MigrationPlan {
        let text: String
        do {
            text = try TextFile.read(path, what: "the plan")
        } catch {
            let hint = error.reason == .missing ? "; make one with `iotbridge migrate plan`" : ""
            throw MigrationError(.config, error.description + hint)
        }
        let plan = try YAMLFile.decode(MigrationPlan.self, from: text, file: path)
        // A plan is meant to be reviewed and edited: a misspelt key must not be ignored silently.
        let unknown = YAMLFile.unknownKeys(in: text, decoded: plan, file: path)
        if let first = unknown.first {
            throw MigrationError(
                .yaml,
                unknown.map(\.message).joined(separator: "; ") + " — fix the file and retry",
                location: "\(path):\(first.location.line)",
                diagnostics: unknown
            )
        }
        try Self.validate(plan, text: text, file: path)
        return plan
    }

    /// Checks that a plan can run: known format, unique step IDs, payloads that match actions, references to
    /// earlier steps only, and values the API accepts.
    public static func validate(_ plan: MigrationPlan, text: String = "", file: String = "plan") throws {
        func fail(_ index: Int?, _ message: String) -> MigrationError {
            guard let index else { return MigrationError(.invalidPlan, message, location: file) }
            let path: [any CodingKey] = [PathKey("steps"), PathKey(index)]
            let line = YAMLFile.line(of: path, in: text).map { ":\($0)" } ?? ""
            return MigrationError(.invalidPlan, message, step: plan.steps[index].id, location: "\(file)\(line)")
        }
        guard plan.format == MigrationPlan.currentFormat else {
            throw fail(nil, "unknown plan format \(plan.format); expected \(MigrationPlan.currentFormat)")
        }
        guard plan.sourceFingerprint.hasPrefix("sha256:") else {
            throw fail(nil, "sourceFingerprint is missing or malformed — re-create the plan with `migrate plan`")
        }
        var defined: Set<String> = []
        var seen: Set<String> = []
        for (index, step) in plan.steps.enumerated() {
            guard !step.id.isEmpty, seen.insert(step.id).inserted else {
                throw fail(index, "step ID '\(step.id)' is empty or used twice; every step needs its own ID")
            }
            guard step.id.hasPrefix(step.action.prefix + ":") else {
                throw fail(
                    index,
                    "step ID '\(step.id)' must start with '\(step.action.prefix):' for \(step.action.rawValue)"
                )
            }
            let payloads: [(StepAction, Bool)] = [
                (.createConsumerGroup, step.consumerGroup != nil),
                (.createDestination, step.destination != nil),
                (.createDataSource, step.dataSource != nil),
                (.createParser, step.parser != nil),
                (.createSubscription, step.subscription != nil),
                (.createRule, step.rule != nil),
            ]
            let present = payloads.filter(\.1).map(\.0)
            let expected: [StepAction]
            switch step.action {
            case .stopSourceRule, .stopSourceParser:
                expected = []
                guard let resource = step.sourceResource, !resource.sourceId.isEmpty else {
                    throw fail(index, "\(step.action.rawValue) needs sourceResource.sourceId")
                }
            default:
                expected = [step.action]
            }
            guard present == expected else {
                throw fail(
                    index,
                    "action \(step.action.rawValue) needs exactly its own payload, found "
                        + (present.isEmpty ? "none" : present.map(\.rawValue).joined(separator: ", "))
                )
            }
            let encoded = (try? String(decoding: JSONEncoder().encode(step), as: UTF8.self)) ?? ""
            for reference in ReferenceRewriter.references(in: encoded.replacingOccurrences(of: "\\/", with: "/"))
            where !defined.contains(reference) {
                throw fail(
                    index,
                    "reference ${\(reference)} does not name an earlier step — steps may only use IDs created before them"
                )
            }
            try Self.checkValues(step, index: index, fail: fail)
            if step.action.createsOnTarget { defined.insert(step.id) }
        }
    }

    private static func checkValues(
        _ step: PlanStep,
        index: Int,
        fail: (Int?, String) -> MigrationError
    ) throws {
        if let group = step.consumerGroup, !ConsumerGroup.isValidName(group.name) {
            throw fail(index, "consumer group name '\(group.name)' must be 4–30 letters, digits or _")
        }
        if let subscription = step.subscription {
            guard !subscription.productKey.isEmpty else { throw fail(index, "subscription.productKey is empty") }
            guard !subscription.flags.isEmpty || subscription.subscribeFlags != nil else {
                throw fail(index, "subscription of \(subscription.productKey) sets no flag; the API needs at least one")
            }
            guard !subscription.consumerGroups.isEmpty else {
                throw fail(index, "an AMQP subscription needs at least one consumer group")
            }
        }
        if let rule = step.rule {
            guard !rule.name.isEmpty, rule.name.count <= 30 else {
                throw fail(index, "rule name must be 1–30 characters")
            }
            guard !rule.select.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw fail(index, "rule \(rule.name) has an empty select")
            }
            guard rule.dataType == "JSON" || rule.dataType == "BINARY" else {
                throw fail(index, "rule \(rule.name): dataType must be JSON or BINARY, not \(rule.dataType)")
            }
            guard rule.actions.count <= 10 else { throw fail(index, "rule \(rule.name) has more than 10 actions") }
            guard rule.topic != nil || rule.productKey != nil else {
                throw fail(index, "rule \(rule.name) needs topic, or productKey with shortTopic")
            }
        }
        if let parser = step.parser {
            guard !parser.name.isEmpty else { throw fail(index, "parser name is empty") }
            guard parser.destinations.count <= 10 else {
                throw fail(index, "parser \(parser.name) has more than 10 destinations")
            }
        }
        if let destination = step.destination {
            guard !destination.type.isEmpty, !destination.name.isEmpty else {
                throw fail(index, "destination needs a name and a type")
            }
            guard (try? JSONSerialization.jsonObject(with: Data(destination.configuration.utf8))) != nil else {
                throw fail(index, "destination \(destination.name): configuration is not JSON")
            }
        }
    }
}

/// A coding key built from a name or an index, to look up lines in YAML.
struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ string: String) {
        self.stringValue = string
        self.intValue = nil
    }

    init(_ int: Int) {
        self.stringValue = String(int)
        self.intValue = int
    }

    init?(stringValue: String) { self.init(stringValue) }

    init?(intValue: Int) { self.init(intValue) }
}
