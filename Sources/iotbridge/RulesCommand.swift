//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import RuleSQL
import Rules

/// `iotbridge rules`: Lint, evaluate, test and run forwarding rules locally.
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Lint, evaluate, test and run forwarding rules locally.",
        discussion: """
            Forwarding rules are the platform's rule SQL (old-version rules) and parser scripts (new-version \
            forwarding), kept one per YAML file under rules/. These commands run them on your machine with the \
            same semantics as the cloud, and point at the line and column of every mistake.

            Exit codes follow grep: 0 matched (or all good), 1 no match (or a test failed), 2 error.

              iotbridge rules eval \\
                --sql 'SELECT temperature AS t FROM "/pk/+/user/update"
                       WHERE temperature > 38' \\
                --topic /pk/dev1/user/update --payload '{"temperature":39}'
              iotbridge rules lint rules/
              iotbridge rules test rules/corpus/rules \\
                --samples rules/corpus/samples.jsonl

            rules/README.md describes the rule files, the destinations and the samples format.
            """,
        subcommands: [RulesEvalCommand.self, RulesLintCommand.self, RulesTestCommand.self, RulesRunScriptCommand.self]
    )

    /// The engine that compiles parser scripts for every `rules` command: the `RuleScript` language.
    static var scriptEngine: any ParserScriptEngine {
        RulesRunScriptCommand.engine
    }
}
