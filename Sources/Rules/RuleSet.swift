//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

/// One delivery a rule asks for: this payload to this destination.
public struct RuleDispatch: Sendable, Hashable {
    /// The rule's name.
    public var rule: String
    /// Where to send it.
    public var destination: Destination
    /// The bytes to send: the rule's output (compact JSON, or the raw payload of a BINARY `SELECT *`), or
    /// the error-forwarding message for an error action.
    public var payload: [UInt8]
    /// The AMQP tag, with `${alias}` references resolved from the rule's output.
    public var tag: String?
    /// The topic, for republish destinations and `writeIotTopic`.
    public var topic: String?
    /// `true` when this is the error action (failover destination) of a rule that failed.
    public var isErrorAction: Bool
}

/// All the rules the bridge runs over the merged stream: each message goes through every rule, and the
/// result is the list of deliveries to make, with per-rule statistics.
///
/// A rule that fails sends the platform's error-forwarding message (reference §2.3: `ruleName`, `topic`,
/// `productKey`, `deviceName`, `messageId`, `base64OriginalPayload`, `failures`) to its error action.
public struct RuleSet: Sendable {
    /// The rules, in order.
    public let rules: [CompiledRule]
    /// Past this many JSON rules, a message's payload is parsed once, fully, and shared by all of them;
    /// below it each rule parses only the fields it reads.
    public var sharedParseThreshold = 3

    /// Creates a rule set.
    public init(rules: [CompiledRule]) {
        self.rules = rules
    }

    /// Runs every rule over one message and returns the deliveries, counting each rule's outcome in
    /// `statistics` (keyed by rule name).
    public func process(_ message: MessageContext, statistics: inout [String: RuleStatistics]) -> [RuleDispatch] {
        var message = message
        let jsonRules = self.rules.count { rule in
            if case .sql(let sql) = rule.program, sql.dataType == .json, sql.topic.matches(message.topic) {
                return true
            }
            return false
        }
        if message.json == nil, jsonRules >= self.sharedParseThreshold {
            message.json = try? JSONParser.parse(message.payload)
        }
        var dispatches: [RuleDispatch] = []
        for rule in self.rules {
            var counts = statistics[rule.name] ?? RuleStatistics()
            do {
                let run = try rule.run(message)
                dispatches.append(contentsOf: Self.dispatches(of: run, rule: rule))
                if case .sql(let result) = run { counts.record(result) }
            } catch {
                counts.recordFailure()
                if let dispatch = Self.errorDispatch(rule: rule, message: message, error: error) {
                    dispatches.append(dispatch)
                }
            }
            statistics[rule.name] = counts
        }
        return dispatches
    }

    static func dispatches(of run: RuleRun, rule: CompiledRule) -> [RuleDispatch] {
        switch (run, rule.file.body) {
        case (.sql(.matched(let output)), .sql(let definition)):
            let bytes = output.bytes
            return definition.actions.map { action in
                var tag: String?
                if case .amqp(_, let template?) = action.configuration {
                    tag = Self.resolve(template, output)
                }
                var topic: String?
                if case .republish(let target) = action.configuration { topic = target }
                return RuleDispatch(
                    rule: rule.name,
                    destination: action,
                    payload: bytes,
                    tag: tag,
                    topic: topic,
                    isErrorAction: false
                )
            }
        case (.parser(let calls), .parser(let definition)):
            return calls.compactMap { call in
                guard let destination = definition.destination(call.destinationId) else { return nil }
                let payload: [UInt8]
                switch call.payload {
                case .binary(let bytes): payload = bytes
                case .string(let text): payload = Array(text.utf8)
                default: payload = call.payload.jsonBytes()
                }
                return RuleDispatch(
                    rule: rule.name,
                    destination: destination,
                    payload: payload,
                    tag: call.tag,
                    topic: call.topic,
                    isErrorAction: false
                )
            }
        default:
            return []
        }
    }

    /// Replaces `${key}` with the output's value of `key` (text as is, other values as JSON).
    static func resolve(_ template: String, _ output: RuleOutput) -> String {
        guard template.contains("${"), case .json(let object) = output else { return template }
        var result = ""
        var rest = template[...]
        while let open = rest.firstRange(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                result += rest[open.lowerBound...]
                return result
            }
            let key = String(rest[open.upperBound..<close])
            result += object[key]?.textValue ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    static func errorDispatch(rule: CompiledRule, message: MessageContext, error: Diagnostic) -> RuleDispatch? {
        let destination: Destination?
        switch rule.file.body {
        case .sql(let definition): destination = definition.errorAction
        case .parser(let definition): destination = definition.errorDestination
        }
        guard let destination else { return nil }
        let report: JSONValue = [
            "ruleName": .string(rule.name),
            "topic": .string(message.topic),
            "productKey": .string(message.productKey),
            "deviceName": .string(message.deviceName),
            "messageId": .string(message.messageId),
            "base64OriginalPayload": .string(Base64.encode(message.payload)),
            "failures": [
                [
                    "actionType": "RULE",
                    "actionRegion": "",
                    "actionResource": .string(rule.file.path),
                    "errorMessage": .string(error.headline),
                ]
            ],
        ]
        return RuleDispatch(
            rule: rule.name,
            destination: destination,
            payload: report.jsonBytes(),
            tag: nil,
            topic: nil,
            isErrorAction: true
        )
    }
}

/// What one rule did with one message, for a caller that routes each outcome itself (the bridge).
public enum RuleEvaluation: Sendable {
    /// The rule ran: these deliveries (none when its WHERE did not match or the script forwarded nothing).
    case ran(rule: String, dispatches: [RuleDispatch])
    /// A JSON rule whose topic matched got a payload that is not JSON; the platform ignores such messages
    /// (reference §4.1), the caller decides whether to say so.
    case skippedNotJSON(rule: String, error: JSONParseError)
    /// The rule failed on this message (a payload that is not JSON, a script error); `errorDispatch` is its
    /// error action's message when it has one.
    case failed(rule: String, error: Diagnostic, errorDispatch: RuleDispatch?)
}

extension RuleSet {
    /// Runs every rule over one message and reports each rule's outcome separately, failures included, so
    /// that no failure can pass unnoticed (`process` folds failures into statistics and error actions).
    public func evaluate(_ message: MessageContext) -> [RuleEvaluation] {
        var message = message
        if message.json == nil, self.rules.count >= self.sharedParseThreshold {
            message.json = try? JSONParser.parse(message.payload)
        }
        return self.rules.map { rule -> RuleEvaluation in
            do throws(Diagnostic) {
                let run = try rule.run(message)
                if case .sql(.skipped(.notJSON(let error))) = run { return .skippedNotJSON(rule: rule.name, error: error) }
                return .ran(rule: rule.name, dispatches: Self.dispatches(of: run, rule: rule))
            } catch {
                return .failed(rule: rule.name, error: error, errorDispatch: Self.errorDispatch(rule: rule, message: message, error: error))
            }
        }
    }
}
