//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Testing

@Suite("Syntax errors point at the mistake")
struct DiagnosticTests {
    @Test(
        "error location, code and message",
        arguments: [
            ("SELEC a FROM \"/pk/+/u\"", 1, 1, Diagnostic.Code.syntax, "did you mean SELECT?"),
            ("SELECT devicename2() FROM \"/pk/+/u\"", 1, 8, .unknownFunction, "did you mean 'deviceName'?"),
            ("SELECT a FORM \"/pk/+/u\"", 1, 10, .syntax, "did you mean FROM?"),
            ("SELECT a FROM \"/pk/+/u\" WHER a > 1", 1, 25, .syntax, "did you mean WHERE?"),
            ("SELECT a FROM /pk/+/u", 1, 15, .syntax, "expected the topic in double quotes"),
            ("SELECT a FROM \"pk/+/u\"", 1, 15, .topic, "must start with '/'"),
            ("SELECT a FROM \"/pk/#/u\"", 1, 15, .topic, "'#' may only be the last level"),
            ("SELECT 'abc FROM \"/pk/+/u\"", 1, 8, .syntax, "unterminated string constant"),
            ("SELECT a,\n  b c d\nFROM \"/pk/+/u\"", 2, 7, .syntax, "expected ',' or FROM"),
            ("SELECT upper() FROM \"/pk/+/u\"", 1, 8, .arity, "takes 1 argument, got 0"),
            ("SELECT upper(*) FROM \"/pk/+/u\"", 1, 14, .syntax, "does not take '*'"),
            ("SELECT a FROM \"/pk/+/u\" WHERE a >", 1, 34, .syntax, "expected a field, a constant"),
            ("SELECT a FROM \"/pk/+/u\" WHERE a ! 1", 1, 33, .syntax, "unexpected '!'"),
            ("SELECT 2Co FROM \"/pk/+/u\"", 1, 8, .syntax, "put it in double quotes"),
            ("SELECT \"a[x]\" FROM \"/pk/+/u\"", 1, 8, .syntax, "is not a number"),
            ("SELECT a FROM \"/pk/+/u\" WHERE CASE a WHEN 1 'x' END", 1, 45, .syntax, "expected THEN"),
            ("SELECT a + FROM \"/pk/+/u\"", 1, 12, .syntax, "expected a field"),
            ("SELECT a FROM \"/pk/+/u\" WHERE a IN 1", 1, 36, .syntax, "'(' after IN"),
            ("SELECT a FROM \"/pk/+/u\" WHERE a > 1 && b < 2", 1, 37, .syntax, "write AND"),
            ("SELECT a FROM \"/pk/+/u\" WHERE a > 1 || b < 2", 1, 37, .syntax, "write OR"),
            ("SELECT a FROM \"/pk/+/u\";", 1, 24, .syntax, "without ';'"),
            ("SELECT a FROM \"/pk/+/u\" extra", 1, 25, .syntax, "expected WHERE or the end"),
        ]
    )
    func errors(sql: String, line: Int, column: Int, code: Diagnostic.Code, fragment: String) {
        #expect {
            try SQLRule(sql: sql, file: "rule.sql")
        } throws: { error in
            guard let diagnostic = error as? Diagnostic else { return false }
            let ok =
                diagnostic.location.line == line && diagnostic.location.column == column
                && diagnostic.code == code && diagnostic.message.contains(fragment)
            if !ok { Issue.record("got \(diagnostic)") }
            return ok
        }
    }

    @Test("the rendering has file:line:col, the message, the source line and a caret")
    func rendering() {
        do {
            _ = try SQLRule(sql: "SELECT a,\n  devicName() AS dn\nFROM \"/pk/+/u\"", file: "rules/x.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description == """
                    rules/x.yaml:2:3: error: unknown function 'devicName'; did you mean 'deviceName'?
                          devicName() AS dn
                          ^~~~~~~~~
                    """
            )
        }
    }

    @Test(
        "BINARY rule restrictions",
        arguments: [
            ("SELECT *, deviceName() FROM \"/pk/+/user/raw\"", "cannot be combined"),
            ("SELECT temperature FROM \"/pk/+/user/raw\"", "cannot read the payload field 'temperature'"),
            ("SELECT to_hex(*) AS h FROM \"/pk/+/user/raw\" WHERE a > 1", "cannot read the payload field 'a'"),
            ("SELECT to_hex(*) AS h FROM \"/sys/pk/+/thing/event/property/post\"", "basic-communication or TSL"),
            ("SELECT thingPropertyFlatMap() FROM \"/pk/+/user/raw\"", "needs a JSON payload"),
        ]
    )
    func binary(sql: String, fragment: String) {
        #expect {
            try SQLRule(sql: sql, dataType: .binary)
        } throws: { error in
            guard let diagnostic = error as? Diagnostic else { return false }
            return diagnostic.code == .binaryRule && diagnostic.message.contains(fragment)
        }
    }

    @Test("suggestions only for plausible typos")
    func suggestions() {
        #expect(Suggestion.closest(to: "tempreature", among: ["temperature", "humidity"]) == "temperature")
        #expect(Suggestion.closest(to: "xyz", among: ["temperature", "humidity"]) == nil)
        #expect(Suggestion.closest(to: "DEVICENAME", among: ["deviceName"]) == "deviceName")
    }

    @Test("the lexer reports line and column of tokens")
    func lexer() throws {
        var lexer = Lexer(SourceText("SELECT\n  a.b, 'x''y' -- comment\n  <> 1.5e2", file: "t"))
        let tokens = try lexer.tokenize()
        #expect(
            tokens.map(\.kind) == [
                .keyword(.select), .identifier("a"), .dot, .identifier("b"), .comma, .string("x'y"), .notEqual,
                .double(150), .endOfInput,
            ]
        )
        #expect(tokens[5].range.start == SourceLocation(line: 2, column: 8, offset: 14))
        #expect(tokens[6].range.start.line == 3)
    }
}
