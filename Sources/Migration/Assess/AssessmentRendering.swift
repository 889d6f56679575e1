//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

extension AssessmentReport {
    /// The report as JSON for tools: sorted keys, two-space indentation, items in report order. Its shape is
    /// `docs/schemas/assessment-report.schema.json`.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The report as Markdown for people: the verdict, then the whole migration and each product, most urgent
    /// first; passed checks on one line each.
    public var markdown: String {
        var lines: [String] = []
        lines.append("# Migration assessment: \(self.source) → \(self.target)")
        lines.append("")
        let counts = AssessmentCategory.allCases.map { "\(self.summary[$0.rawValue] ?? 0) \($0.rawValue)" }
        lines.append("**Verdict: \(self.verdict.rawValue)** — \(counts.joined(separator: ", ")).")
        lines.append("")
        lines.append("Products: \(self.products.isEmpty ? "none" : self.products.joined(separator: ", ")).")
        if self.verdict != .ready {
            lines.append("")
            lines.append(
                "Exit status 1: resolve the blocked and action-before items, and answer the questions with "
                    + "`--answer [PK:]CHECK=yes|no`. Action-after items are for once the products have moved."
            )
        }
        let scopes: [String?] = [nil] + self.products.map { Optional($0) }
        for scope in scopes {
            let items = self.items.filter { $0.product == scope }
            guard !items.isEmpty else { continue }
            lines.append("")
            lines.append(scope.map { "## Product \($0)" } ?? "## Whole migration")
            for category in AssessmentCategory.allCases where category != .passed {
                let group = items.filter { $0.category == category }
                guard !group.isEmpty else { continue }
                lines.append("")
                lines.append("### \(Self.heading(category))")
                lines.append("")
                for item in group {
                    lines.append("- **\(item.check)**\(item.subject.map { " (\($0))" } ?? ""): \(item.finding)")
                    if !item.nextStep.isEmpty { lines.append("  - Next: \(item.nextStep)") }
                    lines.append("  - Why: \(item.reason) (\(item.source))")
                }
            }
            let passed = items.filter { $0.category == .passed }
            if !passed.isEmpty {
                lines.append("")
                lines.append("### Passed")
                lines.append("")
                for item in passed { lines.append("- **\(item.check)**: \(item.finding)") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func heading(_ category: AssessmentCategory) -> String {
        switch category {
        case .blocked: "Blocked: cannot migrate"
        case .actionBefore: "Action needed before migrating"
        case .actionAfter: "Action needed after migrating"
        case .question: "Questions the API cannot answer"
        case .capacity: "Capacity"
        case .passed: "Passed"
        }
    }

    /// The exit status of `migrate assess`: 0 ready, 1 actions needed or blocked.
    public var exitStatus: Int32 { self.verdict == .ready ? 0 : 1 }
}
