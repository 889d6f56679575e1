//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
public import RuleSQL
import Yams

/// The result of loading one rule file: the rule when it could be read, and every problem found.
public struct RuleFileLoad: Sendable {
    /// The rule as far as it could be read, even when the file has errors (destinations with errors are left
    /// out, a missing name is empty), so `rules lint` can still compile its SQL or script.
    public var candidate: RuleFile?
    /// Every problem found, in file order.
    public var diagnostics: [Diagnostic]

    /// The rule; `nil` when the file has an error.
    public var rule: RuleFile? {
        self.hasErrors ? nil : self.candidate
    }

    /// Creates a load result.
    public init(candidate: RuleFile?, diagnostics: [Diagnostic]) {
        self.candidate = candidate
        self.diagnostics = diagnostics
    }

    /// `true` when a diagnostic is an error.
    public var hasErrors: Bool {
        self.diagnostics.contains { $0.severity == .error }
    }
}

/// Reads rule files (YAML, one rule per file) into ``RuleFile``s, with `file:line:col` for every problem.
///
/// An old-version rule:
/// ```yaml
/// name: high-temperature
/// sql: SELECT deviceName() AS dn, items.Temperature.value AS t FROM "/sys/a1HHrkm/+/thing/event/property/post" WHERE items.Temperature.value > 38
/// dataType: JSON            # or BINARY; default JSON
/// actions:
///   - type: amqp
///     consumerGroup: backend  # symbolic; the migration's ID map gives the instance's group ID
/// errorAction:
///   type: republish
///   topic: /a1HHrkm/gateway/user/errors
/// ```
/// A new-version parser:
/// ```yaml
/// name: hot-parser
/// dataSource:
///   topics: [/a1HHrkm/+/thing/event/property/post]
/// script: |
///   var data = payload("json");
///   writeAmqp(1001, data, "hot");
/// destinations:
///   1001: {type: amqp, consumerGroup: backend}
/// ```
public enum RuleFileLoader {
    /// The keys a rule file may have.
    public static let knownKeys = [
        "name", "description", "sql", "dataType", "actions", "errorAction", "dataSource", "script", "scriptFile",
        "destinations", "errorDestination",
    ]
    /// The most actions an old-version rule may have (reference §4.5).
    public static let maximumActions = 10
    /// The longest rule or parser name the platform accepts.
    public static let maximumNameLength = 30

    /// Reads and decodes a file.
    public static func load(path: String) -> RuleFileLoad {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let diagnostic = Diagnostic(
                code: .ruleFile,
                message: "cannot read the rule file: \(error.localizedDescription)",
                file: path,
                location: SourceLocation(line: 1, column: 1, offset: 0),
                sourceLine: ""
            )
            return RuleFileLoad(candidate: nil, diagnostics: [diagnostic])
        }
        return Self.load(text: text, path: path)
    }

    /// Decodes a file's text; `path` labels diagnostics and anchors `scriptFile`.
    public static func load(text: String, path: String) -> RuleFileLoad {
        let source = SourceText(text, file: path)
        var decoder = YAMLDecoder(source: source)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            decoder.append(Self.diagnostic(for: error, source: source))
            return RuleFileLoad(candidate: nil, diagnostics: decoder.diagnostics)
        } catch {
            decoder.report(
                "invalid YAML: \(error)",
                at: SourceLocation(line: 1, column: 1, offset: 0),
                length: 1,
                severity: .error
            )
            return RuleFileLoad(candidate: nil, diagnostics: decoder.diagnostics)
        }
        guard let root else {
            decoder.report(
                "the rule file is empty; it needs at least 'name' and 'sql' or 'script'",
                at: SourceLocation(line: 1, column: 1, offset: 0),
                length: 1,
                severity: .error
            )
            return RuleFileLoad(candidate: nil, diagnostics: decoder.diagnostics)
        }
        let rule = Self.decode(root, source: source, decoder: &decoder)
        let sorted = decoder.diagnostics.sorted { $0.location.offset < $1.location.offset }
        return RuleFileLoad(candidate: rule, diagnostics: sorted)
    }

    private static func decode(_ root: Node, source: SourceText, decoder: inout YAMLDecoder) -> RuleFile? {
        guard let fields = decoder.fields(root, "a rule file", known: Self.knownKeys) else { return nil }
        let name = decoder.string(fields, "name")
        if let name, name.count > Self.maximumNameLength {
            decoder.error(
                "a rule name is at most \(Self.maximumNameLength) characters (this one has \(name.count))",
                at: fields["name"]
            )
        }
        let description = decoder.string(fields, "description", required: false)
        let isSQL = fields.has("sql")
        let isParser = fields.has("script") || fields.has("scriptFile")
        if isSQL, isParser {
            decoder.error(
                "a rule file holds either an old-version rule ('sql') or a new-version parser ('script'), not both",
                at: fields.keyNode("script") ?? fields.keyNode("scriptFile")
            )
            return nil
        }
        if !isSQL, !isParser {
            decoder.error(
                "a rule file needs 'sql' (an old-version rule) or 'script' / 'scriptFile' (a new-version parser)",
                at: root
            )
            return nil
        }
        let keysOfOtherVersion =
            isSQL ? ["dataSource", "destinations", "errorDestination"] : ["dataType", "actions", "errorAction"]
        for key in keysOfOtherVersion where fields.has(key) {
            decoder.error(
                "'\(key)' belongs to \(isSQL ? "new-version parsers" : "old-version rules"); "
                    + (isSQL
                        ? "old-version rules use 'actions' and 'errorAction'"
                        : "parsers use 'destinations' and 'errorDestination'"),
                at: fields.keyNode(key),
                length: key.count
            )
        }
        let body: RuleFile.Body?
        if isSQL {
            body = Self.decodeSQLRule(fields, source: source, decoder: &decoder).map(RuleFile.Body.sql)
        } else {
            body = Self.decodeParser(fields, source: source, decoder: &decoder).map(RuleFile.Body.parser)
        }
        guard let body else { return nil }
        return RuleFile(path: source.file, source: source, name: name ?? "", description: description, body: body)
    }

    static func embedded(_ node: Node, source: SourceText) -> EmbeddedText? {
        guard case .scalar(let scalar) = node, let mark = scalar.mark else { return nil }
        let block = scalar.style == .literal || scalar.style == .folded
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        return EmbeddedText(
            text: scalar.string,
            container: source,
            line: mark.line,
            column: mark.column,
            block: block,
            quoted: quoted
        )
    }

    private static func decodeSQLRule(
        _ fields: Fields,
        source: SourceText,
        decoder: inout YAMLDecoder
    ) -> SQLRuleDefinition? {
        var dataType = RuleDataType.json
        if let text = decoder.string(fields, "dataType", required: false) {
            if let type = RuleDataType(rawValue: text.uppercased()) {
                dataType = type
            } else {
                decoder.error("dataType must be JSON or BINARY, found '\(text)'", at: fields["dataType"])
            }
        }
        var actions: [Destination] = []
        for (position, node) in decoder.list(fields, "actions").enumerated() {
            if let action = decoder.destination(node, id: nil, what: "action \(position + 1)") {
                actions.append(action)
            }
        }
        if actions.count > Self.maximumActions {
            decoder.error(
                "a rule has at most \(Self.maximumActions) actions (this one has \(actions.count))",
                at: fields["actions"]
            )
        }
        let errorAction = fields["errorAction"].flatMap { decoder.destination($0, id: nil, what: "errorAction") }
        if let errorAction, actions.contains(where: { $0.kind == errorAction.kind }), errorAction.kind.isCloudOnly {
            decoder.error(
                "the error action cannot forward to the same cloud product as a normal action (\(errorAction.kind))",
                at: fields["errorAction"]
            )
        }
        if dataType == .binary {
            for action in actions + [errorAction].compactMap({ $0 }) where [.tsdb, .ots, .rds].contains(action.kind) {
                decoder.report(
                    "a BINARY rule cannot forward to \(action.kind) (reference §4.1)",
                    at: action.location,
                    length: 1,
                    severity: .error
                )
            }
        }
        if actions.isEmpty, fields["actions"] == nil {
            decoder.warning("the rule has no actions, so it forwards nothing", at: fields.node)
        }
        guard let sqlNode = fields["sql"] else { return nil }
        guard let sql = Self.embedded(sqlNode, source: source), !sql.text.isEmpty else {
            decoder.error("'sql' must be the rule's SQL text, found \(YAMLDecoder.describe(sqlNode))", at: sqlNode)
            return nil
        }
        return SQLRuleDefinition(sql: sql, dataType: dataType, actions: actions, errorAction: errorAction)
    }

    private static func decodeParser(
        _ fields: Fields,
        source: SourceText,
        decoder: inout YAMLDecoder
    ) -> ParserDefinition? {
        var topics: [TopicFilter] = []
        var dataSourceName: String?
        if let dataSource = decoder.fields(fields["dataSource"], "dataSource", known: ["name", "topics"]) {
            dataSourceName = decoder.string(dataSource, "name", required: false)
            let items = decoder.list(dataSource, "topics")
            if items.isEmpty { decoder.error("dataSource needs at least one topic in 'topics'", at: dataSource.node) }
            for item in items {
                guard let text = item.scalar?.string else {
                    decoder.error("a data-source topic must be text such as /${productKey}/+/user/#", at: item)
                    continue
                }
                do {
                    topics.append(try TopicFilter(text))
                } catch {
                    decoder.error(error.message, at: item, length: text.count)
                }
            }
        } else if !fields.has("dataSource") {
            decoder.error("a parser needs 'dataSource' with the 'topics' it reads", at: fields.node)
        }
        var destinations: [Destination] = []
        if let mapping = decoder.fields(fields["destinations"], "destinations", known: []) {
            for entry in mapping.entries {
                guard let id = decoder.integer(entry.keyNode, "a destination number") else { continue }
                if destinations.contains(where: { $0.id == id }) {
                    decoder.error("destination \(id) is defined twice", at: entry.keyNode)
                }
                if let destination = decoder.destination(entry.value, id: id, what: "destination \(id)") {
                    destinations.append(destination)
                }
            }
        }
        if destinations.count > ParserScriptLimits.maximumDestinations {
            decoder.error(
                "a parser has at most \(ParserScriptLimits.maximumDestinations) destinations (this one has \(destinations.count))",
                at: fields["destinations"]
            )
        }
        var errorDestination: Destination?
        if let node = fields["errorDestination"], let error = decoder.fields(node, "errorDestination", known: []) {
            if let idNode = error["id"], let id = decoder.integer(idNode, "errorDestination's id") {
                var stripped = node
                if case .mapping(var mapping) = node {
                    mapping[Node("id")] = nil
                    stripped = .mapping(mapping)
                }
                errorDestination = decoder.destination(stripped, id: id, what: "errorDestination")
            } else if error["id"] == nil {
                decoder.error("errorDestination needs an 'id' (its destination number)", at: node)
            }
        }
        let script: EmbeddedText?
        if let node = fields["script"] {
            script = Self.embedded(node, source: source)
            if script == nil { decoder.error("'script' must be the script's text", at: node) }
        } else if let file = decoder.string(fields, "scriptFile") {
            let directory = (source.file as NSString).deletingLastPathComponent
            let path = file.hasPrefix("/") ? file : (directory as NSString).appendingPathComponent(file)
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                script = EmbeddedText(standalone: text, file: path)
            } else {
                decoder.error("cannot read the script file '\(path)'", at: fields["scriptFile"])
                script = nil
            }
        } else {
            script = nil
        }
        if let script, script.text.utf8.count > ParserScriptLimits.maximumScriptBytes {
            decoder.append(
                Diagnostic(
                    code: .limit,
                    message: "the script has \(script.text.utf8.count) bytes; a parser script is at most "
                        + "\(ParserScriptLimits.maximumScriptBytes / 1024) KB",
                    file: source.file,
                    location: decoder.location(of: fields["script"] ?? fields["scriptFile"]),
                    sourceLine: source.line(decoder.location(of: fields["script"] ?? fields["scriptFile"]).line)
                )
            )
        }
        guard let script else { return nil }
        return ParserDefinition(
            dataSourceName: dataSourceName,
            topics: topics,
            script: script,
            destinations: destinations,
            errorDestination: errorDestination
        )
    }

    /// A YAML syntax error as a diagnostic at its line and column.
    static func diagnostic(for error: YamlError, source: SourceText) -> Diagnostic {
        let decoder = YAMLDecoder(source: source)
        var message = "invalid YAML"
        var location = SourceLocation(line: 1, column: 1, offset: 0)
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            message = "invalid YAML: \(problem)" + (context.map { " \($0.text)" } ?? "")
            location = decoder.location(line: mark.line, column: mark.column)
        case .reader(let problem, _, _, _):
            message = "invalid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            message =
                "duplicate key\(duplicates.count > 1 ? "s" : "") \(duplicates.map { "'\($0)'" }.joined(separator: ", "))"
            location = decoder.location(line: context.mark.line, column: context.mark.column)
        default:
            message = "invalid YAML: \(error)"
        }
        return Diagnostic(
            code: .ruleFile,
            message: message,
            file: source.file,
            location: location,
            sourceLine: source.line(location.line)
        )
    }
}
