//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Rules
import Testing

/// A stand-in for the `RuleScript` engine: every `writeAmqp(N` in the script becomes one call.
struct FakeScriptEngine: ParserScriptEngine {
    func compile(_ source: SourceText) throws(Diagnostic) -> any CompiledParserScript {
        if source.text.contains("syntax error") {
            let offset = source.text.utf8.count - source.text.drop { $0 != "s" }.utf8.count
            let start = source.location(ofOffset: offset)
            throw source.diagnostic(.syntax, "fake syntax error", at: SourceRange(start: start, end: start))
        }
        return FakeScript(source: source)
    }
}

struct FakeScript: CompiledParserScript {
    let source: SourceText

    func run(_ message: MessageContext) throws(Diagnostic) -> [ForwardingCall] {
        var calls: [ForwardingCall] = []
        for line in self.source.text.split(separator: "\n") {
            guard line.hasPrefix("writeAmqp("), let id = Int(line.dropFirst(10).prefix { $0.isNumber }) else {
                continue
            }
            let repeats = line.hasSuffix("x101") ? 101 : 1
            for _ in 0..<repeats {
                calls.append(
                    ForwardingCall(
                        destinationId: id,
                        function: "writeAmqp",
                        kind: .amqp,
                        payload: ["dn": .string(message.deviceName)],
                        tag: "t"
                    )
                )
            }
        }
        return calls
    }
}

@Suite("The parser-script seam")
struct ParserScriptSeamTests {
    static func parser(_ script: String) -> String {
        "name: p\ndataSource:\n  topics: [/pk/+/user/#]\nscript: |\n"
            + script.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
            + "\ndestinations:\n  1001: {type: amqp, consumerGroup: g}\n"
    }

    func compiled(_ script: String, engine: any ParserScriptEngine = FakeScriptEngine()) throws -> CompiledRule {
        let load = RuleFileLoader.load(text: Self.parser(script), path: "p.yaml")
        return try RuleCompiler(scriptEngine: engine).compile(try #require(load.rule))
    }

    @Test("a plugged-in engine runs the script and its calls are returned")
    func runs() throws {
        let rule = try self.compiled("writeAmqp(1001, x)")
        let run = try rule.run(MessageContext(topic: "/pk/dev1/user/a", payload: "{}"))
        #expect(
            run
                == .parser([
                    ForwardingCall(
                        destinationId: 1001,
                        function: "writeAmqp",
                        kind: .amqp,
                        payload: ["dn": "dev1"],
                        tag: "t"
                    )
                ])
        )
        #expect(
            RuleTestRunner.output(of: run).jsonString()
                == #"[{"destinationId":1001,"kind":"amqp","payload":{"dn":"dev1"},"tag":"t"}]"#
        )
        #expect(try rule.run(MessageContext(topic: "/other/dev1/user/a", payload: "{}")) == .parserSkipped)
    }

    @Test("a script error is located in the rule file")
    func compileError() throws {
        #expect {
            _ = try self.compiled("var a = 1;\nsyntax error here")
        } throws: { error in
            guard let diagnostic = error as? Diagnostic else { return false }
            return diagnostic.file == "p.yaml" && diagnostic.location.line == 6 && diagnostic.location.column == 3
        }
    }

    @Test(
        "calls to unknown destinations and too many calls fail",
        arguments: [("writeAmqp(1002, x)", "names destination 1002"), ("writeAmqp(1001, x) x101", "more than 100")]
    )
    func callChecks(script: String, fragment: String) throws {
        let rule = try self.compiled(script)
        #expect {
            _ = try rule.run(MessageContext(topic: "/pk/d/user/a", payload: "{}"))
        } throws: { error in
            (error as? Diagnostic)?.message.contains(fragment) == true
        }
    }

    @Test("a script over 120 KB is rejected")
    func size() {
        let big = "// " + String(repeating: "x", count: ParserScriptLimits.maximumScriptBytes)
        let load = RuleFileLoader.load(text: Self.parser(big), path: "p.yaml")
        #expect(load.diagnostics.contains { $0.code == .limit && $0.message.contains("at most 120 KB") })
        #expect(throws: Diagnostic.self) {
            try RuleScriptEngine().compile(SourceText(big, file: "s.js"))
        }
    }

    @Test("lint finds write calls to destinations the file does not define")
    func lintReferences() throws {
        let load = RuleFileLoader.load(
            text: Self.parser("var d = payload('json');\nwriteAmqp(1001, d);\nwriteAmqp( 1011, d);"),
            path: "p.yaml"
        )
        guard case .parser(let definition)? = load.rule?.body else {
            Issue.record("expected a parser")
            return
        }
        let diagnostics = RuleLinter.destinationReferenceDiagnostics(definition)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.location.line == 7)
        #expect(diagnostics.first?.location.column == 14)
        #expect(diagnostics.first?.message.contains("did you mean 1001?") == true)
    }
}
