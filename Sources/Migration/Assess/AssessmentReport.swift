//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How one checklist item came out.
public enum AssessmentCategory: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    /// The product cannot migrate; the reason is documented.
    case blocked
    /// Something must be done before migrating.
    case actionBefore = "action-before"
    /// Something must be done once migrated.
    case actionAfter = "action-after"
    /// The API cannot tell: the operator must answer (`--answer CHECK=yes|no`).
    case question
    /// A limit and where the instance stands against it.
    case capacity
    /// Checked, nothing to do.
    case passed

    /// Orders categories from the most to the least urgent, so reports are stable.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        Self.allCases.firstIndex(of: lhs)! < Self.allCases.firstIndex(of: rhs)!
    }
}

/// One answered, blocked or asked checklist item.
public struct AssessmentItem: Codable, Sendable, Hashable {
    /// How it came out.
    public var category: AssessmentCategory
    /// The checklist item, a stable ID such as `product.authorized` (see ``Checklist``).
    public var check: String
    /// The product, or `nil` when the item is about the whole migration.
    public var product: String?
    /// The resource the item is about, when it is narrower than the product (`ota-job:J1`, `consumer-group:G`).
    public var subject: String?
    /// What was found.
    public var finding: String
    /// The documented reason the item matters.
    public var reason: String
    /// Where the reason is documented.
    public var source: String
    /// The concrete next step; empty for passed items.
    public var nextStep: String
    /// The operator's answer to a question, when given.
    public var answer: String?

    /// Creates an item.
    public init(
        category: AssessmentCategory,
        check: String,
        product: String? = nil,
        subject: String? = nil,
        finding: String,
        reason: String,
        source: String,
        nextStep: String,
        answer: String? = nil
    ) {
        self.category = category
        self.check = check
        self.product = product
        self.subject = subject
        self.finding = finding
        self.reason = reason
        self.source = source
        self.nextStep = nextStep
        self.answer = answer
    }

    /// The order of reports: whole-migration items first, then per product; within, by category and check.
    static func ordered(_ lhs: Self, _ rhs: Self) -> Bool {
        (lhs.product ?? "", lhs.category, lhs.check, lhs.subject ?? "")
            < (rhs.product ?? "", rhs.category, rhs.check, rhs.subject ?? "")
    }
}

/// The overall outcome, and the exit status of `migrate assess`.
public enum AssessmentVerdict: String, Codable, Sendable, Hashable {
    /// Nothing blocked, nothing to do before migrating, no open question: exit 0.
    case ready
    /// Something to do before migrating, or a question to answer: exit 1.
    case actionsNeeded = "actions-needed"
    /// At least one product cannot migrate: exit 1.
    case blocked
}

/// The pre-migration assessment: every checklist item, per product. Stable: no timestamps, items in a fixed order.
public struct AssessmentReport: Codable, Sendable, Hashable {
    /// The format tag of the JSON report (`docs/schemas/assessment-report.schema.json`).
    public static let currentFormat = "iotbridge.assessment/v1"

    /// The format tag.
    public var format: String
    /// The instance assessed.
    public var source: InstanceIdentity
    /// The instance migrated to.
    public var target: InstanceIdentity
    /// The products assessed.
    public var products: [String]
    /// The overall outcome.
    public var verdict: AssessmentVerdict
    /// How many items fell in each category (every category present, zero included).
    public var summary: [String: Int]
    /// The items, whole-migration first, then per product.
    public var items: [AssessmentItem]

    /// Builds a report; computes verdict and summary and orders the items.
    public init(source: InstanceIdentity, target: InstanceIdentity, products: [String], items: [AssessmentItem]) {
        self.format = Self.currentFormat
        self.source = source
        self.target = target
        self.products = products.sorted()
        self.items = items.sorted(by: AssessmentItem.ordered)
        var summary: [String: Int] = [:]
        for category in AssessmentCategory.allCases {
            summary[category.rawValue] = items.count { $0.category == category }
        }
        self.summary = summary
        if items.contains(where: { $0.category == .blocked }) {
            self.verdict = .blocked
        } else if items.contains(where: { $0.category == .actionBefore || $0.category == .question }) {
            self.verdict = .actionsNeeded
        } else {
            self.verdict = .ready
        }
    }

    /// The products with a blocked item; a whole-migration blocked item blocks every product.
    public var blockedProducts: [String] {
        let blocked = self.items.filter { $0.category == .blocked }
        if blocked.contains(where: { $0.product == nil }) { return self.products }
        return Array(Set(blocked.compactMap(\.product))).sorted()
    }

    /// The items of one category.
    public func items(_ category: AssessmentCategory) -> [AssessmentItem] {
        self.items.filter { $0.category == category }
    }
}
