//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The parser of the rule SQL: `SELECT items FROM "topic" [WHERE condition]`, by recursive descent.
///
/// Precedence, loosest first: `OR`; `AND`; `NOT`; comparisons, `[NOT] IN`, `[NOT] LIKE`; `+ -`; `* / %`;
/// unary minus; constants, paths, calls, parentheses and CASE.
public struct Parser {
    /// The most SELECT items a rule may have (reference §4.1).
    public static let maximumFields = 50
    /// The deepest nesting of expressions accepted, so hostile input cannot exhaust the stack.
    public static let maximumDepth = 100

    private let source: SourceText
    private let tokens: [Token]
    private var position = 0
    private var depth = 0

    private init(source: SourceText, tokens: [Token]) {
        self.source = source
        self.tokens = tokens
    }

    /// Parses a statement, or throws the first error.
    public static func parse(_ source: SourceText) throws(Diagnostic) -> RuleStatement {
        var lexer = Lexer(source)
        let tokens = try lexer.tokenize()
        var parser = Parser(source: source, tokens: tokens)
        return try parser.statement()
    }

    // MARK: Tokens

    private var current: Token {
        self.tokens[self.position]
    }

    private var previousEnd: SourceLocation {
        self.position > 0 ? self.tokens[self.position - 1].range.end : self.current.range.start
    }

    private mutating func advance() -> Token {
        let token = self.tokens[self.position]
        if self.position < self.tokens.count - 1 { self.position += 1 }
        return token
    }

    private func check(_ kind: TokenKind) -> Bool {
        self.current.kind == kind
    }

    private func check(_ keyword: Keyword) -> Bool {
        self.current.kind == .keyword(keyword)
    }

    private mutating func accept(_ kind: TokenKind) -> Bool {
        guard self.check(kind) else { return false }
        _ = self.advance()
        return true
    }

    private mutating func accept(_ keyword: Keyword) -> Bool {
        self.accept(.keyword(keyword))
    }

    private func error(_ message: String, at range: SourceRange, code: Diagnostic.Code = .syntax) -> Diagnostic {
        self.source.diagnostic(code, message, at: range)
    }

    /// "expected X, found Y", with a keyword suggestion when Y looks like a misspelt keyword.
    private func unexpected(_ expected: String, keywords: [Keyword] = []) -> Diagnostic {
        var message = "expected \(expected), found \(self.current.kind.spelling)"
        if case .identifier(let word) = self.current.kind, !keywords.isEmpty,
            let match = Suggestion.closest(to: word, among: keywords.map { $0.rawValue.uppercased() })
        {
            message += "; did you mean \(match)?"
        }
        return self.error(message, at: self.current.range)
    }

    private mutating func expect(_ kind: TokenKind, _ what: String) throws(Diagnostic) -> Token {
        guard self.check(kind) else { throw self.unexpected(what) }
        return self.advance()
    }

    // MARK: Statement

    private mutating func statement() throws(Diagnostic) -> RuleStatement {
        guard self.accept(.select) else {
            throw self.unexpected("SELECT at the start of the rule", keywords: [.select])
        }
        var items: [SelectItem] = []
        repeat {
            items.append(try self.selectItem())
            if items.count > Self.maximumFields {
                throw self.error(
                    "too many SELECT fields: the platform allows at most \(Self.maximumFields); "
                        + "use thingPropertyFlatMap() to forward many properties",
                    at: items[items.count - 1].range,
                    code: .limit
                )
            }
        } while self.accept(.comma)
        guard self.accept(.from) else {
            throw self.unexpected("',' or FROM after the SELECT list", keywords: [.from, .as])
        }
        let topicToken = self.advance()
        let topicText: String
        switch topicToken.kind {
        case .quotedIdentifier(let text), .string(let text):
            topicText = text
        default:
            throw self.error(
                "expected the topic in double quotes after FROM, e.g. FROM \"/${productKey}/+/user/update\", found "
                    + topicToken.kind.spelling,
                at: topicToken.range
            )
        }
        let topic: TopicFilter
        do {
            topic = try TopicFilter(topicText)
        } catch {
            throw self.error(error.message, at: topicToken.range, code: .topic)
        }
        var condition: Expression?
        if self.accept(.where) {
            condition = try self.expression()
        }
        guard self.check(.endOfInput) else {
            if condition == nil {
                throw self.unexpected("WHERE or the end of the rule after the topic", keywords: [.where])
            }
            throw self.unexpected("an operator or the end of the rule", keywords: [.and, .or, .not, .in, .like])
        }
        return RuleStatement(items: items, topic: topic, topicRange: topicToken.range, condition: condition)
    }

    private mutating func selectItem() throws(Diagnostic) -> SelectItem {
        let start = self.current.range
        if self.accept(.star) {
            return SelectItem(kind: .all, alias: nil, range: start)
        }
        let expression = try self.expression()
        var alias: String?
        var range = expression.range
        if self.accept(.as) {
            let token = self.advance()
            switch token.kind {
            case .identifier(let name), .quotedIdentifier(let name), .string(let name):
                alias = name
            case .keyword(let keyword):
                // Aliases such as `end` or `case` are keywords; accept them as names after AS.
                alias = self.source.text.utf8Slice(token.range) ?? keyword.rawValue
            default:
                throw self.error("expected a name after AS, found \(token.kind.spelling)", at: token.range)
            }
            range = range.union(token.range)
        } else if case .identifier(let name) = self.current.kind {
            // `SELECT a b`: an alias without AS. A word like FROM followed by the topic is a misspelt FROM.
            if let next = self.tokens[safe: self.position + 1], Self.isTopicToken(next.kind),
                Suggestion.closest(to: name, among: ["FROM"]) != nil
            {
                throw self.unexpected("',' or FROM after the SELECT list", keywords: [.from])
            }
            alias = name
            range = range.union(self.advance().range)
        }
        let key: String
        if let alias {
            key = alias
        } else if case .path(let path) = expression.kind {
            key = path.lastKey
        } else {
            key = self.source.text.utf8Slice(expression.range) ?? "expr"
        }
        return SelectItem(kind: .expression(expression, key: key), alias: alias, range: range)
    }

    private static func isTopicToken(_ kind: TokenKind) -> Bool {
        switch kind {
        case .quotedIdentifier, .string: true
        default: false
        }
    }

    // MARK: Expressions

    private mutating func nest() throws(Diagnostic) {
        self.depth += 1
        if self.depth > Self.maximumDepth {
            throw self.error(
                "expression nested too deeply (more than \(Self.maximumDepth) levels)",
                at: self.current.range,
                code: .limit
            )
        }
    }

    /// An expression (the loosest level, OR).
    public mutating func expression() throws(Diagnostic) -> Expression {
        try self.nest()
        defer { self.depth -= 1 }
        var lhs = try self.conjunction()
        while self.accept(.or) {
            let rhs = try self.conjunction()
            lhs = Expression(.binary(.or, lhs, rhs), range: lhs.range.union(rhs.range))
        }
        return lhs
    }

    private mutating func conjunction() throws(Diagnostic) -> Expression {
        var lhs = try self.negation()
        while self.accept(.and) {
            let rhs = try self.negation()
            lhs = Expression(.binary(.and, lhs, rhs), range: lhs.range.union(rhs.range))
        }
        return lhs
    }

    private mutating func negation() throws(Diagnostic) -> Expression {
        let start = self.current.range
        if self.accept(.not) {
            try self.nest()
            defer { self.depth -= 1 }
            let operand = try self.negation()
            return Expression(.unary(.not, operand), range: start.union(operand.range))
        }
        return try self.comparison()
    }

    private mutating func comparison() throws(Diagnostic) -> Expression {
        let lhs = try self.additive()
        let operators: [TokenKind: BinaryOperator] = [
            .equal: .equal, .notEqual: .notEqual, .less: .less, .lessEqual: .lessEqual, .greater: .greater,
            .greaterEqual: .greaterEqual,
        ]
        if let op = operators[self.current.kind] {
            _ = self.advance()
            let rhs = try self.additive()
            return Expression(.binary(op, lhs, rhs), range: lhs.range.union(rhs.range))
        }
        var negated = false
        if self.check(.not), let next = self.tokens[safe: self.position + 1],
            next.kind == .keyword(.in) || next.kind == .keyword(.like)
        {
            _ = self.advance()
            negated = true
        }
        if self.accept(.in) {
            _ = try self.expect(.leftParen, "'(' after IN")
            var list: [Expression] = []
            if !self.check(.rightParen) {
                repeat {
                    list.append(try self.additive())
                } while self.accept(.comma)
            }
            let close = try self.expect(.rightParen, "',' or ')' to close the IN list")
            return Expression(.membership(lhs, list, negated: negated), range: lhs.range.union(close.range))
        }
        if self.accept(.like) {
            let pattern = try self.additive()
            return Expression(.like(lhs, pattern, negated: negated), range: lhs.range.union(pattern.range))
        }
        return lhs
    }

    private mutating func additive() throws(Diagnostic) -> Expression {
        var lhs = try self.multiplicative()
        while true {
            let op: BinaryOperator
            if self.accept(.plus) {
                op = .add
            } else if self.accept(.minus) {
                op = .subtract
            } else {
                return lhs
            }
            let rhs = try self.multiplicative()
            lhs = Expression(.binary(op, lhs, rhs), range: lhs.range.union(rhs.range))
        }
    }

    private mutating func multiplicative() throws(Diagnostic) -> Expression {
        var lhs = try self.unary()
        while true {
            let op: BinaryOperator
            if self.accept(.star) {
                op = .multiply
            } else if self.accept(.slash) {
                op = .divide
            } else if self.accept(.percent) {
                op = .remainder
            } else {
                return lhs
            }
            let rhs = try self.unary()
            lhs = Expression(.binary(op, lhs, rhs), range: lhs.range.union(rhs.range))
        }
    }

    private mutating func unary() throws(Diagnostic) -> Expression {
        let start = self.current.range
        if self.accept(.minus) {
            try self.nest()
            defer { self.depth -= 1 }
            let operand = try self.unary()
            if case .literal(.int(let value)) = operand.kind {
                return Expression(.literal(.int(-value)), range: start.union(operand.range))
            }
            if case .literal(.double(let value)) = operand.kind {
                return Expression(.literal(.double(-value)), range: start.union(operand.range))
            }
            return Expression(.unary(.negate, operand), range: start.union(operand.range))
        }
        if self.accept(.plus) {
            return try self.unary()
        }
        return try self.primary()
    }

    private mutating func primary() throws(Diagnostic) -> Expression {
        let token = self.current
        switch token.kind {
        case .string(let text):
            _ = self.advance()
            return Expression(.literal(.string(text)), range: token.range)
        case .integer(let value):
            _ = self.advance()
            return Expression(.literal(.int(value)), range: token.range)
        case .double(let value):
            _ = self.advance()
            return Expression(.literal(.double(value)), range: token.range)
        case .keyword(.true):
            _ = self.advance()
            return Expression(.literal(.bool(true)), range: token.range)
        case .keyword(.false):
            _ = self.advance()
            return Expression(.literal(.bool(false)), range: token.range)
        case .keyword(.null):
            _ = self.advance()
            return Expression(.literal(.null), range: token.range)
        case .keyword(.case):
            return try self.caseExpression()
        case .leftParen:
            _ = self.advance()
            let inner = try self.expression()
            let close = try self.expect(.rightParen, "')'")
            return Expression(inner.kind, range: token.range.union(close.range))
        case .quotedIdentifier(let text):
            _ = self.advance()
            switch FieldPath.parse(text) {
            case .success(let path):
                return Expression(.path(path), range: token.range)
            case .failure(let failure):
                throw self.error(failure.message, at: token.range)
            }
        case .identifier(let name):
            _ = self.advance()
            if self.check(.leftParen) {
                return try self.call(name, nameRange: token.range)
            }
            return try self.unquotedPath(first: name, range: token.range)
        case .star:
            throw self.error(
                "'*' is only allowed as a whole SELECT item or as the argument of to_base64(*) or to_hex(*)",
                at: token.range
            )
        default:
            throw self.unexpected("a field, a constant or a function call")
        }
    }

    /// `a.b.c[0].d` written without quotes.
    private mutating func unquotedPath(first: String, range: SourceRange) throws(Diagnostic) -> Expression {
        var components: [FieldPath.Component] = [.key(first)]
        var range = range
        while true {
            if self.check(.dot) {
                _ = self.advance()
                let token = self.advance()
                switch token.kind {
                case .identifier(let name), .quotedIdentifier(let name):
                    components.append(.key(name))
                case .keyword:
                    components.append(.key(self.source.text.utf8Slice(token.range) ?? ""))
                case .integer(let index):
                    // `a.0` is read as a key "0", the way JSON paths without brackets name array members.
                    components.append(.key(String(index)))
                default:
                    throw self.error("expected a name after '.', found \(token.kind.spelling)", at: token.range)
                }
                range = range.union(token.range)
            } else if self.check(.leftBracket) {
                _ = self.advance()
                let token = self.advance()
                guard case .integer(let index) = token.kind, index >= 0 else {
                    throw self.error("expected an array index after '[', found \(token.kind.spelling)", at: token.range)
                }
                let close = try self.expect(.rightBracket, "']'")
                components.append(.index(index))
                range = range.union(close.range)
            } else {
                break
            }
        }
        let text = self.source.text.utf8Slice(range) ?? first
        return Expression(.path(FieldPath(components: components, text: text)), range: range)
    }

    private mutating func call(_ name: String, nameRange: SourceRange) throws(Diagnostic) -> Expression {
        guard let function = RuleFunctions.function(named: name) else {
            throw self.error(
                "unknown function '\(name)'" + Suggestion.didYouMean(name, among: RuleFunctions.names),
                at: nameRange,
                code: .unknownFunction
            )
        }
        _ = self.advance()
        var arguments: [Expression] = []
        if !self.check(.rightParen) {
            repeat {
                if self.check(.star) {
                    let star = self.advance()
                    guard function.acceptsStar else {
                        throw self.error(
                            "\(function.rawValue)() does not take '*'; only to_base64(*) and to_hex(*) do",
                            at: star.range
                        )
                    }
                    arguments.append(Expression(.star, range: star.range))
                } else {
                    arguments.append(try self.expression())
                }
            } while self.accept(.comma)
        }
        let close = try self.expect(.rightParen, "',' or ')' to close the call of \(function.rawValue)()")
        let range = nameRange.union(close.range)
        do {
            try function.checkArity(arguments.count)
        } catch {
            throw self.error(error.message, at: range, code: error.code)
        }
        return Expression(.call(function, arguments), range: range)
    }

    private mutating func caseExpression() throws(Diagnostic) -> Expression {
        let start = self.advance().range
        try self.nest()
        defer { self.depth -= 1 }
        var subject: Expression?
        if !self.check(.when) {
            subject = try self.expression()
        }
        var branches: [CaseBranch] = []
        while self.accept(.when) {
            let condition = try self.expression()
            guard self.accept(.then) else { throw self.unexpected("THEN", keywords: [.then]) }
            let result = try self.expression()
            branches.append(CaseBranch(condition: condition, result: result))
        }
        guard !branches.isEmpty else { throw self.unexpected("WHEN after CASE", keywords: [.when]) }
        var otherwise: Expression?
        if self.accept(.else) {
            otherwise = try self.expression()
        }
        guard self.check(.end) else { throw self.unexpected("WHEN, ELSE or END", keywords: [.when, .else, .end]) }
        let end = self.advance().range
        return Expression(
            .caseWhen(subject: subject, branches: branches, otherwise: otherwise),
            range: start.union(end)
        )
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? {
        index >= 0 && index < self.count ? self[index] : nil
    }
}

extension String {
    /// The text between two UTF-8 offsets of a range.
    func utf8Slice(_ range: SourceRange) -> String? {
        let utf8 = self.utf8
        guard range.start.offset <= range.end.offset, range.end.offset <= utf8.count else { return nil }
        let start = utf8.index(utf8.startIndex, offsetBy: range.start.offset)
        let end = utf8.index(utf8.startIndex, offsetBy: range.end.offset)
        return String(self[start..<end])
    }
}
