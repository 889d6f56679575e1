//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL
import RuleScript

/// What running a compiled rule over one message produced.
public enum RuleRun: Sendable, Hashable {
    /// An old-version rule's result; on `.matched` every action receives the output.
    case sql(RuleResult)
    /// A parser whose data source matched the topic: the forwarding calls its script made, in order.
    case parser([ForwardingCall])
    /// A parser whose data-source topics do not match the message.
    case parserSkipped

    /// `true` when the rule forwards something.
    public var forwards: Bool {
        switch self {
        case .sql(.matched): true
        case .parser(let calls): !calls.isEmpty
        default: false
        }
    }
}

/// A rule file compiled and ready to run: SQL parsed and checked, or the script compiled by the engine.
public struct CompiledRule: Sendable {
    /// The rule file.
    public let file: RuleFile
    /// The runnable form.
    public let program: Program

    /// The runnable form of a rule.
    public enum Program: Sendable {
        /// An old-version rule.
        case sql(SQLRule)
        /// A new-version parser's script.
        case parser(any CompiledParserScript)
    }

    /// The rule's name.
    public var name: String {
        self.file.name
    }

    /// Runs the rule over one message.
    ///
    /// - Throws: a ``Diagnostic`` located in the rule file when the rule fails at run time.
    public func run(_ message: MessageContext) throws(Diagnostic) -> RuleRun {
        switch (self.program, self.file.body) {
        case (.sql(let rule), .sql(let definition)):
            do {
                return .sql(try rule.evaluate(message))
            } catch {
                throw definition.sql.relocate(error)
            }
        case (.parser(let script), .parser(let definition)):
            guard definition.topics.contains(where: { $0.matches(message.topic) }) else { return .parserSkipped }
            do {
                let calls = try script.run(message)
                try self.checkCalls(calls, definition)
                return .parser(calls)
            } catch {
                throw definition.script.relocate(error)
            }
        default:
            preconditionFailure("a compiled rule's program does not match its file")
        }
    }

    private func checkCalls(_ calls: [ForwardingCall], _ definition: ParserDefinition) throws(Diagnostic) {
        let source = definition.script.source
        if calls.count > ParserScriptLimits.maximumForwardingCalls {
            let location = calls[ParserScriptLimits.maximumForwardingCalls].location ?? source.location(ofOffset: 0)
            throw source.diagnostic(
                .limit,
                "the script made more than \(ParserScriptLimits.maximumForwardingCalls) forwarding calls in one run",
                at: SourceRange(start: location, end: location)
            )
        }
        for call in calls where definition.destination(call.destinationId) == nil {
            let location = call.location ?? source.location(ofOffset: 0)
            let known = definition.destinations.compactMap(\.id).map(String.init)
            throw source.diagnostic(
                .ruleFile,
                "\(call.function)(\(call.destinationId), …) names destination \(call.destinationId), which the rule file "
                    + "does not define" + Suggestion.didYouMean(String(call.destinationId), among: known),
                at: SourceRange(start: location, end: location)
            )
        }
    }
}

/// Compiles rule files: SQL with the rule SQL compiler, scripts with the given ``ParserScriptEngine``.
public struct RuleCompiler: Sendable {
    /// The engine that compiles parser scripts.
    public var scriptEngine: any ParserScriptEngine

    /// Creates a compiler; by default parser scripts compile with the `RuleScript` language.
    public init(scriptEngine: any ParserScriptEngine = RuleScriptEngine()) {
        self.scriptEngine = scriptEngine
    }

    /// Compiles a rule file, or throws its first error located in the file.
    public func compile(_ file: RuleFile) throws(Diagnostic) -> CompiledRule {
        switch file.body {
        case .sql(let definition):
            do {
                let rule = try SQLRule(source: definition.sql.source, dataType: definition.dataType)
                return CompiledRule(file: file, program: .sql(rule))
            } catch {
                throw definition.sql.relocate(error)
            }
        case .parser(let definition):
            do {
                let script = try self.scriptEngine.compile(definition.script.source)
                return CompiledRule(file: file, program: .parser(script))
            } catch {
                throw definition.script.relocate(error)
            }
        }
    }

    /// Loads and compiles a file; the diagnostics hold every problem found: the YAML and schema problems,
    /// and the first SQL or script error. The rule is `nil` when there is any error.
    public func load(path: String) -> (rule: CompiledRule?, diagnostics: [Diagnostic]) {
        let load = RuleFileLoader.load(path: path)
        // Compile even a file with errors elsewhere, so its SQL or script errors are reported in the same pass.
        guard let file = load.candidate else { return (nil, load.diagnostics) }
        do {
            let rule = try self.compile(file)
            return (load.hasErrors ? nil : rule, load.diagnostics)
        } catch {
            var found = [error]
            // A script's every error, not only the first (rules lint reports all of them).
            if case .parser(let definition) = file.body {
                let more = self.scriptEngine.diagnose(definition.script.source).map { definition.script.relocate($0) }
                if !more.isEmpty { found = more }
            }
            let all = (load.diagnostics + found).sorted {
                ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column)
            }
            return (nil, all)
        }
    }
}
