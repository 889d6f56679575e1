//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

/// The outcome of one rule on one sample.
public struct RuleTestCase: Sendable {
    /// Pass, fail, or error.
    public enum Status: String, Sendable {
        /// The output is the expected one.
        case pass = "PASS"
        /// The output differs.
        case fail = "FAIL"
        /// The rule failed, or the sample names an unknown rule.
        case error = "ERROR"
    }

    /// The sample's label.
    public var sample: String
    /// The rule's name.
    public var rule: String
    /// The outcome.
    public var status: Status
    /// The expected output.
    public var expected: JSONValue
    /// The actual output (`null` for none).
    public var actual: JSONValue?
    /// What went wrong, for errors.
    public var message: String?
}

/// What `rules test` found.
public struct RuleTestReport: Sendable {
    /// One case per sample and expected rule.
    public var cases: [RuleTestCase]

    /// `true` when every case passed.
    public var allPassed: Bool {
        self.cases.allSatisfy { $0.status == .pass }
    }

    /// `true` when any case is an error.
    public var hasErrors: Bool {
        self.cases.contains { $0.status == .error }
    }

    /// The pass/fail table, then a diff for each failure.
    public func render() -> String {
        let sampleWidth = max(6, self.cases.map(\.sample.count).max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        var lines = ["\(pad("RESULT", 6))  \(pad("SAMPLE", sampleWidth))  RULE"]
        for testCase in self.cases {
            lines.append("\(pad(testCase.status.rawValue, 6))  \(pad(testCase.sample, sampleWidth))  \(testCase.rule)")
        }
        let passed = self.cases.count { $0.status == .pass }
        lines.append("")
        lines.append("\(passed) passed, \(self.cases.count - passed) failed, \(self.cases.count) total")
        for testCase in self.cases where testCase.status != .pass {
            lines.append("")
            lines.append("--- \(testCase.sample) / \(testCase.rule): \(testCase.status.rawValue)")
            if let message = testCase.message {
                lines.append(message)
                continue
            }
            lines.append(contentsOf: JSONDiff.lines(expected: testCase.expected, actual: testCase.actual ?? .null))
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs rules over recorded samples and compares their outputs: a rule author's regression suite.
public struct RuleTestRunner: Sendable {
    /// The compiled rules by name.
    public var rules: [CompiledRule]

    /// Creates a runner over compiled rules.
    public init(rules: [CompiledRule]) {
        self.rules = rules
    }

    /// Runs every expectation of every sample.
    public func run(_ samples: [RuleSample]) -> RuleTestReport {
        var cases: [RuleTestCase] = []
        for sample in samples {
            for (name, expected) in sample.expectations {
                guard let rule = self.rules.first(where: { $0.name == name }) else {
                    cases.append(
                        RuleTestCase(
                            sample: sample.label,
                            rule: name,
                            status: .error,
                            expected: expected,
                            actual: nil,
                            message: "no rule named '\(name)' was loaded"
                                + Suggestion.didYouMean(name, among: self.rules.map(\.name))
                        )
                    )
                    continue
                }
                do {
                    let actual = Self.output(of: try rule.run(sample.message))
                    let status: RuleTestCase.Status =
                        JSONDiff.matches(expected: expected, actual: actual) ? .pass : .fail
                    cases.append(
                        RuleTestCase(
                            sample: sample.label,
                            rule: name,
                            status: status,
                            expected: expected,
                            actual: actual
                        )
                    )
                } catch {
                    cases.append(
                        RuleTestCase(
                            sample: sample.label,
                            rule: name,
                            status: .error,
                            expected: expected,
                            actual: nil,
                            message: error.description
                        )
                    )
                }
            }
        }
        return RuleTestReport(cases: cases)
    }

    /// A run as the JSON a samples file expects.
    public static func output(of run: RuleRun) -> JSONValue {
        switch run {
        case .sql(.matched(.json(let object))): .object(object)
        case .sql(.matched(.binary(let bytes))): .string(Base64.encode(bytes))
        case .sql: .null
        case .parser(let calls): .array(calls.map { .object($0.jsonObject) })
        case .parserSkipped: .null
        }
    }
}

/// Comparison with `"*"` wildcards, and a line diff of two JSON values for failure reports.
public enum JSONDiff {
    /// `true` when `actual` is `expected`, where the string `"*"` in `expected` matches anything.
    public static func matches(expected: JSONValue, actual: JSONValue) -> Bool {
        switch (expected, actual) {
        case (.string("*"), _):
            return true
        case (.object(let left), .object(let right)):
            guard left.count == right.count else { return false }
            return left.allSatisfy { member in
                right[member.key].map { Self.matches(expected: member.value, actual: $0) } ?? false
            }
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { Self.matches(expected: $0, actual: $1) }
        default:
            return expected == actual
        }
    }

    /// `- expected` / `+ actual` lines, key by key for objects.
    public static func lines(expected: JSONValue, actual: JSONValue) -> [String] {
        guard case .object(let left) = expected, case .object(let right) = actual else {
            return ["- expected: \(expected.jsonString())", "+ actual:   \(actual.jsonString())"]
        }
        var lines: [String] = []
        for member in left {
            if let other = right[member.key] {
                if !Self.matches(expected: member.value, actual: other) {
                    lines.append("- \"\(member.key)\": \(member.value.jsonString())")
                    lines.append("+ \"\(member.key)\": \(other.jsonString())")
                }
            } else {
                lines.append("- \"\(member.key)\": \(member.value.jsonString())   (missing from the output)")
            }
        }
        for member in right where left[member.key] == nil {
            lines.append("+ \"\(member.key)\": \(member.value.jsonString())   (not expected)")
        }
        if left.keys != right.keys, lines.isEmpty {
            lines.append("  same keys and values, different order: expected \(left.keys), got \(right.keys)")
        }
        return lines
    }
}
