//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A keyword of the rule SQL; keywords are case-insensitive.
public enum Keyword: String, Sendable, Hashable, CaseIterable {
    /// `SELECT`.
    case select
    /// `FROM`.
    case from
    /// `WHERE`.
    case `where`
    /// `AS`.
    case `as`
    /// `AND`.
    case and
    /// `OR`.
    case or
    /// `NOT`.
    case not
    /// `IN`.
    case `in`
    /// `LIKE`.
    case like
    /// `CASE`.
    case `case`
    /// `WHEN`.
    case when
    /// `THEN`.
    case then
    /// `ELSE`.
    case `else`
    /// `END`.
    case end
    /// `TRUE`.
    case `true`
    /// `FALSE`.
    case `false`
    /// `NULL`.
    case null
}

/// What a token is.
public enum TokenKind: Sendable, Hashable {
    /// A bare word that is not a keyword: a field name or a function name.
    case identifier(String)
    /// Text in double quotes: a variable (a field or a JSON path) or, after FROM, the topic.
    case quotedIdentifier(String)
    /// Text in single quotes: a string constant.
    case string(String)
    /// An integer constant.
    case integer(Int)
    /// A decimal constant.
    case double(Double)
    /// A keyword.
    case keyword(Keyword)
    /// `,`
    case comma
    /// `(`
    case leftParen
    /// `)`
    case rightParen
    /// `*`
    case star
    /// `+`
    case plus
    /// `-`
    case minus
    /// `/`
    case slash
    /// `%`
    case percent
    /// `=`
    case equal
    /// `<>` or `!=`
    case notEqual
    /// `<`
    case less
    /// `<=`
    case lessEqual
    /// `>`
    case greater
    /// `>=`
    case greaterEqual
    /// `.`
    case dot
    /// `[`
    case leftBracket
    /// `]`
    case rightBracket
    /// The end of the input.
    case endOfInput

    /// How the token reads in a message.
    public var spelling: String {
        switch self {
        case .identifier(let name): "'\(name)'"
        case .quotedIdentifier(let text): "\"\(text)\""
        case .string(let text): "'\(text)'"
        case .integer(let value): "\(value)"
        case .double(let value): "\(value)"
        case .keyword(let keyword): keyword.rawValue.uppercased()
        case .comma: "','"
        case .leftParen: "'('"
        case .rightParen: "')'"
        case .star: "'*'"
        case .plus: "'+'"
        case .minus: "'-'"
        case .slash: "'/'"
        case .percent: "'%'"
        case .equal: "'='"
        case .notEqual: "'<>'"
        case .less: "'<'"
        case .lessEqual: "'<='"
        case .greater: "'>'"
        case .greaterEqual: "'>='"
        case .dot: "'.'"
        case .leftBracket: "'['"
        case .rightBracket: "']'"
        case .endOfInput: "the end of the rule"
        }
    }
}

/// A token and where it is.
public struct Token: Sendable, Hashable {
    /// What the token is.
    public var kind: TokenKind
    /// Where it is.
    public var range: SourceRange

    /// Creates a token.
    public init(kind: TokenKind, range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}
