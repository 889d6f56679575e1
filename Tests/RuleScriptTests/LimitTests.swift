//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Testing

@Suite("Limits")
struct LimitTests {
    @Test("a script is at most 120 KB")
    func scriptSize() throws {
        let line = "var a = 1; // padding padding padding padding padding padding padding padding padding\n"
        let fits = String(repeating: line, count: ParserScriptLimits.maximumScriptBytes / line.utf8.count)
        #expect(try RuleScript.compile(fits, file: "big.js").variableCount == 1)
        let diagnostic = ScriptTestSupport.diagnostic(fits + line)
        #expect(diagnostic?.code == .limit)
        #expect(diagnostic?.location.description == "1:1")
        #expect(diagnostic?.message.contains("at most 122880 bytes (120 KB)") == true)
    }

    @Test("at most 100 forwarding calls per run, the 101st names its line")
    func forwardingCalls() throws {
        #expect(try ScriptTestSupport.run("for (var i = 0; i < 100; i++) writeAmqp(i, i);").count == 100)
        let diagnostic = ScriptTestSupport.diagnostic("var i = 0;\nwhile (true) {\n  writeMq(1, i++);\n}")
        #expect(diagnostic?.code == .limit)
        #expect(diagnostic?.location.description == "3:3")
        #expect(diagnostic?.message == "more than 100 forwarding calls in one run (the platform's limit)")
    }

    @Test(
        "a runaway loop spends the step budget and the error names the loop's line",
        arguments: [
            ("var x = 1;\nwhile (true) {\n  x++;\n}", "2:1"),
            ("var x = 1;\nwhile (x) { }", "2:1"),
            ("for (;;) {}", "1:1"),
            ("  do {} while (true)", "1:3"),
            ("for (var i = 0; i < 10; i++) {\n  for (var j = 0; j >= 0; j++) {}\n}", "2:3"),
            ("while (true) { for (var i = 0; i < 2; i++) {} }", "1:1"),
        ]
    )
    func stepBudget(script: String, location: String) {
        let diagnostic = ScriptTestSupport.diagnostic(script, limits: RuleScriptLimits(stepBudget: 10_000))
        #expect(diagnostic?.code == .limit, "\(script)")
        #expect(diagnostic?.location.description == location, "\(script)")
        let line = location.split(separator: ":")[0]
        #expect(
            diagnostic?.message
                == "the script ran more than 10000 steps, its budget for one message; the loop at line \(line) "
                + "does not end",
            "\(script)"
        )
    }

    @Test("the default budget is 1,000,000 steps and allows long finite loops")
    func defaultBudget() throws {
        #expect(RuleScriptLimits().stepBudget == 1_000_000)
        let calls = try ScriptTestSupport.run(
            "var s = 0; for (var i = 0; i < 300000; i++) { s += i; } writeAmqp(1, s);"
        )
        #expect(calls.map(\.payload) == [44_999_850_000])
        let diagnostic = ScriptTestSupport.diagnostic("var x = 0;\nwhile (true) x++;")
        #expect(diagnostic?.location.description == "2:1")
    }

    @Test("nesting deeper than the limit is refused at compile time, not by a stack overflow")
    func nesting() throws {
        let deepParentheses =
            "var a = " + String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000)
        #expect(ScriptTestSupport.diagnostic(deepParentheses)?.code == .limit)
        let deepBlocks = String(repeating: "{", count: 5_000) + String(repeating: "}", count: 5_000)
        #expect(ScriptTestSupport.diagnostic(deepBlocks)?.code == .limit)
        let longChain = "var a = 1" + String(repeating: " + 1", count: 20_000) + ";"
        #expect(ScriptTestSupport.diagnostic(longChain)?.code == .limit)
        let deepNot = "var a = " + String(repeating: "!", count: 5_000) + "1;"
        #expect(ScriptTestSupport.diagnostic(deepNot)?.code == .limit)
        let deepMembers = "var a = {}; var b = a" + String(repeating: ".x", count: 5_000) + ";"
        #expect(ScriptTestSupport.diagnostic(deepMembers)?.code == .limit)
        // Within the limit, nesting works.
        let fine =
            "var a = " + String(repeating: "(", count: 30) + "1" + String(repeating: ")", count: 30) + ";"
            + "writeAmqp(1, a)"
        #expect(try ScriptTestSupport.run(fine).map(\.payload) == [1])
    }

    @Test("a long flat operator chain is not nesting: a 200-term CSV line parses and runs; the chain has its own limit")
    func flatChains() throws {
        let fields = (0..<100).map { "d.f\($0)" }
        let csv =
            "var d = {" + (0..<100).map { "f\($0): \($0)" }.joined(separator: ", ") + "};\n"
            + "var line = " + fields.joined(separator: " + \",\" + ") + ";\nwriteAmqp(1, line);"
        let calls = try ScriptTestSupport.run(csv)
        #expect(calls.map(\.payload) == [.string((0..<100).map(String.init).joined(separator: ","))])
        // The longest chain the limit allows also evaluates: the interpreter's recursion over it fits the stack.
        let longest =
            "var a = 1" + String(repeating: " + 1", count: RuleScriptLimits().maximumChainTerms - 1)
            + "; writeAmqp(1, a);"
        #expect(try ScriptTestSupport.run(longest).map(\.payload) == [.int(RuleScriptLimits().maximumChainTerms)])
        let tooLong = "var a = 1" + String(repeating: " + 1", count: RuleScriptLimits().maximumChainTerms) + ";"
        let diagnostic = ScriptTestSupport.diagnostic(tooLong)
        #expect(diagnostic?.code == .limit)
        #expect(diagnostic?.message.contains("terms") == true)
        // Real nesting still counts: parentheses one past the limit are refused.
        let limit = RuleScriptLimits().maximumNesting
        let nested = "var a = " + String(repeating: "(", count: limit) + "1" + String(repeating: ")", count: limit) + ";"
        #expect(ScriptTestSupport.diagnostic(nested)?.code == .limit)
    }

    @Test(
        "values composed from others stay within the value limits, so nothing too large to forward is built",
        arguments: [
            "var a = [1]; for (;;) a = [a, a];",
            "var o = {s: 'xxxxxxxxxxxxxxxx'}; while (true) o = {l: o, r: o};",
            "var o = {}; while (true) o.x = o;",
            "var a = []; for (var i = 0; i < 1000; i++) a = [a];",
        ]
    )
    func composedValues(script: String) {
        let diagnostic = ScriptTestSupport.diagnostic(script, limits: RuleScriptLimits(maximumValueBytes: 64 * 1024))
        #expect(diagnostic?.code == .limit, "\(script): \(String(describing: diagnostic))")
        #expect(diagnostic?.message.contains("larger than 65536 bytes or nested deeper than 512 levels") == true)
    }

    @Test("a forwarded payload, and an object spelt as text, stay within the limits")
    func largeShared() {
        let limits = RuleScriptLimits(maximumStringBytes: 64 * 1024, maximumValueBytes: 64 * 1024)
        // One 1 KB string shared by 100 keys: cheap to hold, 100 KB to forward.
        let build =
            "var s = 'x'; while (s.length < 1024) s += s; var o = {}; for (var i = 0; i < 100; i++) o['k' + i] = s;"
        let forward = ScriptTestSupport.diagnostic(build + "\nwriteAmqp(1, o);", limits: limits)
        #expect(forward?.code == .limit)
        #expect(forward?.location.description == "2:14")
        #expect(forward?.message == "the payload of writeAmqp() is larger than 65536 bytes")
        let text = ScriptTestSupport.diagnostic(build + "\nvar t = '' + o;", limits: limits)
        #expect(text?.message == "string longer than 65536 bytes")
        let converted = ScriptTestSupport.diagnostic(build + "\nvar t = toString(o);", limits: limits)
        #expect(converted?.message == "toString(): string longer than 65536 bytes")
        let ruleFunction = ScriptTestSupport.diagnostic(build + "\nvar t = upper(o);", limits: limits)
        #expect(ruleFunction?.message == "upper(): string longer than 65536 bytes")
    }

    @Test("arrays and objects grow only up to the collection limit")
    func collections() {
        let limits = RuleScriptLimits(maximumCollectionCount: 10)
        #expect(ScriptTestSupport.diagnostic("var a = []; a[10] = 1;", limits: limits)?.code == .type)
        #expect(
            ScriptTestSupport.diagnostic("var o = {}; for (var i = 0; i < 20; i++) o['k' + i] = i;", limits: limits)?
                .code == .limit
        )
    }
}
