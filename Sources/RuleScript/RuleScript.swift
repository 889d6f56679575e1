//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// The limits a parser script runs under; each one, when exceeded, stops compilation or the run with a
/// ``Diagnostic`` of code `limit`.
public struct RuleScriptLimits: Sendable, Hashable {
    /// The largest script accepted, in UTF-8 bytes. Default: 120 KB (`ParserScriptLimits.maximumScriptBytes`),
    /// the platform's limit.
    public var maximumScriptBytes: Int
    /// The most forwarding calls one run may make. Default: 100 (`ParserScriptLimits.maximumForwardingCalls`),
    /// the platform's limit.
    public var maximumForwardingCalls: Int
    /// The most steps (statements executed plus loop iterations) one run may take, so a loop that never ends
    /// stops with an error naming its line. Default: 1,000,000.
    public var stepBudget: Int
    /// The deepest nesting of blocks and expressions, which bounds the parser's and the interpreter's
    /// recursion. Default: 100. A flat chain of one operator (`a + "," + b + …`) is not nesting: it counts
    /// against ``maximumChainTerms`` instead.
    public var maximumNesting: Int
    /// The most operands of one flat chain of binary operators (a CSV line built with `+ "," +`). The chain
    /// becomes a left-leaning tree the interpreter walks recursively, so it is bounded too, far above what
    /// scripts write. Default: 1,000.
    public var maximumChainTerms: Int
    /// The longest string a run may build by concatenation, in UTF-8 bytes. Default: 1 MiB.
    public var maximumStringBytes: Int
    /// The most elements an array, or keys an object, may reach by assignment. Default: 100,000.
    public var maximumCollectionCount: Int
    /// The largest value a run may compose from others (an object literal holding the payload, an array of
    /// arrays), measured as its approximate JSON size in bytes, so a loop such as `a = [a, a]` stops instead
    /// of building a value too large to forward. Default: 16 MiB.
    public var maximumValueBytes: Int

    /// Creates limits; the defaults are the platform's.
    public init(
        maximumScriptBytes: Int = ParserScriptLimits.maximumScriptBytes,
        maximumForwardingCalls: Int = ParserScriptLimits.maximumForwardingCalls,
        stepBudget: Int = 1_000_000,
        maximumNesting: Int = 100,
        maximumStringBytes: Int = 1 << 20,
        maximumCollectionCount: Int = 100_000,
        maximumValueBytes: Int = 16 << 20,
        maximumChainTerms: Int = 1_000
    ) {
        self.maximumChainTerms = maximumChainTerms
        self.maximumScriptBytes = maximumScriptBytes
        self.maximumForwardingCalls = maximumForwardingCalls
        self.stepBudget = stepBudget
        self.maximumNesting = maximumNesting
        self.maximumStringBytes = maximumStringBytes
        self.maximumCollectionCount = maximumCollectionCount
        self.maximumValueBytes = maximumValueBytes
    }
}

/// A compiled parser script of the platform's new-version data forwarding (reference §5): a JavaScript-like
/// subset, compiled once and run per message.
///
/// ```swift
/// let script = try RuleScript.compile("""
///     var data = payload("json");
///     if (data.items.Temperature.value > 38) { writeAmqp(1001, data, "hot"); }
///     """, file: "hot.js")
/// let calls = try script.run(MessageContext(topic: "/sys/pk/dn/thing/event/property/post", payload: json))
/// ```
///
/// Compiling resolves every variable to a slot and every function to a built-in, so unknown names, wrong
/// argument counts, assignments to constants and syntax errors are all reported before any message is seen.
/// A run never parses or looks up names; it evaluates the compiled tree over fresh slots, so one compiled
/// script may run on many threads at once.
public struct RuleScript: CompiledParserScript {
    /// The script's source, which diagnostics quote.
    public let source: SourceText
    /// The limits the script compiles and runs under.
    public let limits: RuleScriptLimits
    /// The compiled statements.
    let statements: [ScriptStatement]
    /// The names of the variable slots, by slot number.
    let slotNames: [String]

    /// Compiles a script, or throws its first error.
    public init(source: SourceText, limits: RuleScriptLimits = RuleScriptLimits()) throws(Diagnostic) {
        guard source.bytes.count <= limits.maximumScriptBytes else {
            let start = SourceLocation(line: 1, column: 1, offset: 0)
            throw source.diagnostic(
                .limit,
                "the script is \(source.bytes.count) bytes; a parser script may have at most "
                    + "\(limits.maximumScriptBytes) bytes (120 KB)",
                at: SourceRange(start: start, end: start)
            )
        }
        var parser = try ScriptParser(source, limits: limits)
        let (statements, slotNames) = try parser.parseScript()
        self.source = source
        self.limits = limits
        self.statements = statements
        self.slotNames = slotNames
    }

    /// Every compile-time error of a script (syntax, naming, constants, limits), not just the first: what
    /// `rules lint` shows. Empty when the script compiles.
    public static func diagnose(_ source: SourceText, limits: RuleScriptLimits = RuleScriptLimits()) -> [Diagnostic] {
        do {
            _ = try RuleScript(source: source, limits: limits)
            return []
        } catch {
            guard var parser = try? ScriptParser(source, limits: limits) else { return [error] }
            let all = parser.collectErrors()
            return all.isEmpty ? [error] : all
        }
    }

    /// Compiles script text; `file` is the name diagnostics print.
    public static func compile(
        _ text: String,
        file: String = "<script>",
        limits: RuleScriptLimits = RuleScriptLimits()
    ) throws(Diagnostic) -> RuleScript {
        try RuleScript(source: SourceText(text, file: file), limits: limits)
    }

    /// The number of variables the script declares (each `let` or `const` in a block is its own).
    public var variableCount: Int {
        self.slotNames.count
    }

    /// Runs the script over one message and returns its forwarding calls in order.
    ///
    /// - Throws: a ``Diagnostic`` at the failing expression: a type error, a field read of `null`, a payload
    ///   that is not JSON for `payload('json')`, more than ``RuleScriptLimits/maximumForwardingCalls`` calls,
    ///   or a step budget spent (naming the loop).
    public func run(_ message: MessageContext) throws(Diagnostic) -> [ForwardingCall] {
        var interpreter = ScriptInterpreter(
            source: self.source,
            limits: self.limits,
            message: message,
            slotCount: self.slotNames.count
        )
        _ = try interpreter.execute(self.statements)
        return interpreter.calls
    }
}

/// The parser-script engine to plug into the rule engine: compiles scripts into ``RuleScript``s.
public struct RuleScriptEngine: ParserScriptEngine {
    /// The limits every script compiles and runs under.
    public var limits: RuleScriptLimits

    /// Creates an engine; the default limits are the platform's.
    public init(limits: RuleScriptLimits = RuleScriptLimits()) {
        self.limits = limits
    }

    /// Compiles a script, or throws its first error with its location in `source`.
    public func compile(_ source: SourceText) throws(Diagnostic) -> any CompiledParserScript {
        try RuleScript(source: source, limits: self.limits)
    }

    /// Every compile-time error of a script (see ``RuleScript/diagnose(_:limits:)``).
    public func diagnose(_ source: SourceText) -> [Diagnostic] {
        RuleScript.diagnose(source, limits: self.limits)
    }
}
