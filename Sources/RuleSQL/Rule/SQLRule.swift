//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The data type of an old-version rule: JSON (default) or BINARY (`dataType: BINARY`).
public enum RuleDataType: String, Sendable, Hashable, CaseIterable {
    /// The payload is JSON and SELECT reads its fields.
    case json = "JSON"
    /// The payload is opaque bytes; only functions may read it (reference §4.1).
    case binary = "BINARY"
}

/// What a rule produced for a message that it matched.
public enum RuleOutput: Sendable, Hashable {
    /// The JSON object of a JSON rule (or of a BINARY rule that selects functions), keys in SELECT order.
    case json(JSONObject)
    /// The untouched payload of a BINARY rule's `SELECT *`.
    case binary([UInt8])

    /// The bytes to forward: compact JSON, or the raw payload.
    public var bytes: [UInt8] {
        switch self {
        case .json(let object): JSONValue.object(object).jsonBytes()
        case .binary(let bytes): bytes
        }
    }
}

/// Why a rule did not look at a message.
public enum SkipReason: Sendable, Hashable {
    /// The message's topic does not match the rule's FROM.
    case topicMismatch
    /// A JSON rule got a payload that is not JSON; the platform ignores such messages (reference §4.1).
    case notJSON(JSONParseError)
}

/// The result of running a rule over one message.
public enum RuleResult: Sendable, Hashable {
    /// The message matched: forward the output.
    case matched(RuleOutput)
    /// WHERE was false.
    case filtered
    /// The rule did not apply to the message; not an error.
    case skipped(SkipReason)
}

/// Counts of what a rule did, for metrics and `rules test`: non-JSON input is counted here, not raised.
public struct RuleStatistics: Sendable, Hashable {
    /// Messages that produced output.
    public var matched = 0
    /// Messages WHERE filtered out.
    public var filtered = 0
    /// Messages skipped because their topic did not match.
    public var skippedTopic = 0
    /// Messages skipped because their payload was not JSON.
    public var skippedNotJSON = 0
    /// Messages on which the rule failed with an error.
    public var failed = 0

    /// Creates counts, zero by default.
    public init(matched: Int = 0, filtered: Int = 0, skippedTopic: Int = 0, skippedNotJSON: Int = 0, failed: Int = 0) {
        self.matched = matched
        self.filtered = filtered
        self.skippedTopic = skippedTopic
        self.skippedNotJSON = skippedNotJSON
        self.failed = failed
    }

    /// Counts one result.
    public mutating func record(_ result: RuleResult) {
        switch result {
        case .matched: self.matched += 1
        case .filtered: self.filtered += 1
        case .skipped(.topicMismatch): self.skippedTopic += 1
        case .skipped(.notJSON): self.skippedNotJSON += 1
        }
    }

    /// Counts one failure.
    public mutating func recordFailure() {
        self.failed += 1
    }
}

/// A compiled old-version rule: `SELECT … FROM "topic" [WHERE …]`, ready to run over messages.
///
/// ```swift
/// let rule = try SQLRule(sql: #"SELECT deviceName() AS dn, temperature FROM "/pk/+/user/update" WHERE temperature > 38"#)
/// let result = try rule.evaluate(MessageContext(topic: "/pk/dev1/user/update", payload: #"{"temperature":39}"#))
/// // .matched(.json({"dn":"dev1","temperature":39}))
/// ```
public struct SQLRule: Sendable {
    /// The source, for diagnostics.
    public let source: SourceText
    /// The parsed statement.
    public let statement: RuleStatement
    /// JSON or BINARY.
    public let dataType: RuleDataType
    /// The parts of the payload the rule reads; the rest is validated but not built (see ``JSONProjection``).
    public let projection: JSONProjection

    /// Compiles SQL text; `file` labels diagnostics.
    public init(sql: String, file: String = "<sql>", dataType: RuleDataType = .json) throws(Diagnostic) {
        try self.init(source: SourceText(sql, file: file), dataType: dataType)
    }

    /// Compiles a source text.
    public init(source: SourceText, dataType: RuleDataType = .json) throws(Diagnostic) {
        self.source = source
        self.dataType = dataType
        self.statement = try Parser.parse(source)
        self.projection = Self.projection(of: self.statement)
        if dataType == .binary {
            try self.checkBinaryRestrictions()
        }
    }

    /// `.all` when the rule needs the whole payload (`SELECT *`, `thingPropertyFlatMap`), else the paths it reads.
    private static func projection(of statement: RuleStatement) -> JSONProjection {
        var paths: [FieldPath] = []
        var needsAll = false
        var expressions: [Expression] = []
        for item in statement.items {
            switch item.kind {
            case .all: needsAll = true
            case .expression(let expression, _): expressions.append(expression)
            }
        }
        if let condition = statement.condition { expressions.append(condition) }
        for root in expressions {
            root.forEach { expression in
                switch expression.kind {
                case .path(let path): paths.append(path)
                case .call(.thingPropertyFlatMap, _): needsAll = true
                default: break
                }
            }
        }
        return needsAll ? .all : .covering(paths)
    }

    /// The FROM filter.
    public var topic: TopicFilter {
        self.statement.topic
    }

    /// Runs the rule over one message.
    ///
    /// A JSON rule parses the payload, unless `message.json` already holds it (a caller running many rules
    /// parses once). A payload that is not JSON gives `.skipped(.notJSON)`, never an error.
    ///
    /// - Throws: a ``Diagnostic`` when a function fails (for example `substring(true, 1)`), located at the
    ///   call in the rule.
    public func evaluate(_ message: MessageContext) throws(Diagnostic) -> RuleResult {
        guard self.statement.topic.matches(message.topic) else { return .skipped(.topicMismatch) }
        var context = message
        let payload: JSONValue
        if self.dataType == .binary {
            payload = .null
        } else if let parsed = message.json {
            payload = parsed
        } else {
            do {
                payload = try JSONParser.parse(message.payload, projection: self.projection)
            } catch {
                return .skipped(.notJSON(error))
            }
            // Only a whole payload may be handed to functions that read `context.json`.
            if self.projection == .all { context.json = payload }
        }
        let evaluator = Evaluator(context: context, payload: payload, source: self.source)
        if let condition = self.statement.condition {
            guard Evaluator.truth(try evaluator.evaluate(condition)) else { return .filtered }
        }
        if self.dataType == .binary, self.statement.items.count == 1, case .all = self.statement.items[0].kind {
            return .matched(.binary(message.payload))
        }
        var output = JSONObject(minimumCapacity: self.statement.items.count)
        for item in self.statement.items {
            switch item.kind {
            case .all:
                if case .object(let object) = payload { output.merge(object) }
            case .expression(let expression, let key):
                guard let value = try evaluator.evaluate(expression) else { continue }
                if item.alias == nil, case .call(.thingPropertyFlatMap, _) = expression.kind,
                    case .object(let flattened) = value
                {
                    output.merge(flattened)
                } else {
                    output.updateValue(value, forKey: key)
                }
            }
        }
        return .matched(.json(output))
    }

    /// Warnings for every field path of the rule that the message's payload lacks, each suggesting the
    /// closest path the payload has. For rule authors (`rules eval`), not for the hot path.
    public func missingFieldWarnings(for message: MessageContext) -> [Diagnostic] {
        guard self.dataType == .json, let payload = message.json ?? (try? JSONParser.parse(message.payload)) else {
            return []
        }
        var warnings: [Diagnostic] = []
        var seen = Set<String>()
        var expressions: [Expression] = []
        for item in self.statement.items {
            if case .expression(let expression, _) = item.kind { expressions.append(expression) }
        }
        if let condition = self.statement.condition { expressions.append(condition) }
        for root in expressions {
            root.forEach { expression in
                guard case .path(let path) = expression.kind, seen.insert(path.text).inserted else { return }
                let (found, keys) = path.resolution(in: payload)
                guard found < path.components.count else { return }
                var message = "field '\(path.text)' is not in the payload"
                if case .key(let missing) = path.components[found],
                    let match = Suggestion.closest(to: missing, among: keys)
                {
                    var fixed = path.components
                    fixed[found] = .key(match)
                    message += "; did you mean '\(Self.spell(fixed))'?"
                } else if path.components.count == 1,
                    self.source.bytes[expression.range.start.offset] == UInt8(ascii: "\""),
                    !keys.isEmpty || payload.objectValue != nil
                {
                    // `WHERE deviceName() = "dev1"`: double quotes name a field; constants take single quotes.
                    message += "; double quotes name a field, so for the text \(path.text) write '\(path.text)'"
                } else if !keys.isEmpty {
                    message += " (it has: \(keys.prefix(8).joined(separator: ", ")))"
                }
                warnings.append(
                    self.source.diagnostic(.unknownField, message, at: expression.range, severity: .warning)
                )
            }
        }
        return warnings
    }

    private static func spell(_ components: [FieldPath.Component]) -> String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    /// BINARY rules (reference §4.1): `SELECT *` alone passes the payload through, no payload fields
    /// anywhere, and no basic-communication or TSL topic.
    private func checkBinaryRestrictions() throws(Diagnostic) {
        let items = self.statement.items
        if let star = items.first(where: { $0.kind == .all }), items.count > 1 {
            throw self.source.diagnostic(
                .binaryRule,
                "a BINARY rule's SELECT * passes the payload through and cannot be combined with other fields; "
                    + "use to_base64(*) or to_hex(*) to select the payload with functions",
                at: star.range
            )
        }
        var expressions: [Expression] = []
        for item in items {
            if case .expression(let expression, _) = item.kind { expressions.append(expression) }
        }
        if let condition = self.statement.condition { expressions.append(condition) }
        var offending: (Expression, String)?
        for root in expressions {
            root.forEach { expression in
                guard offending == nil else { return }
                switch expression.kind {
                case .path(let path):
                    offending = (
                        expression,
                        "a BINARY rule cannot read the payload field '\(path.text)'; only functions "
                            + "(to_base64(*), to_hex(*), deviceName(), topic(n), …) and conditions are allowed"
                    )
                case .call(.thingPropertyFlatMap, _):
                    offending = (expression, "thingPropertyFlatMap() needs a JSON payload; a BINARY rule has none")
                default:
                    break
                }
            }
        }
        if let (expression, message) = offending {
            throw self.source.diagnostic(.binaryRule, message, at: expression.range)
        }
        if self.statement.topic.isSystemTopic {
            throw self.source.diagnostic(
                .binaryRule,
                "a BINARY rule cannot read basic-communication or TSL topics such as \"\(self.statement.topic.text)\"; "
                    + "use a custom topic (/${productKey}/${deviceName}/user/…)",
                at: self.statement.topicRange
            )
        }
    }
}
