//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// The kinds of token of the parser-script language, with their payloads.
enum ScriptTokenKind: Sendable, Hashable {
    case identifier(String)
    case keyword(ScriptKeyword)
    case number(JSONValue)
    case string(String)
    case punctuator(ScriptPunctuator)
    case endOfInput

    /// How the token reads in a message: `'while'`, `'+='`, `the number 3`, `the end of the script`.
    var spelling: String {
        switch self {
        case .identifier(let name): "'\(name)'"
        case .keyword(let keyword): "'\(keyword.rawValue)'"
        case .number(let value): "the number \(value.jsonString())"
        case .string: "a string"
        case .punctuator(let punctuator): "'\(punctuator.rawValue)'"
        case .endOfInput: "the end of the script"
        }
    }
}

/// The reserved words; the ones the subset does not support are still reserved, so the parser can say so.
enum ScriptKeyword: String, Sendable, Hashable, CaseIterable {
    case `var`, `let`, `const`, `if`, `else`, `for`, `in`, `while`, `do`, `break`, `continue`, `return`
    case `true`, `false`, `null`, `undefined`, `typeof`
    case `function`, `new`, `switch`, `case`, `default`, `try`, `catch`, `finally`, `throw`, `class`, `this`
    case `delete`, `instanceof`, `void`, `with`, `yield`, `await`, `import`, `export`
}

/// Operators and punctuation, longest spelling first where they share a prefix.
enum ScriptPunctuator: String, Sendable, Hashable, CaseIterable {
    case leftBrace = "{"
    case rightBrace = "}"
    case leftParen = "("
    case rightParen = ")"
    case leftBracket = "["
    case rightBracket = "]"
    case semicolon = ";"
    case comma = ","
    case dot = "."
    case question = "?"
    case colon = ":"
    case strictEqual = "==="
    case strictNotEqual = "!=="
    case equal = "=="
    case notEqual = "!="
    case assign = "="
    case lessEqual = "<="
    case less = "<"
    case greaterEqual = ">="
    case greater = ">"
    case plusPlus = "++"
    case minusMinus = "--"
    case plusAssign = "+="
    case minusAssign = "-="
    case starAssign = "*="
    case slashAssign = "/="
    case percentAssign = "%="
    case plus = "+"
    case minus = "-"
    case star = "*"
    case slash = "/"
    case percent = "%"
    case and = "&&"
    case or = "||"
    case not = "!"
}

/// One token: its kind, where it is, and whether a line break comes before it (automatic semicolons need it).
struct ScriptToken: Sendable, Hashable {
    var kind: ScriptTokenKind
    var range: SourceRange
    var isAfterLineBreak: Bool
}
