//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

// The compiled form of a script: the parser resolves every variable to a slot and every call to a built-in
// as it parses, so running a script never looks at a name or at the source text again.

/// A statement of a compiled script.
indirect enum ScriptStatement: Sendable {
    /// An expression evaluated for its effect.
    case expression(ScriptExpression)
    /// `var`/`let`/`const` with its initial value (`null` when none was given).
    case declare(slot: Int, value: ScriptExpression)
    /// Statements in order; scopes exist only at compile time, so a block is just a list.
    case block([ScriptStatement])
    /// `if (condition) then else otherwise`.
    case `if`(ScriptExpression, then: ScriptStatement, otherwise: ScriptStatement?)
    /// `while (condition) body`; the range is the `while` keyword, for step-budget errors.
    case `while`(ScriptExpression, body: ScriptStatement, range: SourceRange)
    /// `do body while (condition)`.
    case doWhile(body: ScriptStatement, condition: ScriptExpression, range: SourceRange)
    /// `for (initializer; condition; step) body`.
    case `for`(
        initializer: ScriptStatement?,
        condition: ScriptExpression?,
        step: ScriptExpression?,
        body: ScriptStatement,
        range: SourceRange
    )
    /// `for (k in object) body`: the keys of an object, or the indexes of an array as strings.
    case forIn(slot: Int, collection: ScriptExpression, body: ScriptStatement, range: SourceRange)
    /// `break`.
    case `break`
    /// `continue`.
    case `continue`
    /// `return`, which ends the script; its value is ignored.
    case `return`(ScriptExpression?)
    /// `;` alone.
    case empty
}

/// An expression of a compiled script.
indirect enum ScriptExpression: Sendable {
    /// A literal, folded to its value.
    case constant(JSONValue)
    /// A variable, by slot.
    case variable(Int)
    /// `base.key`; the range is the key's, so errors point at it.
    case member(ScriptExpression, key: String, range: SourceRange)
    /// `base[index]`; the range is the index expression's.
    case index(ScriptExpression, ScriptExpression, range: SourceRange)
    /// `{ key: value, … }`, keys in order.
    case object([ScriptObjectEntry])
    /// `[value, …]`.
    case array([ScriptExpression])
    /// `!x`, `-x`, `+x`, `typeof x`; the range is the operator's.
    case unary(ScriptUnaryOperator, ScriptExpression, range: SourceRange)
    /// `a op b`; the range is the operator's.
    case binary(ScriptBinaryOperator, ScriptExpression, ScriptExpression, range: SourceRange)
    /// `a && b`, short-circuit: the value of `a` when it is falsy, else the value of `b`.
    case and(ScriptExpression, ScriptExpression)
    /// `a || b`, short-circuit: the value of `a` when it is truthy, else the value of `b`.
    case or(ScriptExpression, ScriptExpression)
    /// `condition ? a : b`.
    case conditional(ScriptExpression, ScriptExpression, ScriptExpression)
    /// `target = value`, or `target op= value` when `compound` is set; the range is the operator's.
    case assign(ScriptLValue, compound: ScriptBinaryOperator?, value: ScriptExpression, range: SourceRange)
    /// `++x`, `x--`, …: adds `delta`; the value is the new one when `isPrefix`, the old one otherwise.
    case update(ScriptLValue, delta: Int, isPrefix: Bool, range: SourceRange)
    /// A call of a built-in function.
    case call(ScriptCall)
    /// A method of a basic data type, `receiver.name(arguments…)`.
    case method(ScriptMethodCall)
}

/// One `key: value` of an object literal.
struct ScriptObjectEntry: Sendable {
    var key: String
    var value: ScriptExpression
}

/// The place an assignment writes: a variable, and a path of keys and indexes below it.
struct ScriptLValue: Sendable {
    /// The variable's slot.
    var slot: Int
    /// The variable's name, for messages.
    var name: String
    /// The keys and indexes from the variable to the place written, outermost first.
    var path: [ScriptPathStep]
    /// The path when every step is a literal key, computed once so most assignments evaluate nothing.
    var staticPath: [ScriptPathKey]?
    /// The whole target, for messages.
    var range: SourceRange
}

/// One step of an assignment target: `.key` or `[expression]`.
enum ScriptPathStep: Sendable {
    /// `.key` or `["key"]`.
    case key(String, SourceRange)
    /// `[expression]`.
    case index(ScriptExpression, SourceRange)

    /// Where the step is written.
    var range: SourceRange {
        switch self {
        case .key(_, let range), .index(_, let range): range
        }
    }
}

/// One evaluated step of an assignment target.
enum ScriptPathKey: Sendable {
    /// An object key (or a numeric string, which also indexes arrays).
    case key(String)
    /// An array index (or, on an object, the key spelling the number).
    case index(Int)
}

/// A call of a built-in, with the ranges diagnostics point at.
struct ScriptCall: Sendable {
    /// The function.
    var builtin: ScriptBuiltin
    /// The name as written.
    var name: String
    /// The arguments.
    var arguments: [ScriptExpression]
    /// The range of each argument.
    var argumentRanges: [SourceRange]
    /// The range of the function name.
    var range: SourceRange
}

/// A method call on a map, an array or a string, with the ranges diagnostics point at.
struct ScriptMethodCall: Sendable {
    /// The method.
    var method: ScriptMethod
    /// The value the method is called on.
    var receiver: ScriptExpression
    /// Where a changing method (`add`, `put`, `remove`, …) stores the changed receiver: `nil` when the receiver
    /// is not a variable, a field or an element (the change then applies to a temporary copy, as in Java).
    var target: ScriptLValue?
    /// The arguments.
    var arguments: [ScriptExpression]
    /// The range of each argument.
    var argumentRanges: [SourceRange]
    /// The range of the method name.
    var range: SourceRange
}

/// The unary operators.
enum ScriptUnaryOperator: String, Sendable {
    case not = "!"
    case negate = "-"
    case plus = "+"
    case typeOf = "typeof"
}

/// The binary operators other than the short-circuit ones.
enum ScriptBinaryOperator: String, Sendable {
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case remainder = "%"
    case equal = "=="
    case notEqual = "!="
    case strictEqual = "==="
    case strictNotEqual = "!=="
    case less = "<"
    case lessEqual = "<="
    case greater = ">"
    case greaterEqual = ">="
}
