//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL
import RuleScript
import Rules

/// One delivery of a message: to which sink, under which target id (recorded in the claim), with which payload.
struct Route: Sendable, Hashable {
    /// The id recorded as terminal in the claim once this delivery finished. Stable across runs (rule name,
    /// destination, occurrence), so a redelivered message goes only to the targets not yet recorded.
    var target: String
    /// The sink's name; nil for a route straight to the dead letter.
    var sink: String?
    /// A rule's output instead of the message itself; nil: the message.
    var payload: [UInt8]?
    /// The rule that produced it.
    var rule: String?
    /// Set when this route goes to the dead letter: why (a rule failed on the message).
    var deadLetterReason: String?
}

extension BridgeConfiguration {
    /// Compiles the configured rules and checks that every destination maps to a sink; throws every problem
    /// found, one per line with its `file:line:col` (what `iotbridge run --check` reports).
    public func checkRules() throws {
        _ = try Router(configuration: self)
    }
}

/// Decides where each message goes. Without rules, every message goes to every sink. With rules, each rule's
/// outputs go to the sinks its destinations name (`amqp` by consumer group = sink name, `http` by URL = a
/// webhook sink's url); a rule that fails on a message sends it to its error action or, without one, to the
/// dead letter with the rule's error; a message no rule forwards is filtered (settled and counted).
struct Router: Sendable {
    let sinkNames: [String]
    let ruleSet: RuleSet?
    let sinksByConsumerGroup: [String: String]
    let webhookSinksByURL: [String: String]

    init(configuration: BridgeConfiguration) throws {
        self.sinkNames = configuration.sinks.map(\.name)
        var groups: [String: String] = [:]
        var urls: [String: String] = [:]
        for sink in configuration.sinks {
            groups[sink.name] = sink.name
            if case .webhook(let settings) = sink.kind { urls[settings.url] = sink.name }
        }
        self.sinksByConsumerGroup = groups
        self.webhookSinksByURL = urls
        guard !configuration.rules.isEmpty else {
            self.ruleSet = nil
            return
        }
        let files: [String]
        do {
            files = try RuleLinter.ruleFiles(in: configuration.rules)
        } catch {
            throw BridgeError(.rules, "\(configuration.file): rules: \(error)")
        }
        let compiler = RuleCompiler(scriptEngine: RuleScriptEngine())
        var rules: [CompiledRule] = []
        var problems: [String] = []
        for file in files {
            let (rule, diagnostics) = compiler.load(path: file)
            problems += diagnostics.filter { $0.severity == .error }.map(\.description)
            if let rule { rules.append(rule) }
        }
        if files.isEmpty { problems.append("\(configuration.file): rules: no .yaml rule files under \(configuration.rules.joined(separator: ", "))") }
        let names = self.sinkNames
        for rule in rules {
            for destination in Self.destinations(of: rule)
            where Self.sink(for: destination, groups: groups, urls: urls) == nil {
                let location = "\(rule.file.path):\(destination.location.line):\(destination.location.column)"
                switch destination.configuration {
                case .amqp(let group, _):
                    problems.append(
                        "\(location): error: rule '\(rule.name)' forwards to consumer group '\(group)', but no sink is named '\(group)' (sinks: \(names.joined(separator: ", ")))"
                    )
                case .http(let url):
                    problems.append("\(location): error: rule '\(rule.name)' posts to \(url), but no webhook sink has that url")
                default:
                    problems.append(
                        "\(location): error: rule '\(rule.name)' forwards to \(destination.kind), which only the cloud can deliver; the bridge delivers amqp (to a sink of that name) and http (to a webhook sink of that url)"
                    )
                }
            }
        }
        guard problems.isEmpty else {
            throw BridgeError(.rules, problems.joined(separator: "\n"))
        }
        self.ruleSet = RuleSet(rules: rules)
    }

    static func destinations(of rule: CompiledRule) -> [Destination] {
        switch rule.file.body {
        case .sql(let definition): return definition.actions + (definition.errorAction.map { [$0] } ?? [])
        case .parser(let definition): return definition.destinations + (definition.errorDestination.map { [$0] } ?? [])
        }
    }

    func sink(for destination: Destination) -> String? {
        Self.sink(for: destination, groups: self.sinksByConsumerGroup, urls: self.webhookSinksByURL)
    }

    static func sink(for destination: Destination, groups: [String: String], urls: [String: String]) -> String? {
        switch destination.configuration {
        case .amqp(let group, _): return groups[group]
        case .http(let url): return urls[url]
        default: return nil
        }
    }

    /// The deliveries of one message. Throws when the message cannot be routed at all (rules need a topic).
    func routes(for message: BridgeMessage) throws(BridgeError) -> [Route] {
        guard let ruleSet = self.ruleSet else {
            return self.sinkNames.map { Route(target: $0, sink: $0) }
        }
        guard let topic = message.topic else {
            throw BridgeError(.rules, "the message has no topic property, so no rule can match it")
        }
        let context = MessageContext(topic: topic, payload: message.payload, messageId: message.messageId ?? "")
        var routes: [Route] = []
        var notJSON: (rule: String, error: JSONParseError)?
        for evaluation in ruleSet.evaluate(context) {
            switch evaluation {
            case .skippedNotJSON(let rule, let error):
                notJSON = notJSON ?? (rule, error)
            case .ran(let rule, let dispatches):
                var seen: [String: Int] = [:]
                for dispatch in dispatches {
                    let destination = dispatch.destination.id.map(String.init) ?? "action"
                    let occurrence = seen[destination, default: 0]
                    seen[destination] = occurrence + 1
                    routes.append(
                        Route(
                            target: Self.targetID(rule, destination, occurrence),
                            sink: self.sink(for: dispatch.destination),
                            payload: dispatch.payload,
                            rule: rule
                        )
                    )
                }
            case .failed(let rule, let error, let errorDispatch):
                if let errorDispatch, let sink = self.sink(for: errorDispatch.destination) {
                    routes.append(Route(target: Self.targetID(rule, "error", 0), sink: sink, payload: errorDispatch.payload, rule: rule))
                } else {
                    routes.append(
                        Route(
                            target: Self.targetID(rule, "failed", 0),
                            sink: nil,
                            rule: rule,
                            deadLetterReason: "rule \(rule) failed: \(error.headline)"
                        )
                    )
                }
            }
        }
        if routes.isEmpty, let notJSON {
            // The platform ignores it silently; the bridge makes it visible in the dead letter instead.
            routes.append(
                Route(
                    target: Self.targetID(notJSON.rule, "not-json", 0),
                    sink: nil,
                    rule: notJSON.rule,
                    deadLetterReason: "rule \(notJSON.rule) reads JSON and the payload is not JSON (\(notJSON.error)); "
                        + "the platform ignores such messages"
                )
            )
        }
        return routes
    }

    /// A target id: no commas (the claim store lists targets comma-separated).
    static func targetID(_ rule: String, _ destination: String, _ occurrence: Int) -> String {
        "rule:\(rule)/\(destination)/\(occurrence)".replacingOccurrences(of: ",", with: "_")
    }
}
