//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A binary operator of the rule SQL.
public enum BinaryOperator: String, Sendable, Hashable {
    /// Addition.
    case add = "+"
    /// Subtraction.
    case subtract = "-"
    /// Multiplication.
    case multiply = "*"
    /// Division.
    case divide = "/"
    /// Remainder.
    case remainder = "%"
    /// Equality.
    case equal = "="
    /// Inequality.
    case notEqual = "<>"
    /// Less than.
    case less = "<"
    /// Less than or equal.
    case lessEqual = "<="
    /// Greater than.
    case greater = ">"
    /// Greater than or equal.
    case greaterEqual = ">="
    /// Logical and.
    case and = "AND"
    /// Logical or.
    case or = "OR"
}

/// A unary operator of the rule SQL.
public enum UnaryOperator: String, Sendable, Hashable {
    /// Arithmetic negation.
    case negate = "-"
    /// Logical negation.
    case not = "NOT"
}

/// An expression of the rule SQL with its source range.
public struct Expression: Sendable, Hashable {
    /// The shape of an expression.
    public indirect enum Kind: Sendable, Hashable {
        /// A constant: `'text'`, `42`, `3.5`, `true`, `null`.
        case literal(JSONValue)
        /// A payload field or JSON path.
        case path(FieldPath)
        /// `*`: the whole payload (in SELECT, or as the argument of `to_base64`/`to_hex`).
        case star
        /// A call of a built-in function.
        case call(RuleFunction, [Expression])
        /// `-x`, `NOT x`.
        case unary(UnaryOperator, Expression)
        /// `x + y`, `x = y`, `x AND y`, …
        case binary(BinaryOperator, Expression, Expression)
        /// `x [NOT] IN (a, b, …)`.
        case membership(Expression, [Expression], negated: Bool)
        /// `x [NOT] LIKE 'pattern%'`.
        case like(Expression, Expression, negated: Bool)
        /// `CASE [subject] WHEN … THEN … [ELSE …] END`.
        case caseWhen(subject: Expression?, branches: [CaseBranch], otherwise: Expression?)
    }

    /// The shape.
    public var kind: Kind
    /// Where it is in the source.
    public var range: SourceRange

    /// Creates an expression.
    public init(_ kind: Kind, range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    /// Calls `visit` on this expression and every sub-expression, depth first.
    public func forEach(_ visit: (Expression) -> Void) {
        visit(self)
        switch self.kind {
        case .literal, .path, .star:
            break
        case .call(_, let arguments):
            for argument in arguments { argument.forEach(visit) }
        case .unary(_, let operand):
            operand.forEach(visit)
        case .binary(_, let lhs, let rhs), .like(let lhs, let rhs, _):
            lhs.forEach(visit)
            rhs.forEach(visit)
        case .membership(let subject, let list, _):
            subject.forEach(visit)
            for element in list { element.forEach(visit) }
        case .caseWhen(let subject, let branches, let otherwise):
            subject?.forEach(visit)
            for branch in branches {
                branch.condition.forEach(visit)
                branch.result.forEach(visit)
            }
            otherwise?.forEach(visit)
        }
    }
}

/// One `WHEN … THEN …` of a CASE expression.
public struct CaseBranch: Sendable, Hashable {
    /// The value compared with the subject, or the condition when there is no subject.
    public var condition: Expression
    /// The result when it matches.
    public var result: Expression
}

/// One item of the SELECT list.
public struct SelectItem: Sendable, Hashable {
    /// What the item is.
    public enum Kind: Sendable, Hashable {
        /// `*`: every field of the payload.
        case all
        /// An expression, with the output key it is stored under.
        case expression(Expression, key: String)
    }

    /// What the item is.
    public var kind: Kind
    /// The alias written after AS, if any.
    public var alias: String?
    /// Where it is in the source.
    public var range: SourceRange
}

/// A parsed `SELECT … FROM "…" [WHERE …]` statement.
public struct RuleStatement: Sendable, Hashable {
    /// The SELECT list, in order.
    public var items: [SelectItem]
    /// The FROM topic filter.
    public var topic: TopicFilter
    /// Where the topic is in the source.
    public var topicRange: SourceRange
    /// The WHERE condition, if any.
    public var condition: Expression?
}
