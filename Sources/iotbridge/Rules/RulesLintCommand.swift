//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import RuleSQL
import Rules

/// `iotbridge rules lint`: checks rule files.
struct RulesLintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check rule files and print every problem with file:line:col.",
        discussion: """
            Checks the YAML, the keys (with suggestions for misspelt ones), the destinations and the platform's \
            limits (50 SELECT fields, 10 actions, 10 destinations, 120 KB scripts), compiles each rule's SQL or \
            script, checks that every writeXxx(N, …) call of a script names a destination the file defines, \
            and refuses what the platform refuses when a script is published: a script that calls no \
            forwarding function.

            Prints each diagnostic (file:line:col, message, source line, caret) on stdout and a summary on \
            stderr. Exits 2 if there is any error, 0 otherwise (warnings alone exit 0).

              iotbridge rules lint rules/
              iotbridge rules lint rules/examples/high-temperature-alert.yaml
            """
    )

    @Argument(
        help: ArgumentHelp(
            "Rule files, or directories searched recursively for .yaml/.yml files.",
            valueName: "path"
        )
    )
    var paths: [String]

    func validate() throws {
        if self.paths.isEmpty {
            throw ValidationError("give at least one rule file or directory, e.g. iotbridge rules lint rules/")
        }
    }

    func run() throws {
        let report: LintReport
        do {
            report = try RuleLinter(compiler: RuleCompiler(scriptEngine: RulesCommand.scriptEngine)).lint(
                paths: self.paths
            )
        } catch {
            RulesOutput.error("error: \(error)")
            throw RulesOutput.failure
        }
        for diagnostic in report.diagnostics {
            print(diagnostic.description)
        }
        RulesOutput.error(
            "\(report.files.count) file\(report.files.count == 1 ? "" : "s") checked: "
                + "\(report.errorCount) error\(report.errorCount == 1 ? "" : "s"), "
                + "\(report.warningCount) warning\(report.warningCount == 1 ? "" : "s")"
        )
        if report.errorCount > 0 {
            throw RulesOutput.failure
        }
    }
}
