//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Evaluates expressions of a rule over one message.
///
/// Values follow these rules, which the reference leaves open and we document here:
/// - A path the payload does not have is *missing* (`nil`): a SELECT item that is missing is left out of
///   the output, and a missing value in an operation acts as `null`.
/// - Comparisons are numeric when both sides are numbers (or strings that spell numbers), textual when
///   both are strings; a comparison with `null` is false (so is `<>`).
/// - `AND`, `OR` and `NOT` are two-valued: `true` is the boolean true, a non-zero number or the string
///   `"true"`; everything else, `null` included, is false.
/// - `+ - * %` of two integers stay integers (falling back to doubles on overflow); `/` gives an integer
///   only when the division is exact; division or remainder by zero gives `null`.
/// - `LIKE` patterns use `%` for any run of characters; everything else is literal.
struct Evaluator {
    let context: MessageContext
    let payload: JSONValue
    let source: SourceText

    func evaluate(_ expression: Expression) throws(Diagnostic) -> JSONValue? {
        switch expression.kind {
        case .literal(let value):
            return value
        case .path(let path):
            return path.lookup(in: self.payload)
        case .star:
            return .binary(self.context.payload)
        case .call(let function, let arguments):
            var values: [JSONValue] = []
            if !arguments.isEmpty {
                values.reserveCapacity(arguments.count)
                for argument in arguments {
                    values.append(try self.evaluate(argument) ?? .null)
                }
            }
            do {
                return try function.invoke(values, context: self.context)
            } catch {
                throw self.source.diagnostic(error.code, error.message, at: expression.range)
            }
        case .unary(.not, let operand):
            return .bool(!Self.truth(try self.evaluate(operand)))
        case .unary(.negate, let operand):
            switch try self.evaluate(operand) {
            case .int(let value) where value != Int.min: return .int(-value)
            case let value?:
                guard let number = value.numericValue else { return .null }
                return .double(-number)
            case nil: return .null
            }
        case .binary(.and, let lhs, let rhs):
            guard Self.truth(try self.evaluate(lhs)) else { return .bool(false) }
            return .bool(Self.truth(try self.evaluate(rhs)))
        case .binary(.or, let lhs, let rhs):
            if Self.truth(try self.evaluate(lhs)) { return .bool(true) }
            return .bool(Self.truth(try self.evaluate(rhs)))
        case .binary(let op, let lhs, let rhs):
            let left = try self.evaluate(lhs) ?? .null
            let right = try self.evaluate(rhs) ?? .null
            switch op {
            case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
                return .bool(Self.compare(op, left, right))
            default:
                return Self.arithmetic(op, left, right)
            }
        case .membership(let subject, let list, let negated):
            let value = try self.evaluate(subject) ?? .null
            if value.isNull { return .bool(false) }
            for element in list where Self.compare(.equal, value, try self.evaluate(element) ?? .null) {
                return .bool(!negated)
            }
            return .bool(negated)
        case .like(let subject, let pattern, let negated):
            guard let value = try self.evaluate(subject), !value.isNull,
                case .string(let text)? = try self.evaluate(pattern)
            else { return .bool(false) }
            return .bool(Self.like(value.textValue, text) != negated)
        case .caseWhen(let subject, let branches, let otherwise):
            let subjectValue = try subject.map { (expression) throws(Diagnostic) in
                try self.evaluate(expression) ?? .null
            }
            for branch in branches {
                let condition = try self.evaluate(branch.condition) ?? .null
                let hit = subjectValue.map { Self.compare(.equal, $0, condition) } ?? Self.truth(condition)
                if hit { return try self.evaluate(branch.result) }
            }
            return try otherwise.map { (expression) throws(Diagnostic) in try self.evaluate(expression) } ?? .null
        }
    }

    static func truth(_ value: JSONValue?) -> Bool {
        switch value {
        case .bool(let flag)?: flag
        case .int(let number)?: number != 0
        case .double(let number)?: number != 0 && !number.isNaN
        case .string(let text)?: text.lowercased() == "true"
        default: false
        }
    }

    static func compare(_ op: BinaryOperator, _ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        if lhs.isNull || rhs.isNull { return false }
        let order: Int
        if case .int(let a) = lhs, case .int(let b) = rhs {
            order = a < b ? -1 : a > b ? 1 : 0
        } else if case .string(let a) = lhs, case .string(let b) = rhs {
            order = a < b ? -1 : a > b ? 1 : 0
        } else if case .bool(let a) = lhs, case .bool(let b) = rhs {
            guard op == .equal || op == .notEqual else { return false }
            order = a == b ? 0 : 1
        } else if let a = lhs.numericValue, let b = rhs.numericValue, !lhs.isBool, !rhs.isBool {
            if a.isNaN || b.isNaN { return op == .notEqual }
            order = a < b ? -1 : a > b ? 1 : 0
        } else {
            guard op == .equal || op == .notEqual else { return false }
            order = lhs == rhs ? 0 : 1
        }
        switch op {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessEqual: return order <= 0
        case .greater: return order > 0
        case .greaterEqual: return order >= 0
        default: return false
        }
    }

    static func arithmetic(_ op: BinaryOperator, _ lhs: JSONValue, _ rhs: JSONValue) -> JSONValue {
        if case .int(let a) = lhs, case .int(let b) = rhs {
            switch op {
            case .add:
                let (sum, overflow) = a.addingReportingOverflow(b)
                return overflow ? .double(Double(a) + Double(b)) : .int(sum)
            case .subtract:
                let (difference, overflow) = a.subtractingReportingOverflow(b)
                return overflow ? .double(Double(a) - Double(b)) : .int(difference)
            case .multiply:
                let (product, overflow) = a.multipliedReportingOverflow(by: b)
                return overflow ? .double(Double(a) * Double(b)) : .int(product)
            case .divide:
                guard b != 0 else { return .null }
                if a % b == 0, !(a == Int.min && b == -1) { return .int(a / b) }
                return .double(Double(a) / Double(b))
            case .remainder:
                guard b != 0 else { return .null }
                return .int(b == -1 ? 0 : a % b)
            default:
                return .null
            }
        }
        guard let a = lhs.numericValue, let b = rhs.numericValue, !lhs.isNull, !rhs.isNull else { return .null }
        switch op {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide: return b == 0 ? .null : .double(a / b)
        case .remainder: return b == 0 ? .null : .double(a.truncatingRemainder(dividingBy: b))
        default: return .null
        }
    }

    /// SQL LIKE with `%` as the only wildcard.
    static func like(_ text: String, _ pattern: String) -> Bool {
        let segments = pattern.utf8.split(separator: UInt8(ascii: "%"), omittingEmptySubsequences: false)
        let bytes = Array(text.utf8)
        if segments.count == 1 { return bytes.elementsEqual(segments[0]) }
        guard let first = segments.first, let last = segments.last else { return true }
        guard bytes.starts(with: first), bytes.count >= first.count + last.count,
            bytes.reversed().starts(with: last.reversed())
        else { return false }
        var position = first.count
        let limit = bytes.count - last.count
        for segment in segments.dropFirst().dropLast() where !segment.isEmpty {
            guard let found = Self.find(Array(segment), in: bytes, from: position, limit: limit) else { return false }
            position = found + segment.count
        }
        return position <= limit
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int, limit: Int) -> Int? {
        guard needle.count <= limit - start else { return nil }
        for index in start...(limit - needle.count) where haystack[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }
}

extension JSONValue {
    fileprivate var isBool: Bool {
        if case .bool = self { return true }
        return false
    }
}
