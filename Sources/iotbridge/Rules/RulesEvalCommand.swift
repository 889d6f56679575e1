//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import RuleSQL

/// `iotbridge rules eval`: runs one rule SQL over one message.
struct RulesEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run a rule SQL over one message and print its output.",
        discussion: """
            On a match, prints the output object as compact JSON on stdout (keys in SELECT order) and exits 0. \
            When WHERE filters the message out, or the message is skipped (its topic does not match FROM, or a \
            JSON rule gets a payload that is not JSON), prints nothing on stdout and exits 1. On an error, \
            prints a diagnostic with line:column, the SQL line and a caret to stderr and exits 2.

            Fields the payload does not have are reported on stderr with the closest field it does have.

              iotbridge rules eval \\
                --sql 'SELECT deviceName() AS dn, items.Temperature.value AS t
                       FROM "/sys/+/+/thing/event/property/post"
                       WHERE items.Temperature.value > 38' \\
                --topic /a1HHrkm/dev1/thing/event/property/post \\
                --payload '{"items":{"Temperature":{"value":39.5,"time":1}}}'
              {"dn":"dev1","t":39.5}

              iotbridge rules eval --data-type binary \\
                --sql 'SELECT to_base64(*) AS data FROM "/pk/+/user/raw"' \\
                --topic /pk/dev1/user/raw --payload @frame.bin
            """
    )

    @Option(
        help: ArgumentHelp(
            "The rule: SELECT … FROM \"topic\" [WHERE …].",
            discussion:
                "Single quotes are constants, double quotes (or none) are fields. Example: --sql 'SELECT a.b AS x FROM \"/pk/+/user/u\"'",
            valueName: "sql"
        )
    )
    var sql: String

    @OptionGroup
    var message: RuleMessageOptions

    @Option(help: ArgumentHelp("The rule's data type: json (default) or binary.", valueName: "json|binary"))
    var dataType: String = "json"

    func run() throws {
        guard let dataType = RuleDataType(rawValue: self.dataType.uppercased()) else {
            RulesOutput.error("error: --data-type must be json or binary, not '\(self.dataType)'")
            throw RulesOutput.failure
        }
        let context: MessageContext
        do {
            context = try self.message.message()
        } catch {
            RulesOutput.error("error: \(error)")
            throw RulesOutput.failure
        }
        do {
            let rule = try SQLRule(sql: self.sql, file: "<sql>", dataType: dataType)
            let result = try rule.evaluate(context)
            for warning in rule.missingFieldWarnings(for: context) {
                RulesOutput.error(warning.description)
            }
            switch result {
            case .matched(.json(let object)):
                RulesOutput.write(JSONValue.object(object).jsonBytes() + [0x0A])
            case .matched(.binary(let bytes)):
                RulesOutput.write(bytes)
            case .filtered:
                throw RulesOutput.noMatch
            case .skipped(.topicMismatch):
                RulesOutput.error(
                    "note: the topic '\(context.topic)' does not match FROM \"\(rule.topic.text)\"; message skipped"
                )
                throw RulesOutput.noMatch
            case .skipped(.notJSON(let error)):
                RulesOutput.error(
                    "note: the payload is not JSON (\(error)); a JSON rule skips such messages. "
                        + "Use --data-type binary for binary payloads"
                )
                throw RulesOutput.noMatch
            }
        } catch let diagnostic as Diagnostic {
            RulesOutput.error(diagnostic.description)
            throw RulesOutput.failure
        }
    }
}
