//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL
import RuleScript
import Testing

@Suite("Expressions")
struct ExpressionTests {
    @Test(
        "literals, access, operators",
        arguments: [
            // Literals.
            ("42", 42),
            ("-7", -7),
            ("2.5", 2.5),
            ("1e3", 1000.0),
            (".5", 0.5),
            ("0x1F", 31),
            ("'single'", "single"),
            (#""double""#, "double"),
            (#"'it\'s'"#, "it's"),
            (#""a\tb\nc\\d\"e""#, "a\tb\nc\\d\"e"),
            (#""\u00e9\x41\u{1F600}""#, "éA😀"),
            (#""\ud83d\ude00""#, "😀"),
            ("true", true),
            ("false", false),
            ("null", .null),
            ("undefined", .null),
            ("{a: 1, 'b': 2, \"c\": [3], 4: null}", ["a": 1, "b": 2, "c": [3], "4": nil]),
            ("{}", [:]),
            ("[1, 'two', [3], {x: 4},]", [1, "two", [3], ["x": 4]]),
            ("[]", []),
            ("{t: data.items.CurrentTemperature.value}", ["t": 23.5]),
            // Member and index access.
            ("data.name", "sensor"),
            ("data['name']", "sensor"),
            ("data.items['2Co'].value", 5),
            ("data.list[1]", 2),
            ("data.list['2']", 3),
            ("data.list[7]", .null),
            ("data.list.length", 3),
            ("data.name.length", 6),
            ("data.name[0]", "s"),
            ("data.missing", .null),
            ("data.items.CurrentHumidity", ["value": 70, "time": 1_564_569_974_229]),
            // Arithmetic.
            ("1 + 2 * 3", 7),
            ("(1 + 2) * 3", 9),
            ("7 / 2", 3.5),
            ("8 / 2", 4),
            ("7 % 3", 1),
            ("-7 % 3", -1),
            ("5.5 % 2", 1.5),
            ("10 - 2 - 3", 5),
            ("2 * 3.5", 7.0),
            ("1 / 0 > 1e308", true),
            ("-data.list[0]", -1),
            ("+'3'", 3),
            ("'3' * '4'", 12),
            ("9223372036854775807 + 1 > 0", true),
            ("null + 1", 1),
            ("true + 1", 2),
            // Strings.
            ("'a' + 1", "a1"),
            ("1 + 2 + 'a'", "3a"),
            ("'a' + 1 + 2", "a12"),
            ("'t=' + 39.0", "t=39"),
            ("'t=' + 23.5", "t=23.5"),
            ("'v' + null", "vnull"),
            ("'v' + true", "vtrue"),
            ("'o' + {a: 1}", #"o{"a":1}"#),
            // Comparison.
            ("1 == 1.0", true),
            ("'1' == 1", true),
            ("'1' === 1", false),
            ("1 === 1.0", true),
            ("null == 0", false),
            ("null == undefined", true),
            ("true == 1", true),
            ("1 != 2", true),
            ("'a' !== 'a'", false),
            ("{a: [1]} == {a: [1]}", true),
            ("2 < 10", true),
            ("'2' < '10'", false),
            ("'2' < 10", true),
            ("'abc' < 'abd'", true),
            ("3 <= 3", true),
            ("4 >= 5", false),
            ("5 > 4.5", true),
            ("'x' > 1", false),
            ("null < 1", true),
            // Logic, short-circuit and the ternary.
            ("true && 'yes'", "yes"),
            ("0 && x()", 0),
            ("'' || 'fallback'", "fallback"),
            ("'first' || x()", "first"),
            ("!0", true),
            ("!!'a'", true),
            ("![]", false),
            ("1 > 2 ? 'big' : 'small'", "small"),
            ("true ? false ? 1 : 2 : 3", 2),
            ("1 < 2 && 2 < 3 || false", true),
            ("typeof 1", "number"),
            ("typeof 'a'", "string"),
            ("typeof true", "boolean"),
            ("typeof null", "object"),
            ("typeof data", "object"),
        ] as [(String, JSONValue)]
    )
    func value(expression: String, expected: JSONValue) throws {
        let prelude = "var x = 0;"
        let script = expression.contains("x()") ? expression.replacingOccurrences(of: "x()", with: "y.z") : expression
        let value = try ScriptTestSupport.value(script, prelude: prelude + " var y = null;")
        #expect(value == expected, "\(expression)")
    }

    @Test(
        "assignment, compound assignment, ++ and --",
        arguments: [
            ("var a = 1; a = 2;", "a", 2),
            ("var a = 1; a += 2;", "a", 3),
            ("var a = 'x'; a += 2;", "a", "x2"),
            ("var a = 10; a -= 4;", "a", 6),
            ("var a = 3; a *= 4;", "a", 12),
            ("var a = 9; a /= 2;", "a", 4.5),
            ("var a = 9; a %= 4;", "a", 1),
            ("var a = 1; var b = a++;", "[a, b]", [2, 1]),
            ("var a = 1; var b = ++a;", "[a, b]", [2, 2]),
            ("var a = 1; var b = a--;", "[a, b]", [0, 1]),
            ("var a = 1; var b = --a;", "[a, b]", [0, 0]),
            ("var a = '5'; a++;", "a", 6),
            ("var a, b; a = b = 3;", "[a, b]", [3, 3]),
            ("var o = {}; o.x = 1; o['y'] = 2;", "o", ["x": 1, "y": 2]),
            ("var o = {x: {y: 1}}; o.x.y += 41;", "o", ["x": ["y": 42]]),
            ("var o = {n: 1}; o.n++;", "o", ["n": 2]),
            ("var o = {a: 1, b: 2}; o.a = 3;", "o", ["a": 3, "b": 2]),
            ("var a = [1, 2]; a[2] = 3; a[0] = 0;", "a", [0, 2, 3]),
            ("var a = []; a[2] = 'x';", "a", [nil, nil, "x"]),
            ("var a = [{v: 1}]; a[0].v = 2;", "a", [["v": 2]]),
            ("var a = [[1]]; var i = 0; a[i][i + 1] = 5;", "a", [[1, 5]]),
            ("var o = {}; var k = 'key'; o[k] = k;", "o", ["key": "key"]),
            ("var a = {x: 1}; var b = a; b.x = 2;", "[a.x, b.x]", [1, 2]),
            ("var d = payload('json'); d.name = 'renamed';", "d.name", "renamed"),
        ] as [(String, String, JSONValue)]
    )
    func assignment(prelude: String, expression: String, expected: JSONValue) throws {
        #expect(try ScriptTestSupport.value(expression, prelude: prelude) == expected, "\(prelude)")
    }
}
