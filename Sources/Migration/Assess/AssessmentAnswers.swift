//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The operator's answers to the questions the API cannot answer: `CHECK=yes|no` for every product, or
/// `PK:CHECK=yes|no` for one.
public struct AssessmentAnswers: Sendable, Hashable {
    private var answers: [String: Bool] = [:]

    /// No answers.
    public init() {}

    /// Parses `--answer` values.
    ///
    /// - Throws: ``MigrationError`` `.config` naming the value when it is not `[PK:]CHECK=yes|no` or names no
    ///   checklist item.
    public init(parsing values: [String]) throws {
        let known = Set(Checklist.all.map(\.id))
        for value in values {
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let answer = ["yes": true, "no": false][parts[1].lowercased()] else {
                throw MigrationError(
                    .config, "--answer \(value): expected [PK:]CHECK=yes|no, e.g. device.reconnect=yes")
            }
            let scope = parts[0].split(separator: ":", maxSplits: 1).map(String.init)
            let check = scope.last ?? ""
            guard known.contains(check) else {
                throw MigrationError(
                    .config,
                    "--answer \(value): unknown check \(check); the checks are \(known.sorted().joined(separator: ", "))"
                )
            }
            self.answers[scope.count == 2 ? "\(scope[0]):\(check)" : check] = answer
        }
    }

    /// Sets an answer, for one product or (with `product == nil`) for all.
    public mutating func set(_ check: String, product: String? = nil, _ answer: Bool) {
        self.answers[product.map { "\($0):\(check)" } ?? check] = answer
    }

    /// The products that answers name (`PK:CHECK=…`), so a mistyped product key can be reported.
    public var products: [String] {
        Array(
            Set(
                self.answers.keys.compactMap {
                    $0.split(separator: ":", maxSplits: 1).dropLast().first.map(String.init)
                })
        )
        .sorted()
    }

    /// The answer for a check: the product's own first, then the one for all products.
    public func answer(_ check: String, product: String?) -> Bool? {
        if let product, let answer = self.answers["\(product):\(check)"] { return answer }
        return self.answers[check]
    }
}
