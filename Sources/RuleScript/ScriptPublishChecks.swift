//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

// What the platform refuses when a parser script is published (PublishScript), beyond what compiling finds:
// `rules lint` reports these as errors, so a script is not found wanting only during a migration.

extension RuleScript {
    /// The code of a publish-time refusal.
    public static let publishCode = Diagnostic.Code("publish")

    /// The platform's publish-time refusals of a script that compiles; empty when it would publish, and
    /// when it does not compile (its compile errors say more).
    ///
    /// - A script that calls no forwarding function: PublishScript answers
    ///   `script doesn't contains transmit function` (its documented `SyntaxErrorMsg` example). A call in a
    ///   branch that never runs counts, as the check reads the script, not a run.
    public static func publishDiagnostics(
        _ source: SourceText,
        limits: RuleScriptLimits = RuleScriptLimits()
    ) -> [Diagnostic] {
        guard let script = try? RuleScript(source: source, limits: limits) else { return [] }
        if script.statements.contains(where: Self.forwards) { return [] }
        let start = SourceLocation(line: 1, column: 1, offset: 0)
        return [
            source.diagnostic(
                Self.publishCode,
                "the script calls no forwarding function, and the platform refuses to publish it (\"script "
                    + "doesn't contains transmit function\"); forward the data with writeAmqp(destinationId, "
                    + "payload, tag), writeIotTopic(destinationId, topic, payload) or another write… function",
                at: SourceRange(start: start, end: start)
            )
        ]
    }

    private static func forwards(_ statement: ScriptStatement) -> Bool {
        switch statement {
        case .expression(let expression), .declare(_, let expression):
            return Self.forwards(expression)
        case .block(let statements):
            return statements.contains(where: Self.forwards)
        case .if(let condition, let then, let otherwise):
            return Self.forwards(condition) || Self.forwards(then) || (otherwise.map(Self.forwards) ?? false)
        case .while(let condition, let body, _), .doWhile(let body, let condition, _):
            return Self.forwards(condition) || Self.forwards(body)
        case .for(let initializer, let condition, let step, let body, _):
            return (initializer.map(Self.forwards) ?? false) || (condition.map(Self.forwards) ?? false)
                || (step.map(Self.forwards) ?? false) || Self.forwards(body)
        case .forIn(_, let collection, let body, _):
            return Self.forwards(collection) || Self.forwards(body)
        case .return(let value):
            return value.map(Self.forwards) ?? false
        case .break, .continue, .empty:
            return false
        }
    }

    private static func forwards(_ expression: ScriptExpression) -> Bool {
        switch expression {
        case .constant, .variable:
            return false
        case .member(let base, _, _), .unary(_, let base, _):
            return Self.forwards(base)
        case .index(let base, let index, _), .binary(_, let base, let index, _), .and(let base, let index),
            .or(let base, let index):
            return Self.forwards(base) || Self.forwards(index)
        case .object(let entries):
            return entries.contains { Self.forwards($0.value) }
        case .array(let elements):
            return elements.contains(where: Self.forwards)
        case .conditional(let condition, let then, let otherwise):
            return Self.forwards(condition) || Self.forwards(then) || Self.forwards(otherwise)
        case .assign(let target, _, let value, _):
            return Self.forwards(target) || Self.forwards(value)
        case .update(let target, _, _, _):
            return Self.forwards(target)
        case .call(let call):
            if case .forward = call.builtin { return true }
            return call.arguments.contains(where: Self.forwards)
        case .method(let call):
            return Self.forwards(call.receiver) || call.arguments.contains(where: Self.forwards)
        }
    }

    private static func forwards(_ target: ScriptLValue) -> Bool {
        target.path.contains { step in
            if case .index(let index, _) = step { return Self.forwards(index) }
            return false
        }
    }
}

extension RuleScriptEngine {
    /// The platform's publish-time refusals (see ``RuleScript/publishDiagnostics(_:limits:)``).
    public func publishDiagnostics(_ source: SourceText) -> [Diagnostic] {
        RuleScript.publishDiagnostics(source, limits: self.limits)
    }
}
