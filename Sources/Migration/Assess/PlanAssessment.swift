//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The assessment as a plan carries it: the verdict, the products planned although blocked, and every item that is
/// not a passed check.
public struct PlanAssessment: Codable, Sendable, Hashable {
    /// The assessment's verdict.
    public var verdict: AssessmentVerdict
    /// Blocked products planned anyway because `--allow-blocked` named them.
    public var allowedBlocked: [String]
    /// The findings: blocked, action-before, action-after, question and capacity items.
    public var findings: [AssessmentItem]

    /// The plan's view of a report.
    public init(_ report: AssessmentReport, allowedBlocked: [String]) {
        self.verdict = report.verdict
        self.allowedBlocked = allowedBlocked.sorted()
        self.findings = report.items.filter { $0.category != .passed }
    }
}

extension MigrationWorkspace {
    /// Assesses, refuses blocked products that `allowBlocked` does not name, then plans and puts the assessment at
    /// the top of the plan.
    ///
    /// - Throws: ``MigrationError`` `.assessmentBlocked` naming the blocked products and why; `.config` when
    ///   `allowBlocked` names a product the migration does not cover.
    public func assessedPlan(
        allowBlocked: [String] = [],
        answers: AssessmentAnswers = AssessmentAnswers()
    ) async throws -> MigrationPlan {
        let report = try await self.assess(answers: answers)
        if let unknown = allowBlocked.first(where: { !report.products.contains($0) }) {
            throw MigrationError(.config, "--allow-blocked \(unknown): not a product of this migration")
        }
        let refused = report.blockedProducts.filter { !allowBlocked.contains($0) }
        if !refused.isEmpty {
            let reasons = report.items(.blocked).filter { $0.product == nil || refused.contains($0.product!) }
                .map { "\($0.product ?? "all products"): \($0.check) — \($0.finding)" }
            throw MigrationError(
                .assessmentBlocked,
                "\(refused.joined(separator: ", ")) cannot migrate (\(reasons.joined(separator: "; "))). Leave "
                    + "\(refused.count == 1 ? "it" : "them") out with options.products, or plan anyway with "
                    + refused.map { "--allow-blocked \($0)" }.joined(separator: " ")
                    + "; `iotbridge migrate assess` explains every item"
            )
        }
        var plan = try await self.plan()
        plan.assessment = PlanAssessment(
            report,
            allowedBlocked: allowBlocked.filter(report.blockedProducts.contains)
        )
        return plan
    }
}
