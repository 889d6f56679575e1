//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Migration
import Rules

extension MigrateCommand {
    /// `iotbridge migrate assess`.
    struct Assess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer the platform's pre-migration checklist per product, from the instance itself.",
            discussion: """
                Reads the source of migration.yaml (OpenAPI or export file) and reports every checklist item: \
                blocked (cannot migrate, with the documented reason), action needed before or after migrating \
                (with the concrete step), questions the API cannot answer, capacity against the limits, and \
                passed checks. Actions that fail or are missing on an instance become questions, not errors. \
                Answer a question with --answer CHECK=yes|no (all products) or --answer PK:CHECK=yes|no.

                Exit status: 0 ready, 1 actions needed or blocked, 2 error. Markdown by default, JSON with \
                --json (schema: docs/schemas/assessment-report.schema.json).

                Examples:
                  iotbridge migrate assess --config migration.yaml --out assessment.md
                  iotbridge migrate assess --config migration.yaml --json --product a1Prod00001
                  iotbridge migrate assess --config migration.yaml --answer product.video=no
                """
        )

        @Option(help: "The migration.yaml naming source, target and options.")
        var config: String

        @Option(
            name: .customLong("product"),
            help: ArgumentHelp("Assess only this product (repeatable). Default: options.products, else all.", valueName: "PK")
        )
        var products: [String] = []

        @Option(
            name: .customLong("answer"),
            help: ArgumentHelp("Answer a question: [PK:]CHECK=yes|no (repeatable).", valueName: "answer")
        )
        var answers: [String] = []

        @Flag(help: "Print the report as JSON instead of Markdown.")
        var json = false

        @Option(help: "Write the report to this file instead of stdout.")
        var out: String?

        func run() async throws {
            var status: Int32 = 0
            try await MigrationCLI.run {
                let answers = try AssessmentAnswers(parsing: self.answers)
                let workspace = try MigrationWorkspace(configPath: self.config, logger: MigrationCLI.logger())
                let report = try await workspace.assess(products: self.products, answers: answers)
                let text = self.json ? try report.json() : report.markdown
                if let out = self.out {
                    do {
                        try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                    } catch {
                        throw MigrationError(.config, "cannot write \(out): \(TextFile.reason(error))")
                    }
                    let counts = report.summary.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                    print("wrote \(out): \(report.verdict.rawValue) (\(counts.joined(separator: ", ")))")
                } else {
                    print(text, terminator: "")
                }
                status = report.exitStatus
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}

extension MigrateCommand.Assess {
    /// One line for `migrate plan`: the assessment's verdict and counts.
    static func summary(_ assessment: PlanAssessment) -> String {
        let counts = AssessmentCategory.allCases.filter { $0 != .passed }.map { category in
            "\(assessment.findings.count { $0.category == category }) \(category.rawValue)"
        }
        let allowed =
            assessment.allowedBlocked.isEmpty
            ? "" : "; planned although blocked: \(assessment.allowedBlocked.joined(separator: ", "))"
        return "assessment: \(assessment.verdict.rawValue) (\(counts.joined(separator: ", ")))\(allowed) — see the top "
            + "of the plan or `migrate assess`"
    }
}
