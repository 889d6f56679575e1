//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Testing

@Suite("Statements")
struct StatementTests {
    /// Each script forwards with `writeAmqp(1, value)`; the expected list is the payloads in order.
    @Test(
        "declarations, control flow, comments and semicolons",
        arguments: [
            ("var a = 1; let b = 2; const c = 3; writeAmqp(1, a + b + c);", [6]),
            ("var a = 1, b, c = 3; writeAmqp(1, [a, b, c]);", [[1, nil, 3]]),
            ("var a; writeAmqp(1, a);", [nil]),
            ("var a = 1; var a = 2; writeAmqp(1, a);", [2]),
            ("if (true) writeAmqp(1, 'then'); else writeAmqp(1, 'else');", ["then"]),
            ("if (0) writeAmqp(1, 'then'); else writeAmqp(1, 'else');", ["else"]),
            ("if (0) { writeAmqp(1, 1) } else if ('') { writeAmqp(1, 2) } else { writeAmqp(1, 3) }", [3]),
            ("if (1) { if (0) writeAmqp(1, 'a'); else writeAmqp(1, 'b'); }", ["b"]),
            ("for (var i = 0; i < 3; i++) { writeAmqp(1, i); }", [0, 1, 2]),
            ("for (let i = 3; i > 0; i -= 1) writeAmqp(1, i);", [3, 2, 1]),
            ("var i = 0; for (; i < 2;) { writeAmqp(1, i); i++; }", [0, 1]),
            ("for (var i = 0; ; i++) { if (i == 2) break; writeAmqp(1, i); }", [0, 1]),
            ("for (var i = 0; i < 4; i++) { if (i % 2) continue; writeAmqp(1, i); }", [0, 2]),
            ("var i = 0; while (i < 3) { writeAmqp(1, i); i++; }", [0, 1, 2]),
            ("var i = 0; while (true) { if (++i > 2) break; writeAmqp(1, i); }", [1, 2]),
            ("var i = 5; do { writeAmqp(1, i); } while (i < 3);", [5]),
            ("var i = 0; do { i++; if (i == 2) continue; writeAmqp(1, i); } while (i < 3)", [1, 3]),
            ("for (var k in {a: 1, b: 2}) writeAmqp(1, k);", ["a", "b"]),
            ("var o = {a: 1, b: 2}; for (let k in o) { writeAmqp(1, o[k]); }", [1, 2]),
            ("var k; for (k in [7, 8]) writeAmqp(1, k);", ["0", "1"]),
            ("var a = [7, 8]; for (var k in a) writeAmqp(1, a[k]);", [7, 8]),
            (
                "for (var i = 0; i < 2; i++) for (var j = 0; j < 2; j++) { if (j) break; writeAmqp(1, [i, j]); }",
                [[0, 0], [1, 0]]
            ),
            ("writeAmqp(1, 1); return; writeAmqp(1, 2);", [1]),
            ("for (var i = 0; i < 5; i++) { if (i == 1) return writeAmqp(1, 'r'); }", ["r"]),
            ("if (true) { var inner = 'v'; } writeAmqp(1, inner);", ["v"]),
            ("let a = 1; { let a = 2; writeAmqp(1, a); } writeAmqp(1, a);", [2, 1]),
            ("const o = {n: 1}; o.n = 2; writeAmqp(1, o);", [["n": 2]]),
            ("var a = 1\nvar b = 2\nwriteAmqp(1, a + b)\n", [3]),
            ("var a = 1\na\n++\na\nwriteAmqp(1, a)", [2]),
            ("var a = 1 /* a block\ncomment */ + 1 // a line comment\nwriteAmqp(1, a);", [2]),
            (";;; { } writeAmqp(1, 'empty statements');", ["empty statements"]),
            ("var a = {\n  x: 1,\n  y: [\n    2\n  ]\n}\nwriteAmqp(1, a)", [["x": 1, "y": [2]]]),
            ("var x = 1\nvar y = x\n+ 1\nwriteAmqp(1, y)", [2]),
            ("\u{FEFF}writeAmqp(1, 'bom')", ["bom"]),
        ] as [(String, [JSONValue])]
    )
    func statements(script: String, expected: [JSONValue]) throws {
        let calls = try ScriptTestSupport.run(script)
        #expect(calls.map(\.payload) == expected, "\(script)")
    }
}
