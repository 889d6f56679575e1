//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// The parser of parser scripts: recursive descent over the lexer's tokens, straight to the compiled form.
///
/// It resolves names as it goes (variables to slots, calls to built-ins), so every naming error, every
/// arity error and every assignment to a `const` is found before the script runs. Nesting is bounded by
/// ``RuleScriptLimits/maximumNesting`` so that neither the parser nor the interpreter can run out of stack.
struct ScriptParser {
    private var lexer: ScriptLexer
    private let source: SourceText
    private let limits: RuleScriptLimits
    private var token: ScriptToken
    private var previousEnd: SourceLocation
    private var scopes = ScriptScopes()
    private var loopDepth = 0
    private var depth = 0

    init(_ source: SourceText, limits: RuleScriptLimits) throws(Diagnostic) {
        self.source = source
        self.limits = limits
        self.lexer = ScriptLexer(source)
        self.token = try self.lexer.next()
        self.previousEnd = SourceLocation(line: 1, column: 1, offset: 0)
    }

    /// Parses the whole script.
    mutating func parseScript() throws(Diagnostic) -> (statements: [ScriptStatement], slotNames: [String]) {
        var statements: [ScriptStatement] = []
        while self.token.kind != .endOfInput {
            statements.append(try self.statement())
        }
        return (statements, self.scopes.slotNames)
    }

    /// Every syntax and naming error of the script, for `rules lint`: after an error the parser forgets the
    /// failed top-level statement (its scopes included), skips to where the next one starts — after a `;` or a
    /// balanced `}`, or at a line break — and goes on. Cascades are limited: a stray `}` right after an error is
    /// skipped silently. The compile path (``parseScript()``) still stops at the first error.
    mutating func collectErrors() -> [Diagnostic] {
        var errors: [Diagnostic] = []
        var recovering = false
        while self.token.kind != .endOfInput {
            if recovering, self.isPunctuator(.rightBrace) {
                guard (try? self.advance()) != nil else { break }
                continue
            }
            let (scopes, loopDepth, depth) = (self.scopes, self.loopDepth, self.depth)
            do {
                _ = try self.statement()
                recovering = false
            } catch {
                errors.append(error)
                (self.scopes, self.loopDepth, self.depth) = (scopes, loopDepth, depth)
                guard error.code != .limit, self.skipToNextStatement() else { break }
                recovering = true
            }
        }
        return errors
    }

    /// Skips the rest of a failed statement; false when the end of the script (or an unreadable token) came first.
    private mutating func skipToNextStatement() -> Bool {
        var braces = 0
        var moved = false
        while self.token.kind != .endOfInput {
            if moved, braces == 0, self.token.isAfterLineBreak { return true }
            let kind = self.token.kind
            guard (try? self.advance()) != nil else { return false }
            moved = true
            switch kind {
            case .punctuator(.leftBrace): braces += 1
            case .punctuator(.rightBrace):
                braces -= 1
                if braces <= 0 { return true }
            case .punctuator(.semicolon) where braces == 0: return true
            default: break
            }
        }
        return false
    }

    // MARK: - Tokens

    private mutating func advance() throws(Diagnostic) {
        self.previousEnd = self.token.range.end
        self.token = try self.lexer.next()
    }

    private func isPunctuator(_ punctuator: ScriptPunctuator) -> Bool {
        self.token.kind == .punctuator(punctuator)
    }

    private func error(
        _ message: String,
        at range: SourceRange? = nil,
        code: Diagnostic.Code = .syntax
    ) -> Diagnostic {
        self.source.diagnostic(code, message, at: range ?? self.token.range)
    }

    private mutating func expect(_ punctuator: ScriptPunctuator, _ context: String) throws(Diagnostic) {
        guard self.isPunctuator(punctuator) else {
            throw self.error("expected '\(punctuator.rawValue)' \(context), found \(self.token.kind.spelling)")
        }
        try self.advance()
    }

    /// Ends a statement: a `;`, or (automatic semicolon) a line break, a `}` or the end of the script.
    private mutating func endStatement() throws(Diagnostic) {
        if self.isPunctuator(.semicolon) {
            try self.advance()
            return
        }
        if self.isPunctuator(.rightBrace) || self.token.kind == .endOfInput || self.token.isAfterLineBreak {
            return
        }
        throw self.error("expected ';' or a line break after the statement, found \(self.token.kind.spelling)")
    }

    private mutating func name(_ what: String) throws(Diagnostic) -> (String, SourceRange) {
        switch self.token.kind {
        case .identifier(let name):
            let range = self.token.range
            try self.advance()
            return (name, range)
        case .keyword(let keyword):
            throw self.error("'\(keyword.rawValue)' is a reserved word and cannot be \(what)")
        default:
            throw self.error("expected \(what), found \(self.token.kind.spelling)")
        }
    }

    /// Counts one more level of nesting and refuses to go past the limit.
    private mutating func deepen() throws(Diagnostic) {
        self.depth += 1
        if self.depth > self.limits.maximumNesting {
            throw self.error(
                "the script nests deeper than \(self.limits.maximumNesting) levels; split the expression or the "
                    + "blocks into variables",
                code: .limit
            )
        }
    }

    // MARK: - Statements

    private mutating func statement() throws(Diagnostic) -> ScriptStatement {
        let savedDepth = self.depth
        defer { self.depth = savedDepth }
        try self.deepen()
        switch self.token.kind {
        case .punctuator(.leftBrace):
            return try self.block()
        case .punctuator(.semicolon):
            try self.advance()
            return .empty
        case .keyword(let keyword):
            return try self.keywordStatement(keyword)
        default:
            let expression = try self.expression()
            try self.endStatement()
            return .expression(expression)
        }
    }

    private mutating func keywordStatement(_ keyword: ScriptKeyword) throws(Diagnostic) -> ScriptStatement {
        switch keyword {
        case .var, .let, .const:
            let declaration = try self.declaration(ScriptScopes.Kind(rawValue: keyword.rawValue)!)
            try self.endStatement()
            return declaration
        case .if:
            return try self.ifStatement()
        case .while:
            return try self.whileStatement()
        case .do:
            return try self.doWhileStatement()
        case .for:
            return try self.forStatement()
        case .break, .continue:
            guard self.loopDepth > 0 else {
                throw self.error("'\(keyword.rawValue)' outside a loop")
            }
            try self.advance()
            try self.endStatement()
            return keyword == .break ? .break : .continue
        case .return:
            try self.advance()
            if self.isPunctuator(.semicolon) || self.isPunctuator(.rightBrace) || self.token.kind == .endOfInput
                || self.token.isAfterLineBreak
            {
                try self.endStatement()
                return .return(nil)
            }
            let value = try self.expression()
            try self.endStatement()
            return .return(value)
        case .function:
            throw self.error("function declarations are not supported in parser scripts; write the code inline")
        case .switch, .case, .default:
            throw self.error("'switch' is not supported in parser scripts; use if / else if")
        case .try, .catch, .finally, .throw:
            throw self.error(
                "'\(keyword.rawValue)' is not supported in parser scripts; a failing script stops with an error"
            )
        case .else:
            throw self.error("'else' without an 'if' before it")
        case .true, .false, .null, .undefined, .typeof:
            let expression = try self.expression()
            try self.endStatement()
            return .expression(expression)
        default:
            throw self.error("'\(keyword.rawValue)' is not supported in parser scripts")
        }
    }

    private mutating func block() throws(Diagnostic) -> ScriptStatement {
        let open = self.token.range
        try self.advance()
        self.scopes.push()
        defer { self.scopes.pop() }
        var statements: [ScriptStatement] = []
        while !self.isPunctuator(.rightBrace) {
            guard self.token.kind != .endOfInput else {
                throw self.error("expected '}' to close the '{' at line \(open.start.line)", at: open)
            }
            statements.append(try self.statement())
        }
        try self.advance()
        return .block(statements)
    }

    /// `var a = 1, b;` without the terminator; the `for` header uses it too.
    private mutating func declaration(_ kind: ScriptScopes.Kind) throws(Diagnostic) -> ScriptStatement {
        try self.advance()
        var declarations: [ScriptStatement] = []
        repeat {
            if !declarations.isEmpty { try self.advance() }
            let (name, range) = try self.name("a variable name")
            var value = ScriptExpression.constant(.null)
            if self.isPunctuator(.assign) {
                try self.advance()
                value = try self.assignment()
            } else if kind == .const {
                throw self.error("const '\(name)' needs a value: const \(name) = …", at: range)
            }
            let slot = try self.declare(name, kind: kind, range: range)
            declarations.append(.declare(slot: slot, value: value))
        } while self.isPunctuator(.comma)
        return declarations.count == 1 ? declarations[0] : .block(declarations)
    }

    private mutating func declare(
        _ name: String, kind: ScriptScopes.Kind, range: SourceRange
    ) throws(Diagnostic)
        -> Int
    {
        do {
            return try self.scopes.declare(name, kind: kind)
        } catch {
            switch error {
            case .redeclared(let previous):
                throw self.error("'\(name)' is already declared (with \(previous.rawValue)) in this scope", at: range)
            }
        }
    }

    private mutating func condition(_ keyword: String) throws(Diagnostic) -> ScriptExpression {
        try self.expect(.leftParen, "after '\(keyword)'")
        let condition = try self.expression()
        try self.expect(.rightParen, "to close the condition of '\(keyword)'")
        return condition
    }

    private mutating func ifStatement() throws(Diagnostic) -> ScriptStatement {
        try self.advance()
        let condition = try self.condition("if")
        let then = try self.statement()
        var otherwise: ScriptStatement?
        if self.token.kind == .keyword(.else) {
            try self.advance()
            otherwise = try self.statement()
        }
        return .if(condition, then: then, otherwise: otherwise)
    }

    private mutating func loopBody() throws(Diagnostic) -> ScriptStatement {
        self.loopDepth += 1
        defer { self.loopDepth -= 1 }
        return try self.statement()
    }

    private mutating func whileStatement() throws(Diagnostic) -> ScriptStatement {
        let range = self.token.range
        try self.advance()
        let condition = try self.condition("while")
        return .while(condition, body: try self.loopBody(), range: range)
    }

    private mutating func doWhileStatement() throws(Diagnostic) -> ScriptStatement {
        let range = self.token.range
        try self.advance()
        let body = try self.loopBody()
        guard self.token.kind == .keyword(.while) else {
            throw self.error("expected 'while (…)' after the body of 'do', found \(self.token.kind.spelling)")
        }
        try self.advance()
        let condition = try self.condition("while")
        if self.isPunctuator(.semicolon) { try self.advance() }
        return .doWhile(body: body, condition: condition, range: range)
    }

    private mutating func forStatement() throws(Diagnostic) -> ScriptStatement {
        let range = self.token.range
        try self.advance()
        try self.expect(.leftParen, "after 'for'")
        self.scopes.push()
        defer { self.scopes.pop() }

        // Look two tokens ahead on a copy of the lexer (a value type) to tell `for (k in o)` from `for (;;)`.
        var lookahead = self.lexer
        let second = try lookahead.next()
        var initializer: ScriptStatement?
        switch self.token.kind {
        case .keyword(let keyword) where keyword == .var || keyword == .let || keyword == .const:
            if case .identifier = second.kind, try lookahead.next().kind == .keyword(.in) {
                try self.advance()
                let (name, nameRange) = try self.name("a variable name")
                try self.advance()
                let collection = try self.expression()
                try self.expect(.rightParen, "to close the header of 'for … in'")
                let kind = ScriptScopes.Kind(rawValue: keyword.rawValue)!
                let slot = try self.declare(name, kind: kind, range: nameRange)
                return .forIn(slot: slot, collection: collection, body: try self.loopBody(), range: range)
            }
            initializer = try self.declaration(ScriptScopes.Kind(rawValue: keyword.rawValue)!)
        case .identifier(let name) where second.kind == .keyword(.in):
            let nameRange = self.token.range
            try self.advance()
            try self.advance()
            let target = try self.lvalue(try self.variable(name, range: nameRange), range: nameRange)
            let collection = try self.expression()
            try self.expect(.rightParen, "to close the header of 'for … in'")
            return .forIn(slot: target.slot, collection: collection, body: try self.loopBody(), range: range)
        case .punctuator(.semicolon):
            break
        default:
            initializer = .expression(try self.expression())
        }
        try self.expect(.semicolon, "after the initializer of 'for' (write for (init; condition; step))")
        let condition = self.isPunctuator(.semicolon) ? nil : try self.expression()
        try self.expect(.semicolon, "after the condition of 'for'")
        let step = self.isPunctuator(.rightParen) ? nil : try self.expression()
        try self.expect(.rightParen, "to close the header of 'for'")
        return .for(
            initializer: initializer,
            condition: condition,
            step: step,
            body: try self.loopBody(),
            range: range
        )
    }

    // MARK: - Expressions

    private mutating func expression() throws(Diagnostic) -> ScriptExpression {
        try self.assignment()
    }

    private static func assignmentOperator(_ kind: ScriptTokenKind) -> ScriptBinaryOperator?? {
        switch kind {
        case .punctuator(.assign): .some(nil)
        case .punctuator(.plusAssign): .add
        case .punctuator(.minusAssign): .subtract
        case .punctuator(.starAssign): .multiply
        case .punctuator(.slashAssign): .divide
        case .punctuator(.percentAssign): .remainder
        default: nil
        }
    }

    private mutating func assignment() throws(Diagnostic) -> ScriptExpression {
        let savedDepth = self.depth
        defer { self.depth = savedDepth }
        try self.deepen()
        let start = self.token.range.start
        let target = try self.conditional()
        guard let compound = Self.assignmentOperator(self.token.kind) else { return target }
        let operatorRange = self.token.range
        let lvalue = try self.lvalue(target, range: SourceRange(start: start, end: self.previousEnd))
        try self.advance()
        let value = try self.assignment()
        return .assign(lvalue, compound: compound, value: value, range: operatorRange)
    }

    /// Turns a parsed expression into an assignment target, or says why it cannot be one.
    private func lvalue(
        _ expression: ScriptExpression,
        range: SourceRange,
        allowingConstant: Bool = false
    ) throws(Diagnostic) -> ScriptLValue {
        var path: [ScriptPathStep] = []
        var current = expression
        while true {
            switch current {
            case .variable(let slot):
                let name = self.scopes.slotNames[slot]
                if path.isEmpty, !allowingConstant, self.scopes.slotKinds[slot] == .const {
                    throw self.error(
                        "cannot assign to '\(name)': it is a constant (declared with const); declare it with let",
                        at: range,
                        code: .type
                    )
                }
                path.reverse()
                var staticPath: [ScriptPathKey]? = []
                for step in path {
                    switch step {
                    case .key(let key, _): staticPath?.append(.key(key))
                    case .index(.constant(.int(let index)), _): staticPath?.append(.index(index))
                    case .index(.constant(.string(let key)), _): staticPath?.append(.key(key))
                    case .index: staticPath = nil
                    }
                }
                return ScriptLValue(slot: slot, name: name, path: path, staticPath: staticPath, range: range)
            case .member(let base, let key, let keyRange):
                path.append(.key(key, keyRange))
                current = base
            case .index(let base, let index, let indexRange):
                path.append(.index(index, indexRange))
                current = base
            default:
                throw self.error(
                    "cannot assign to this expression; the target must be a variable, a field (a.b) or an "
                        + "element (a[i])",
                    at: range
                )
            }
        }
    }

    private mutating func conditional() throws(Diagnostic) -> ScriptExpression {
        let condition = try self.binary(1)
        guard self.isPunctuator(.question) else { return condition }
        try self.advance()
        let then = try self.assignment()
        try self.expect(.colon, "between the branches of '?:'")
        let otherwise = try self.assignment()
        return .conditional(condition, then, otherwise)
    }

    private static func precedence(_ kind: ScriptTokenKind) -> Int? {
        guard case .punctuator(let punctuator) = kind else { return nil }
        switch punctuator {
        case .or: return 1
        case .and: return 2
        case .equal, .notEqual, .strictEqual, .strictNotEqual: return 3
        case .less, .lessEqual, .greater, .greaterEqual: return 4
        case .plus, .minus: return 5
        case .star, .slash, .percent: return 6
        default: return nil
        }
    }

    /// Precedence climbing over the left-associative binary operators.
    private mutating func binary(_ minimum: Int) throws(Diagnostic) -> ScriptExpression {
        let savedDepth = self.depth
        defer { self.depth = savedDepth }
        var left = try self.unary()
        // Operands of this flat chain: a chain is not nesting (a CSV line of 200 `+ "," +` terms must parse),
        // but its left-leaning tree is walked recursively, so its length has a limit of its own.
        var terms = 1
        while let precedence = Self.precedence(self.token.kind), precedence >= minimum {
            guard case .punctuator(let punctuator) = self.token.kind else { break }
            let operatorRange = self.token.range
            try self.advance()
            let right = try self.binary(precedence + 1)
            terms += 1
            if terms > self.limits.maximumChainTerms {
                throw self.error(
                    "this chain of operators has more than \(self.limits.maximumChainTerms) terms; build the value "
                        + "in steps (e.g. join parts of an array with a loop)",
                    at: operatorRange,
                    code: .limit
                )
            }
            switch punctuator {
            case .or: left = .or(left, right)
            case .and: left = .and(left, right)
            default:
                left = .binary(ScriptBinaryOperator(rawValue: punctuator.rawValue)!, left, right, range: operatorRange)
            }
        }
        return left
    }

    private mutating func unary() throws(Diagnostic) -> ScriptExpression {
        let savedDepth = self.depth
        defer { self.depth = savedDepth }
        try self.deepen()
        let operatorRange = self.token.range
        switch self.token.kind {
        case .punctuator(.not):
            try self.advance()
            return .unary(.not, try self.unary(), range: operatorRange)
        case .punctuator(.minus):
            try self.advance()
            let operand = try self.unary()
            switch operand {
            case .constant(.int(let value)) where value != Int.min: return .constant(.int(-value))
            case .constant(.double(let value)): return .constant(.double(-value))
            default: return .unary(.negate, operand, range: operatorRange)
            }
        case .punctuator(.plus):
            try self.advance()
            return .unary(.plus, try self.unary(), range: operatorRange)
        case .keyword(.typeof):
            try self.advance()
            return .unary(.typeOf, try self.unary(), range: operatorRange)
        case .punctuator(.plusPlus), .punctuator(.minusMinus):
            let delta = self.isPunctuator(.plusPlus) ? 1 : -1
            try self.advance()
            let start = self.token.range.start
            let operand = try self.unary()
            let target = try self.lvalue(operand, range: SourceRange(start: start, end: self.previousEnd))
            return .update(target, delta: delta, isPrefix: true, range: operatorRange)
        default:
            return try self.postfix()
        }
    }

    private mutating func postfix() throws(Diagnostic) -> ScriptExpression {
        let start = self.token.range.start
        let operand = try self.memberChain()
        // A line break before ++ ends the statement (JavaScript's restricted production).
        guard self.isPunctuator(.plusPlus) || self.isPunctuator(.minusMinus), !self.token.isAfterLineBreak else {
            return operand
        }
        let delta = self.isPunctuator(.plusPlus) ? 1 : -1
        let operatorRange = self.token.range
        let target = try self.lvalue(operand, range: SourceRange(start: start, end: self.previousEnd))
        try self.advance()
        return .update(target, delta: delta, isPrefix: false, range: operatorRange)
    }

    private mutating func memberChain() throws(Diagnostic) -> ScriptExpression {
        let savedDepth = self.depth
        defer { self.depth = savedDepth }
        var expression = try self.primary()
        while true {
            switch self.token.kind {
            case .punctuator(.dot):
                try self.advance()
                let key: String
                switch self.token.kind {
                case .identifier(let name): key = name
                case .keyword(let keyword): key = keyword.rawValue
                default: throw self.error("expected a field name after '.', found \(self.token.kind.spelling)")
                }
                let keyRange = self.token.range
                try self.advance()
                if self.isPunctuator(.leftParen) {
                    expression = try self.methodCall(key, on: expression, range: keyRange)
                } else {
                    expression = .member(expression, key: key, range: keyRange)
                }
            case .punctuator(.leftBracket):
                try self.advance()
                let indexStart = self.token.range.start
                let index = try self.expression()
                let indexRange = SourceRange(start: indexStart, end: self.previousEnd)
                try self.expect(.rightBracket, "to close the index")
                expression = .index(expression, index, range: indexRange)
            case .punctuator(.leftParen):
                throw self.error("only built-in functions can be called, by name: f(…)")
            default:
                return expression
            }
            try self.deepen()
        }
    }

    private mutating func primary() throws(Diagnostic) -> ScriptExpression {
        let range = self.token.range
        switch self.token.kind {
        case .number(let value):
            try self.advance()
            return .constant(value)
        case .string(let text):
            try self.advance()
            return .constant(.string(text))
        case .keyword(.true):
            try self.advance()
            return .constant(.bool(true))
        case .keyword(.false):
            try self.advance()
            return .constant(.bool(false))
        case .keyword(.null), .keyword(.undefined):
            try self.advance()
            return .constant(.null)
        case .identifier(let name):
            try self.advance()
            if self.isPunctuator(.leftParen) {
                return try self.call(name, range: range)
            }
            return try self.variable(name, range: range)
        case .punctuator(.leftParen):
            try self.advance()
            let inner = try self.expression()
            try self.expect(.rightParen, "to close the '(' at \(range.start)")
            return inner
        case .punctuator(.leftBracket):
            return try self.arrayLiteral()
        case .punctuator(.leftBrace):
            return try self.objectLiteral()
        case .keyword(.function):
            throw self.error("functions are not supported in parser scripts; write the code inline")
        case .keyword(.new):
            throw self.error("'new' is not supported in parser scripts; use object literals { … } and [ … ]")
        case .keyword(.this):
            throw self.error("'this' is not supported in parser scripts; read the message with payload('json')")
        case .endOfInput:
            throw self.error("expected an expression, found the end of the script")
        default:
            throw self.error("expected an expression, found \(self.token.kind.spelling)")
        }
    }

    private func variable(_ name: String, range: SourceRange) throws(Diagnostic) -> ScriptExpression {
        if let binding = self.scopes.lookup(name) {
            return .variable(binding.slot)
        }
        if ScriptBuiltin.table[name] != nil {
            throw self.error("'\(name)' is a function; call it: \(name)(…)", at: range, code: .unknownVariable)
        }
        throw self.error(
            "unknown variable '\(name)'" + Suggestion.didYouMean(name, among: self.scopes.visibleNames)
                + " (declare it with var, let or const before using it)",
            at: range,
            code: .unknownVariable
        )
    }

    private mutating func call(_ name: String, range: SourceRange) throws(Diagnostic) -> ScriptExpression {
        if self.scopes.lookup(name) != nil {
            throw self.error("'\(name)' is a variable, not a function", at: range, code: .unknownFunction)
        }
        guard let builtin = ScriptBuiltin.table[name] else {
            throw self.error(
                "unknown function '\(name)'" + Suggestion.didYouMean(name, among: ScriptBuiltin.names),
                at: range,
                code: .unknownFunction
            )
        }
        let (arguments, argumentRanges) = try self.arguments(of: name)
        let callRange = SourceRange(start: range.start, end: range.end)
        guard builtin.arity.contains(arguments.count) else {
            let arity = builtin.arity
            let expected =
                arity.lowerBound == arity.upperBound
                ? "\(arity.lowerBound) argument\(arity.lowerBound == 1 ? "" : "s")"
                : arity.upperBound >= 64
                    ? "at least \(arity.lowerBound) argument\(arity.lowerBound == 1 ? "" : "s")"
                    : "\(arity.lowerBound) to \(arity.upperBound) arguments"
            throw self.error(
                "\(name)() takes \(expected), got \(arguments.count); usage: \(builtin.signature)",
                at: callRange,
                code: .arity
            )
        }
        if case .forward = builtin, case .constant(let destination) = arguments[0],
            ScriptValues.destinationId(destination) == nil
        {
            throw self.error(
                "the destination ID of \(name)() must be a whole number (the data destination's ID), got "
                    + destination.jsonString(),
                at: argumentRanges[0],
                code: .type
            )
        }
        return .call(
            ScriptCall(
                builtin: builtin,
                name: name,
                arguments: arguments,
                argumentRanges: argumentRanges,
                range: callRange
            )
        )
    }

    /// The arguments of a call, from its `(` to its `)`, with their ranges.
    private mutating func arguments(of name: String) throws(Diagnostic) -> ([ScriptExpression], [SourceRange]) {
        try self.advance()
        var arguments: [ScriptExpression] = []
        var argumentRanges: [SourceRange] = []
        while !self.isPunctuator(.rightParen) {
            let start = self.token.range.start
            arguments.append(try self.assignment())
            argumentRanges.append(SourceRange(start: start, end: self.previousEnd))
            if self.isPunctuator(.comma) {
                try self.advance()
            } else if !self.isPunctuator(.rightParen) {
                throw self.error("expected ',' or ')' in the arguments of \(name)(), found \(self.token.kind.spelling)")
            }
        }
        try self.advance()
        return (arguments, argumentRanges)
    }

    /// `receiver.name(arguments…)`: a method of a basic data type (map, array, string).
    private mutating func methodCall(
        _ name: String,
        on receiver: ScriptExpression,
        range: SourceRange
    ) throws(Diagnostic) -> ScriptExpression {
        guard let method = ScriptMethod(rawValue: name) else {
            throw self.error(
                "unknown method '.\(name)()'" + Suggestion.didYouMean(name, among: ScriptMethod.names)
                    + " (maps, arrays and strings have: \(ScriptMethod.names.joined(separator: ", ")))",
                at: range,
                code: .unknownFunction
            )
        }
        let (arguments, argumentRanges) = try self.arguments(of: "." + name)
        guard method.arity.contains(arguments.count) else {
            let arity = method.arity
            let expected =
                arity.lowerBound == arity.upperBound
                ? "\(arity.lowerBound) argument\(arity.lowerBound == 1 ? "" : "s")"
                : "\(arity.lowerBound) to \(arity.upperBound) arguments"
            throw self.error(
                ".\(name)() takes \(expected), got \(arguments.count)",
                at: range,
                code: .arity
            )
        }
        // A changing method stores the changed receiver back into the variable, field or element it was called on.
        var target: ScriptLValue?
        if method.mutates {
            target = try? self.lvalue(receiver, range: range, allowingConstant: true)
        }
        return .method(
            ScriptMethodCall(
                method: method,
                receiver: receiver,
                target: target,
                arguments: arguments,
                argumentRanges: argumentRanges,
                range: range
            )
        )
    }

    private mutating func arrayLiteral() throws(Diagnostic) -> ScriptExpression {
        let open = self.token.range
        try self.advance()
        var elements: [ScriptExpression] = []
        var allConstant = true
        while !self.isPunctuator(.rightBracket) {
            guard self.token.kind != .endOfInput else {
                throw self.error("expected ']' to close the '[' at \(open.start)", at: open)
            }
            let element = try self.assignment()
            if case .constant = element {} else { allConstant = false }
            elements.append(element)
            if self.isPunctuator(.comma) {
                try self.advance()
            } else if self.token.kind == .endOfInput {
                throw self.error("expected ']' to close the '[' at \(open.start)", at: open)
            } else if !self.isPunctuator(.rightBracket) {
                throw self.error("expected ',' or ']' in the array, found \(self.token.kind.spelling)")
            }
        }
        try self.advance()
        if allConstant {
            // Fold constant arrays once, so a run only copies a reference.
            return .constant(.array(elements.map { if case .constant(let value) = $0 { value } else { .null } }))
        }
        return .array(elements)
    }

    private mutating func objectLiteral() throws(Diagnostic) -> ScriptExpression {
        let open = self.token.range
        try self.advance()
        var entries: [ScriptObjectEntry] = []
        while !self.isPunctuator(.rightBrace) {
            let keyRange = self.token.range
            let key: String
            var shorthand = false
            switch self.token.kind {
            case .identifier(let name):
                key = name
                shorthand = true
            case .keyword(let keyword): key = keyword.rawValue
            case .string(let text): key = text
            case .number(let value): key = ScriptValues.text(value)
            case .endOfInput: throw self.error("expected '}' to close the object at \(open.start)", at: open)
            default: throw self.error("expected a key in the object, found \(self.token.kind.spelling)")
            }
            try self.advance()
            let value: ScriptExpression
            if shorthand, self.isPunctuator(.comma) || self.isPunctuator(.rightBrace) {
                value = try self.variable(key, range: keyRange)
            } else {
                try self.expect(.colon, "after the key '\(key)'")
                value = try self.assignment()
            }
            entries.append(ScriptObjectEntry(key: key, value: value))
            if self.isPunctuator(.comma) {
                try self.advance()
            } else if self.token.kind == .endOfInput {
                throw self.error("expected '}' to close the object at \(open.start)", at: open)
            } else if !self.isPunctuator(.rightBrace) {
                throw self.error("expected ',' or '}' in the object, found \(self.token.kind.spelling)")
            }
        }
        try self.advance()
        if entries.allSatisfy({ if case .constant = $0.value { true } else { false } }) {
            var object = JSONObject(minimumCapacity: entries.count)
            for entry in entries {
                if case .constant(let value) = entry.value { object[entry.key] = value }
            }
            return .constant(.object(object))
        }
        return .object(entries)
    }
}

extension Diagnostic.Code {
    /// A parser script names a variable that is not declared.
    public static let unknownVariable = Diagnostic.Code("unknown-variable")
}
