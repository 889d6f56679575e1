//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Testing

@Suite("WHERE and SELECT expressions")
struct EvaluatorTests {
    static let payload = #"{"a":5,"b":2,"d":2.5,"s":"abc","n":null,"t":true,"num":"39","list":[1,2,3]}"#

    func value(_ expression: String) throws -> String? {
        let rule = try SQLRule(sql: "SELECT \(expression) AS v FROM \"/pk/+/user/u\"")
        let result = try rule.evaluate(MessageContext(topic: "/pk/d/user/u", payload: Self.payload))
        guard case .matched(.json(let object)) = result else { return nil }
        return object["v"]?.jsonString() ?? "missing"
    }

    @Test(
        "operators and precedence",
        arguments: [
            ("a + b * 2", "9"),
            ("(a + b) * 2", "14"),
            ("a - b - 1", "2"),
            ("a / b", "2.5"),
            ("6 / 3", "2"),
            ("a % b", "1"),
            ("d * 2", "5.0"),
            ("a / 0", "null"),
            ("-a", "-5"),
            ("- d", "-2.5"),
            ("a > 4 AND b < 3", "true"),
            ("a > 4 AND NOT b < 3", "false"),
            ("a < 4 OR b = 2", "true"),
            ("NOT a = 5 OR b = 2 AND a = 6", "false"),
            ("a <> 5", "false"),
            ("a != 4", "true"),
            ("a >= 5", "true"),
            ("a <= 4.5", "false"),
            ("s = 'abc'", "true"),
            ("s > 'abb'", "true"),
            ("num > 38", "true"),
            ("n = null", "false"),
            ("missing = 1", "false"),
            ("t = true", "true"),
            ("a IN (1, 5)", "true"),
            ("a NOT IN (1, 5)", "false"),
            ("s LIKE 'a%'", "true"),
            ("s LIKE '%c'", "true"),
            ("s LIKE '%b%'", "true"),
            ("s LIKE 'b%'", "false"),
            ("s NOT LIKE 'x%'", "true"),
            ("s LIKE 'abc'", "true"),
            ("CASE WHEN a > 3 THEN 'big' ELSE 'small' END", #""big""#),
            ("CASE b WHEN 1 THEN 'one' END", "null"),
            ("\"list[2]\"", "3"),
            ("missing", "missing"),
            ("9223372036854775807 + 1", "9.223372036854776e+18"),
            ("1.5e3", "1500.0"),
        ]
    )
    func evaluates(expression: String, expected: String) throws {
        #expect(try self.value(expression) == expected)
    }

    @Test("an unaliased expression is keyed by its source text; a path by its last key")
    func keys() throws {
        let rule = try SQLRule(sql: #"SELECT a + b, items.x.value, upper(s) FROM "/pk/+/user/u""#)
        let result = try rule.evaluate(
            MessageContext(topic: "/pk/d/user/u", payload: #"{"a":1,"b":2,"s":"q","items":{"x":{"value":3}}}"#)
        )
        #expect(result == .matched(.json(["a + b": 3, "value": 3, "upper(s)": "Q"])))
    }

    @Test("a topic that does not match is skipped")
    func topicMismatch() throws {
        let rule = try SQLRule(sql: #"SELECT a FROM "/pk/+/user/u""#)
        #expect(try rule.evaluate(MessageContext(topic: "/other/d/user/u", payload: "{}")) == .skipped(.topicMismatch))
    }

    @Test("a pre-parsed payload is used instead of the bytes")
    func preParsed() throws {
        let rule = try SQLRule(sql: #"SELECT a FROM "/pk/+/user/u""#)
        var context = MessageContext(topic: "/pk/d/user/u", payload: "not json")
        context.json = ["a": 1]
        #expect(try rule.evaluate(context) == .matched(.json(["a": 1])))
    }

    @Test("a double-quoted constant is reported as a field with a hint")
    func doubleQuotedConstant() throws {
        let rule = try SQLRule(sql: #"SELECT a FROM "/pk/+/user/u" WHERE deviceName() = "dev1""#)
        let context = MessageContext(topic: "/pk/dev1/user/u", payload: #"{"a":1}"#)
        #expect(try rule.evaluate(context) == .filtered)
        let warnings = rule.missingFieldWarnings(for: context)
        #expect(warnings.first?.message.contains("for the text dev1 write 'dev1'") == true)
    }

    @Test(
        "fields the platform's payload for the FROM topic lacks are warned about",
        arguments: [
            (#"SELECT itmes.T.value FROM "/sys/pk/+/thing/event/property/post""#, "did you mean 'items'?"),
            (#"SELECT stauts FROM "/as/mqtt/status/pk/+""#, "did you mean 'status'?"),
            (#"SELECT acton FROM "/pk/+/thing/lifecycle""#, "did you mean 'action'?"),
            (#"SELECT valeu FROM "/pk/+/thing/event/alarm/post""#, "did you mean 'value'?"),
            (#"SELECT srcVersoin FROM "/pk/+/ota/upgrade""#, "did you mean 'srcVersion'?"),
        ]
    )
    func platformFields(sql: String, fragment: String) throws {
        let warnings = try SQLRule(sql: sql).platformFieldWarnings()
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains(fragment) == true, "\(warnings)")
    }

    @Test("custom topics and known fields give no platform warnings")
    func platformFieldsQuiet() throws {
        #expect(try SQLRule(sql: #"SELECT anything FROM "/pk/+/user/update""#).platformFieldWarnings().isEmpty)
        #expect(
            try SQLRule(sql: #"SELECT items.T.value, deviceName FROM "/sys/pk/+/thing/event/property/post""#)
                .platformFieldWarnings().isEmpty
        )
    }

    @Test("missing fields are reported with the closest existing path")
    func missingFields() throws {
        let rule = try SQLRule(
            sql: #"SELECT items.Temprature.value AS t FROM "/pk/+/user/u" WHERE items.Temprature.value > 38"#
        )
        let context = MessageContext(topic: "/pk/d/user/u", payload: #"{"items":{"Temperature":{"value":39}}}"#)
        let warnings = rule.missingFieldWarnings(for: context)
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("did you mean 'items.Temperature.value'?") == true)
        #expect(warnings.first?.severity == .warning)
    }
}
