//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore

/// The result of `migrate verify`: each planned resource validated, mismatched or missing.
public struct VerifyReport: Sendable, Hashable, CustomStringConvertible {
    /// The verdict on one step.
    public enum Verdict: String, Sendable, Hashable {
        /// On the target in the planned form.
        case validated
        /// On the target, but different.
        case mismatched
        /// Not on the target.
        case missing
    }

    /// One line of the report.
    public struct Line: Sendable, Hashable {
        /// The step ID.
        public var stepId: String
        /// The verdict.
        public var verdict: Verdict
        /// The target ID, when found.
        public var targetId: String?
        /// Why, for mismatches.
        public var detail: String?
    }

    /// The lines, in plan order.
    public var lines: [Line]

    /// How many lines have each verdict.
    public func count(_ verdict: Verdict) -> Int { self.lines.filter { $0.verdict == verdict }.count }

    /// Whether every step validated.
    public var isClean: Bool { self.lines.allSatisfy { $0.verdict == .validated } }

    static func compare(
        plan: MigrationPlan,
        target: InstanceSnapshot,
        source: InstanceSnapshot?,
        ids: [String: String],
        entries: [String: JournalEntry]
    ) -> VerifyReport {
        let comparison = TargetComparison(target: target, ids: ids)
        var lines: [Line] = []
        for step in plan.steps {
            if !step.action.createsOnTarget {
                let id = step.sourceResource?.sourceId ?? ""
                let status: RuleStatus? =
                    step.action == .stopSourceRule
                    ? source?.rules.first { $0.id == id }?.status : source?.parsers.first { $0.id == id }?.status
                switch status {
                case .stopped: lines.append(Line(stepId: step.id, verdict: .validated, targetId: id))
                case .running:
                    lines.append(
                        Line(stepId: step.id, verdict: .mismatched, targetId: id, detail: "still running on the source")
                    )
                case nil:
                    lines.append(Line(stepId: step.id, verdict: .missing, targetId: nil, detail: "not on the source"))
                }
                continue
            }
            let duplicates = Self.sameNameCount(step, in: target)
            switch comparison.match(step) {
            case .absent:
                lines.append(Line(stepId: step.id, verdict: .missing, targetId: nil, detail: nil))
            case .different(let id, let reason):
                lines.append(Line(stepId: step.id, verdict: .mismatched, targetId: id, detail: reason))
            case .same(let id):
                if duplicates > 1 {
                    lines.append(
                        Line(
                            stepId: step.id,
                            verdict: .mismatched,
                            targetId: id,
                            detail: "\(duplicates) resources of this name"
                        )
                    )
                } else if let recorded = entries[step.id]?.targetId, entries[step.id]?.state == "done", recorded != id {
                    lines.append(
                        Line(
                            stepId: step.id,
                            verdict: .mismatched,
                            targetId: id,
                            detail: "the journal recorded ID \(recorded); the target has \(id)"
                        )
                    )
                } else {
                    lines.append(Line(stepId: step.id, verdict: .validated, targetId: id, detail: nil))
                }
            }
        }
        // A resource in its planned form still breaks when what it references is gone.
        let missing = Set(lines.filter { $0.verdict == .missing }.map(\.stepId))
        for (index, step) in plan.steps.enumerated() where lines[index].verdict == .validated {
            let encoded = (try? JSONEncoder().encode(step)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let references = ReferenceRewriter.references(in: encoded.replacingOccurrences(of: "\\/", with: "/"))
            if let gone = references.first(where: { missing.contains($0) }) {
                lines[index].verdict = .mismatched
                lines[index].detail = "references ${\(gone)}, which is missing on the target"
            }
        }
        return VerifyReport(lines: lines)
    }

    private static func sameNameCount(_ step: PlanStep, in target: InstanceSnapshot) -> Int {
        let name = step.resourceName
        switch step.action {
        case .createConsumerGroup: return target.consumerGroups.filter { $0.name == name }.count
        case .createDestination: return target.destinations.filter { $0.name == name }.count
        case .createDataSource: return target.dataSources.filter { $0.name == name }.count
        case .createParser: return target.parsers.filter { $0.name == name }.count
        case .createRule: return target.rules.filter { $0.name == name }.count
        case .createSubscription, .stopSourceRule, .stopSourceParser: return 1
        }
    }

    /// A table: verdict, step, target ID, detail; then the totals.
    public var description: String {
        let width = max(10, self.lines.map(\.stepId.count).max() ?? 10)
        var text = "VERDICT     " + "STEP".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "TARGET ID\n"
        for line in self.lines {
            text += line.verdict.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            text += line.stepId.padding(toLength: width + 2, withPad: " ", startingAt: 0)
            text += line.targetId ?? "-"
            if let detail = line.detail { text += "  (\(detail))" }
            text += "\n"
        }
        text +=
            "\(self.count(.validated)) validated, \(self.count(.mismatched)) mismatched, \(self.count(.missing)) missing"
        return text
    }
}
