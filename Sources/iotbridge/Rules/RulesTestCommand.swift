//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import RuleSQL
import Rules

/// `iotbridge rules test`: a rule author's regression suite.
struct RulesTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run rules over recorded messages and compare their outputs with the expected ones.",
        discussion: """
            The samples file is JSON Lines: each line is one recorded message, a JSON
            object with these keys (a complete line: rules/README.md, "Samples"):

              topic       the message's topic, e.g. /a1hRrzDp7Kq/dev1/user/update
              payload     any JSON (payloadText for text, payloadBase64 for bytes)
              expect      rule name → expected output: the JSON object, a base64
                          string for a BINARY SELECT *, the list of forwarding
                          calls of a parser, or null for "no output"; "*" matches
                          any value
              optional    name, deviceName, productKey, messageId, timestamp
                          (epoch ms; "now" if absent), tags (for attribute())

            Prints a pass/fail table and a diff for each failure. Exits 0 when all pass, 1 when an output \
            differs, 2 on an error (a rule that does not load, an unknown rule name, a rule that fails, \
            no samples, or a sample that gives its payload twice).

            Example:
              iotbridge rules test rules/corpus/rules \\
                  --samples rules/corpus/samples.jsonl
            """
    )

    @Argument(help: ArgumentHelp("Rule files or directories of rule files.", valueName: "path"))
    var paths: [String]

    @Option(help: ArgumentHelp("The recorded messages with expected outputs (JSON Lines).", valueName: "file.jsonl"))
    var samples: String

    func validate() throws {
        if self.paths.isEmpty {
            throw ValidationError(
                "give the rule files to test, e.g. iotbridge rules test rules/ --samples samples.jsonl"
            )
        }
    }

    func run() throws {
        let compiler = RuleCompiler(scriptEngine: RulesCommand.scriptEngine)
        var rules: [CompiledRule] = []
        var failed = false
        let samples: [RuleSample]
        do {
            for file in try RuleLinter.ruleFiles(in: self.paths) {
                let (rule, diagnostics) = compiler.load(path: file)
                for diagnostic in diagnostics where diagnostic.severity == .error {
                    RulesOutput.error(diagnostic.description)
                    failed = true
                }
                if let rule { rules.append(rule) }
            }
            samples = try RuleSample.load(path: self.samples)
        } catch {
            RulesOutput.error("error: \(error)")
            throw RulesOutput.failure
        }
        if failed {
            throw RulesOutput.failure
        }
        let report = RuleTestRunner(rules: rules).run(samples)
        print(report.render())
        if report.hasErrors {
            throw RulesOutput.failure
        }
        if !report.allPassed {
            throw RulesOutput.noMatch
        }
    }
}
