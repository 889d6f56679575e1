//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Testing

@Suite("Errors point at the mistake")
struct DiagnosticTests {
    @Test(
        "syntax, naming and compile-time type errors",
        arguments: [
            ("var a = ;", "1:9", Diagnostic.Code.syntax, "expected an expression, found ';'"),
            ("var a = 1;\nvar b = a +;\n", "2:12", .syntax, "expected an expression, found ';'"),
            ("var 1a = 2", "1:5", .syntax, "a name cannot start with a digit"),
            ("var d = {}; d.2Co = 1", "1:14", .syntax, "a name cannot start with a digit"),
            ("writeamqp(1, 2)", "1:1", .unknownFunction, "unknown function 'writeamqp'; did you mean 'writeAmqp'?"),
            ("var t = devicename();", "1:9", .unknownFunction, "did you mean 'deviceName'?"),
            (
                "var temp = 1; writeAmqp(1, tmp);", "1:28", .unknownVariable,
                "unknown variable 'tmp'; did you mean 'temp'?"
            ),
            ("writeAmqp(1, late); var late = 1;", "1:14", .unknownVariable, "unknown variable 'late'"),
            ("var p = payload;", "1:9", .unknownVariable, "'payload' is a function; call it"),
            ("var f = 1; f(2);", "1:12", .unknownFunction, "'f' is a variable, not a function"),
            ("const c = 1; c = 2;", "1:14", .type, "cannot assign to 'c': it is a constant"),
            ("const c = 1;\nc++;", "2:1", .type, "cannot assign to 'c'"),
            ("const c = 1; for (c in {}) {}", "1:19", .type, "cannot assign to 'c'"),
            ("const c;", "1:7", .syntax, "const 'c' needs a value"),
            ("let a = 1; let a = 2;", "1:16", .syntax, "'a' is already declared (with let)"),
            ("let a = 1; var a = 2;", "1:16", .syntax, "'a' is already declared (with let)"),
            ("var if = 1;", "1:5", .syntax, "'if' is a reserved word"),
            ("break;", "1:1", .syntax, "'break' outside a loop"),
            ("if (1) { continue; }", "1:10", .syntax, "'continue' outside a loop"),
            ("var s = 'abc", "1:9", .syntax, "unterminated string"),
            ("var s = \"abc\nd\"", "1:9", .syntax, "unterminated string"),
            ("var s = '\\u12'", "1:10", .syntax, "expected 4 hexadecimal digits"),
            ("var a = 1; /* never closed", "1:12", .syntax, "unterminated comment"),
            ("if (true { }", "1:10", .syntax, "expected ')' to close the condition of 'if'"),
            ("var a = 1 var b = 2", "1:11", .syntax, "expected ';' or a line break after the statement"),
            ("{ var a = 1;", "1:1", .syntax, "expected '}' to close the '{' at line 1"),
            ("var a = [1, 2", "1:9", .syntax, "expected ']' to close"),
            ("var a = {x: 1", "1:9", .syntax, "expected '}' to close the object"),
            ("var a = {x 1}", "1:12", .syntax, "expected ':' after the key 'x'"),
            ("var a = (1 + 2;", "1:15", .syntax, "expected ')' to close the '(' at 1:9"),
            ("var a = 1 ? 2;", "1:14", .syntax, "expected ':' between the branches"),
            ("for (var i = 0; i < 3) {}", "1:22", .syntax, "expected ';' after the condition of 'for'"),
            ("for (var i = 0, i < 3; i++) {}", "1:19", .syntax, "expected ';' after the initializer of 'for'"),
            ("do { } until (1)", "1:8", .syntax, "expected 'while (…)' after the body of 'do'"),
            ("else { }", "1:1", .syntax, "'else' without an 'if'"),
            (
                "writeAmqp(1)", "1:1", .arity,
                "writeAmqp() takes 2 to 3 arguments, got 1; usage: writeAmqp(destinationId, payload, tag)"
            ),
            ("writeIotTopic(1, {})", "1:1", .arity, "takes 3 arguments, got 2"),
            ("var x = upper();", "1:9", .arity, "upper() takes 1 argument, got 0"),
            ("var x = getOrNull();", "1:9", .arity, "takes at least 1 argument, got 0"),
            ("writeAmqp('x', {})", "1:11", .type, "the destination ID of writeAmqp() must be a whole number"),
            ("writeAmqp(1.5, {})", "1:11", .type, "must be a whole number"),
            ("function f() {}", "1:1", .syntax, "function declarations are not supported"),
            ("var f = function () {};", "1:9", .syntax, "functions are not supported"),
            ("switch (a) {}", "1:1", .syntax, "'switch' is not supported in parser scripts; use if / else if"),
            ("try { } catch (e) { }", "1:1", .syntax, "'try' is not supported"),
            ("var o = new Object();", "1:9", .syntax, "'new' is not supported"),
            ("var d = {}; d.push(1);", "1:15", .unknownFunction, "unknown method '.push()'"),
            ("1 = 2;", "1:1", .syntax, "cannot assign to this expression"),
            ("var a = 1; a + 1 = 2;", "1:12", .syntax, "cannot assign to this expression"),
            ("var a = 1 & 2;", "1:11", .syntax, "bitwise operators are not supported"),
            ("var a = `x`;", "1:9", .syntax, "template strings are not supported"),
            ("var a = “x”;", "1:9", .syntax, "typographic quote"),
            ("var a = 1 +\n", "2:1", .syntax, "found the end of the script"),
            ("var a = (1)(2);", "1:12", .syntax, "only built-in functions can be called"),
            ("var x = 0x;", "1:9", .syntax, "expected hexadecimal digits"),
            ("var x = 1e+;", "1:9", .syntax, "expected digits in the exponent"),
        ] as [(String, String, Diagnostic.Code, String)]
    )
    func compileErrors(script: String, location: String, code: Diagnostic.Code, fragment: String) {
        let diagnostic = ScriptTestSupport.diagnostic(script)
        #expect(diagnostic?.location.description == location, "\(script): \(String(describing: diagnostic))")
        #expect(diagnostic?.code == code, "\(script): \(String(describing: diagnostic))")
        #expect(diagnostic?.message.contains(fragment) == true, "\(script): \(String(describing: diagnostic))")
        #expect(diagnostic?.file == "test.js")
    }

    @Test(
        "runtime errors",
        arguments: [
            (
                "var d = payload('json'); var v = d.nothing.value;", "1:36", Diagnostic.Code.unknownField,
                "no field 'nothing' here"
            ),
            (
                "var d = payload('json'); var v = d.item.CurrentTemperature;", "1:36", .unknownField,
                "no field 'item' here, so reading 'CurrentTemperature' of it fails; did you mean 'items'?"
            ),
            ("var d = payload('json'); var v = d['itemz']['x'];", "1:36", .unknownField, "did you mean 'items'?"),
            ("var n = null; var v = n.x;", "1:25", .type, "cannot read 'x' of null"),
            ("var n = null; var v = n[0];", "1:25", .type, "cannot read [0] of null"),
            ("var v = {} - 1;", "1:12", .type, "'-' needs numbers, got object and integer"),
            ("var v = [1] * 2;", "1:13", .type, "'*' needs numbers"),
            ("var v = {} < 1;", "1:12", .type, "cannot compare object with integer using '<'"),
            ("var v = -{};", "1:9", .type, "unary '-' needs a number"),
            ("var o = {}; o++;", "1:14", .type, "'++' needs a number, got object"),
            ("var x = null; x.a = 1;", "1:17", .type, "cannot set a field of null"),
            ("var x = 'text'; x.a = 1;", "1:19", .type, "cannot set a field of a string"),
            ("var x = [1]; x.a = 1;", "1:16", .type, "cannot set field 'a' of an array"),
            ("var x = [1]; x[-1] = 1;", "1:16", .type, "array index -1 is out of range"),
            ("var x = {}; x[null] = 1;", "1:15", .type, "the index is null"),
            ("var x = {}; x.a.b = 1;", "1:17", .type, "cannot set a field of null"),
            ("var v = toNumber('abc');", "1:18", .type, "toNumber(): cannot convert the string \"abc\" to a number"),
            ("var v = toMap('[1]');", "1:15", .type, "is not a JSON object"),
            ("var v = toArray(5);", "1:17", .type, "cannot convert integer to an array"),
            ("var v = toNumber({});", "1:18", .type, "cannot convert object to a number"),
            ("var v = payload('jsn');", "1:17", .type, "unknown format 'jsn'; did you mean 'json'?"),
            ("var v = payload(1);", "1:17", .type, "payload(format) takes a string"),
            ("var v = format_date(1, 'yyyy', 'Mars/Base');", "1:32", .runtime, "unknown time zone 'Mars/Base'"),
            ("var v = format_date('x', 'yyyy');", "1:21", .type, "the timestamp must be epoch milliseconds"),
            ("var v = format_date(1, 'qq');", "1:24", .runtime, "format_date():"),
            ("var v = to_timestamp('2018/11/28', 'yyyy-MM-dd');", "1:22", .runtime, "does not match the pattern"),
            ("var v = to_timestamp('2018-13-28', 'yyyy-MM-dd');", "1:22", .runtime, "out of range"),
            ("var v = to_timestamp(1, 'yyyy');", "1:22", .type, "the date must be a string"),
            // Found by the fuzzer: a ten-digit year overflowed the date arithmetic.
            ("var v = to_timestamp('9999999999-01-01', 'yyyy-MM-dd');", "1:22", .runtime, "out of range"),
            ("var v = format_date(9223372036854775807, 'yyyy');", "1:21", .runtime, "outside the years 1 to 9999"),
            ("var v = upper({});", "1:9", .type, "argument 1 of upper() must be a string"),
            ("var v = topic(0);", "1:9", .runtime, "topic(n) takes a level number from 1"),
            ("var v = crypto('a', 'SHA3');", "1:9", .type, "crypto"),
            ("writeIotTopic(1, 'no-slash', {});", "1:18", .type, "must be a string starting with '/'"),
            ("writeAmqp(1, {}, {});", "1:18", .type, "the tag of writeAmqp() must be a string"),
            ("var id = 'x'; writeAmqp(id, {});", "1:25", .type, "the destination ID of writeAmqp() must be a whole"),
            ("var s = 'ab'; while (true) s += s;", "1:30", .type, "string longer than 1048576 bytes"),
        ] as [(String, String, Diagnostic.Code, String)]
    )
    func runtimeErrors(script: String, location: String, code: Diagnostic.Code, fragment: String) {
        let diagnostic = ScriptTestSupport.diagnostic(script)
        #expect(diagnostic?.location.description == location, "\(script): \(String(describing: diagnostic))")
        #expect(diagnostic?.code == code, "\(script): \(String(describing: diagnostic))")
        #expect(diagnostic?.message.contains(fragment) == true, "\(script): \(String(describing: diagnostic))")
    }

    @Test("a payload that is not JSON fails payload('json') at the call")
    func notJSON() {
        let diagnostic = ScriptTestSupport.diagnostic("var x = 1;\nvar d = payload('json');", payload: "temp=39")
        #expect(diagnostic?.code == .input)
        #expect(diagnostic?.location.description == "2:9")
        #expect(diagnostic?.message.hasPrefix("payload('json'): the payload is not JSON") == true)
    }

    @Test("the rendering has file:line:col, the message, the source line and a caret under the mistake")
    func rendering() {
        let diagnostic = ScriptTestSupport.diagnostic(
            """
            var data = payload('json');
            var t = data.items.CurrentTemprature.value;
            """
        )
        #expect(
            diagnostic?.description == """
                test.js:2:20: error: no field 'CurrentTemprature' here, so reading 'value' of it fails; did you mean \
                'CurrentTemperature'? (getOrNull(…) reads fields that may be missing)
                    var t = data.items.CurrentTemprature.value;
                                       ^~~~~~~~~~~~~~~~~
                """
        )
    }
}
