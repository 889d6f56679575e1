//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Testing

/// The platform's documented parser-script functions (docs/parser-script-reference.md), each with its
/// documented result, and the choices README lists where the documentation is silent.
@Suite("Parser-script functions as the platform documents them")
struct DocumentedFunctionsTests {
    // MARK: - Conversions (function list, "type conversion")

    @Test(
        "toBoolean, toNumber, toString, toMap, toArray, toBinary give the documented results",
        arguments: [
            // toBoolean: Boolean → itself; Number → false for 0; String → true only for "true"; null → false.
            ("toBoolean(true)", true),
            ("toBoolean(false)", false),
            ("toBoolean(0)", false),
            ("toBoolean(0.0)", false),
            ("toBoolean(-3)", true),
            ("toBoolean(2.5)", true),
            ("toBoolean('true')", true),
            ("toBoolean('false')", false),
            ("toBoolean('1')", false),
            ("toBoolean('yes')", false),
            ("toBoolean('')", false),
            ("toBoolean(' true')", false),
            ("toBoolean(null)", false),
            // Undocumented case: the JVM's Boolean.parseBoolean ignores it (README).
            ("toBoolean('TRUE')", true),
            // toNumber: Boolean → 1/0; Number → itself; String → parsed; null → 0.
            ("toNumber(true)", 1),
            ("toNumber(false)", 0),
            ("toNumber(12.5)", 12.5),
            ("toNumber('42')", 42),
            ("toNumber('-2.5')", -2.5),
            ("toNumber(null)", 0),
            // toString: any value as text; null → ""; binary decoded as UTF-8.
            ("toString(42)", "42"),
            ("toString(true)", "true"),
            ("toString(null)", ""),
            ("toString(toBinary('温度'))", "温度"),
            // toMap / toArray: itself; a string parsed as JSON; null → empty.
            ("toMap({a: 1})", ["a": 1]),
            ("toMap('{\"a\":1}')", ["a": 1]),
            ("toMap(null)", [:]),
            ("toArray([1, 2])", [1, 2]),
            ("toArray('[1,\"x\"]')", [1, "x"]),
            ("toArray(null)", []),
            // toBinary: itself; a string's UTF-8 bytes; null → empty.
            ("toBinary('hi')", .binary([0x68, 0x69])),
            ("toBinary(toBinary('hi'))", .binary([0x68, 0x69])),
            ("toBinary(null)", .binary([])),
        ] as [(String, JSONValue)]
    )
    func conversion(expression: String, expected: JSONValue) throws {
        #expect(try ScriptTestSupport.value(expression) == expected, "\(expression)")
    }

    // MARK: - Basic data types: maps

    @Test(
        "map methods: size, isEmpty, get, containsKey, containsValue, keySet, values",
        arguments: [
            ("data.items.size()", 3),
            ("{}.isEmpty()", true),
            ("data.items.isEmpty()", false),
            ("data.items.get('CurrentHumidity').get('value')", 70),
            ("data.items.get('missing')", nil),
            ("data.items.get('2Co').get('value')", 5),
            ("data.items.containsKey('2Co')", true),
            ("data.items.contains('nope')", false),
            ("{a: 1, b: 'x'}.containsValue('x')", true),
            ("{a: 1, b: 2}.keySet()", ["a", "b"]),
            ("{a: 1, b: 2}.values()", [1, 2]),
            ("{a: 1}.equals({a: 1})", true),
        ] as [(String, JSONValue)]
    )
    func mapMethod(expression: String, expected: JSONValue) throws {
        #expect(try ScriptTestSupport.value(expression) == expected, "\(expression)")
    }

    @Test("put, remove and clear change the map they are called on; put returns the previous value")
    func mapMutation() throws {
        let value = try ScriptTestSupport.value(
            "[m, first, second, gone, missing, m.size()]",
            prelude: """
                var m = {a: 1};
                var first = m.put('b', 2);
                var second = m.put('a', 10);
                var gone = m.remove('b');
                var missing = m.remove('zzz');
                data.items.remove('2Co');
                m.putAll({c: 3});
                """
        )
        #expect(value == [["a": 10, "c": 3], nil, 1, 2, nil, 2])
        // The change to a field of the payload stays in the variable it was made through.
        #expect(
            try ScriptTestSupport.value("data.items.keySet()", prelude: "data.items.remove('2Co');")
                == ["CurrentHumidity", "CurrentTemperature"])
        // A const holds the same map; its content may change, as with a JavaScript const object.
        #expect(try ScriptTestSupport.value("c", prelude: "const c = {}; c.put('k', 'v');") == ["k": "v"])
        #expect(try ScriptTestSupport.value("c", prelude: "var c = {a: 1}; c.clear();") == [:])
    }

    // MARK: - Basic data types: arrays

    @Test(
        "array methods: size, isEmpty, get, contains, indexOf, lastIndexOf",
        arguments: [
            ("data.list.size()", 3),
            ("[].isEmpty()", true),
            ("data.list.get(0)", 1),
            ("data.list.get(2)", 3),
            ("data.list.contains(2)", true),
            ("data.list.contains('2')", false),
            ("data.list.contains(2.0)", true),
            ("[1, 2, 1].indexOf(1)", 0),
            ("[1, 2, 1].lastIndexOf(1)", 2),
            ("data.list.indexOf(9)", -1),
            ("[1, [2]].contains([2])", true),
        ] as [(String, JSONValue)]
    )
    func arrayMethod(expression: String, expected: JSONValue) throws {
        #expect(try ScriptTestSupport.value(expression) == expected, "\(expression)")
    }

    @Test("add, set, remove change the array; remove(int) removes by position, remove(value) by value")
    func arrayMutation() throws {
        let value = try ScriptTestSupport.value(
            "[a, added, previous, byIndex, byValue, absent]",
            prelude: """
                var a = [];
                var added = a.add('x');
                a.add('y');
                a.add(0, 'first');
                var previous = a.set(1, 'X');
                var byIndex = a.remove(0);
                a.add('z');
                var byValue = a.remove('y');
                var absent = a.remove('nope');
                """
        )
        #expect(value == [["X", "z"], true, "x", "first", true, false])
        // Adding to a list inside the payload, in a loop, as scripts that build arrays do.
        let built = try ScriptTestSupport.value(
            "out.rows",
            prelude: "var out = {rows: []}; for (var i = 0; i < 3; i++) { out.rows.add(i * 10); }"
        )
        #expect(built == [0, 10, 20])
        // The arguments run before the change, as on one Java list: a rotation.
        #expect(try ScriptTestSupport.value("a", prelude: "var a = [1, 2, 3]; a.add(a.remove(0));") == [2, 3, 1])
        // A changing method on a value that is not a variable changes a copy and returns its result.
        #expect(try ScriptTestSupport.value("[data.list.size(), [9].add(1)]", prelude: "") == [3, true])
    }

    // MARK: - Basic data types: strings

    @Test(
        "string methods behave as Java's String methods",
        arguments: [
            ("data.name.length()", 6),
            ("''.isEmpty()", true),
            ("data.name.substring(2)", "nsor"),
            ("data.name.substring(0, 3)", "sen"),
            ("data.name.substring(6)", ""),
            ("data.name.indexOf('s')", 0),
            ("data.name.indexOf('s', 1)", 3),
            ("data.name.lastIndexOf('s')", 3),
            ("data.name.indexOf('x')", -1),
            ("data.name.contains('nso')", true),
            ("data.name.startsWith('sen')", true),
            ("data.name.endsWith('sor')", true),
            ("data.name.toUpperCase()", "SENSOR"),
            ("'MiXeD'.toLowerCase()", "mixed"),
            ("'  a b \\n'.trim()", "a b"),
            ("'a-b-c'.replace('-', '+')", "a+b+c"),
            ("'a,b,,c,,'.split(',')", ["a", "b", "", "c"]),
            ("'a.b'.split('.')", ["a", "b"]),
            ("data.name.charAt(1)", "e"),
            ("data.name.concat('-1')", "sensor-1"),
            ("data.name.equals('sensor')", true),
            // Positions count UTF-16 code units, as on the JVM.
            ("'温度℃'.length()", 3),
            ("'温度℃'.substring(0, 2)", "温度"),
            ("'a😀b'.length()", 4),
            // The string built by a chain of methods.
            ("deviceName().substring(0, 5).toLowerCase()", "n5kur"),
        ] as [(String, JSONValue)]
    )
    func stringMethod(expression: String, expected: JSONValue) throws {
        #expect(try ScriptTestSupport.value(expression) == expected, "\(expression)")
    }

    // MARK: - Refused method calls

    @Test(
        "a refused method call is an error at file:line:col",
        arguments: [
            ("var v = data.name.size();", "1:19", Diagnostic.Code.type, "is not a method of a string"),
            ("var v = data.list.substring(1);", "1:19", .type, "is not a method of an array"),
            ("var v = data.missing.length();", "1:22", .type, "cannot call .length() on null"),
            ("var v = data.gmtCreate.size();", "1:24", .type, "a method of maps, arrays and strings"),
            ("var v = data.name.substring(7);", "1:19", .type, "index 7 is out of range (0 to 6)"),
            ("var v = data.name.substring(3, 1);", "1:19", .type, "the begin index is after the end index"),
            ("var v = data.list.get(3);", "1:19", .type, "index 3 is out of range (0 to 2)"),
            ("var v = data.list.get('x');", "1:19", .type, "must be a whole number"),
            ("var v = data.name.sizee();", "1:19", .unknownFunction, "unknown method '.sizee()'; did you mean"),
            ("var v = data.name.length(1);", "1:19", .arity, ".length() takes 0 arguments, got 1"),
            ("var v = data.list.put(1, 2);", "1:19", .type, "is not a method of an array"),
        ] as [(String, String, Diagnostic.Code, String)]
    )
    func refusedMethod(script: String, location: String, code: Diagnostic.Code, message: String) throws {
        let full = "var data = payload('json');\n" + script
        let diagnostic = try #require(ScriptTestSupport.diagnostic(full))
        let expectedLine = "2:" + location.split(separator: ":")[1]
        #expect("\(diagnostic.location.line):\(diagnostic.location.column)" == expectedLine, "\(diagnostic)")
        #expect(diagnostic.code == code, "\(diagnostic)")
        #expect(diagnostic.message.contains(message), "\(diagnostic.message)")
        #expect(diagnostic.description.hasPrefix("test.js:\(expectedLine): "), "\(diagnostic.description)")
    }

    // MARK: - Forwarding functions

    /// The property post the GetParser example reads (`data.items.Humidity.value`, `…Temperature.value`).
    static let getParserPayload = #"""
        {"deviceType":"CustomCategory","iotId":"JCp9***","requestId":"1626948228247","checkFailedData":{},\#
        "productKey":"a1o***","gmtCreate":1626948134445,"deviceName":"Device1","items":{"Temperature":\#
        {"value":38,"time":1626948134319},"Humidity":{"value":25,"time":1626948134319},"2Co":{"value":10}}}
        """#

    /// The `Script` of GetParser's documented response, verbatim.
    static let getParserScript = """
        var data = payload("json"); var h = data.items.Humidity.value; var t = data.items.Temperature.value; \
        writeTsdb(1000,timestamp(),"temperature", t , {"deviceName":deviceName()}); \
        writeTsdb(1000,timestamp(),"humidity", h , {"deviceName":deviceName()});
        """

    @Test("the GetParser API example script compiles, runs, and records both five-argument writeTsdb calls")
    func getParserExample() throws {
        let calls = try ScriptTestSupport.run(
            Self.getParserScript,
            topic: "/sys/a1o***/Device1/thing/event/property/post",
            payload: Self.getParserPayload
        )
        #expect(calls.count == 2)
        let timestamp: JSONValue = 1_543_373_798_943
        let tags: JSONValue = ["deviceName": "Device1"]
        #expect(calls.map(\.destinationId) == [1000, 1000])
        #expect(calls.map(\.kind) == [.tsdb, .tsdb])
        #expect(calls.map(\.function) == ["writeTsdb", "writeTsdb"])
        #expect(
            calls.map(\.payload) == [
                ["timestamp": timestamp, "metric": "temperature", "value": 38, "tags": tags],
                ["timestamp": timestamp, "metric": "humidity", "value": 25, "tags": tags],
            ]
        )
        // What `rules run-script` prints: every argument, by name.
        #expect(
            calls[0].jsonObject.jsonString()
                == #"{"destinationId":1000,"kind":"tsdb","payload":{"timestamp":1543373798943,"metric":"temperature","#
                + #""value":38,"tags":{"deviceName":"Device1"}}}"#
        )
        // And it publishes: it calls a forwarding function.
        #expect(RuleScript.publishDiagnostics(SourceText(Self.getParserScript, file: "p.js")).isEmpty)
    }

    @Test("the script-syntax page's example: path reads and getOrNull give the documented values")
    func scriptSyntaxExample() throws {
        let value = try ScriptTestSupport.value(
            #"[getOrNull(data, "items", "Humidity", "value"), data.items.Temperature.value, data.iotId, "#
                + #"getOrNull(data, "items", "2Co", "value"), getOrNull(data, "items", "Missing", "value")]"#,
            payload: Self.getParserPayload
        )
        #expect(value == [25, 38, "JCp9***", 10, nil])
        // A key starting with a digit cannot be read as a path.
        let digit = try #require(
            ScriptTestSupport.diagnostic("var data = payload('json');\nvar c = data.items.2Co.value;")
        )
        #expect(digit.code == .syntax && digit.location.line == 2)
        // A path through a missing field stops the script (the page's "null pointer").
        let missing = try #require(
            ScriptTestSupport.diagnostic(
                "var data = payload('json');\nvar c = data.items.Missing.value;\nwriteAmqp(1, c);",
                payload: Self.getParserPayload
            )
        )
        #expect(missing.location.line == 2, "\(missing)")
    }

    @Test("writeTsdb with other than its five documented arguments is refused at file:line:col")
    func writeTsdbArity() throws {
        let diagnostic = try #require(ScriptTestSupport.diagnostic("var x = 1;\n  writeTsdb(1000, {a: 1});"))
        #expect(diagnostic.code == .arity)
        #expect(diagnostic.location.line == 2 && diagnostic.location.column == 3)
        #expect(diagnostic.message.contains("writeTsdb() takes 5 arguments, got 2"))
        #expect(diagnostic.message.contains("writeTsdb(destinationId, timestamp, metric, value, tags)"))
    }

    @Test("writeAmqp records its documented payload and tag")
    func writeAmqp() throws {
        let calls = try ScriptTestSupport.run("var data = payload('json'); writeAmqp(1001, data.items, 'hot');")
        #expect(calls.first?.tag == "hot")
        #expect(calls.first?.payload.objectValue?.keys == ["CurrentHumidity", "CurrentTemperature", "2Co"])
        #expect(calls.first?.arguments == nil)
    }

    @Test("an undocumented write… with more than a payload and a tag records every argument, and prints them")
    func undocumentedArguments() throws {
        let calls = try ScriptTestSupport.run(
            "writeLindorm(1005, timestamp(), {device_id: deviceName()}, {t: 1});\nwriteRds(1006, {a: 1}, 'x');"
        )
        #expect(calls.count == 2)
        let lindorm = calls[0]
        #expect(lindorm.kind == .lindorm)
        #expect(lindorm.arguments == [1_543_373_798_943, ["device_id": "N5KURkKdibnZvSls3Yfx"], ["t": 1]])
        #expect(lindorm.tag == nil)
        #expect(lindorm.payload == nil)
        #expect(
            lindorm.jsonObject.jsonString()
                == #"{"destinationId":1005,"kind":"lindorm","arguments":[1543373798943,"#
                + #"{"device_id":"N5KURkKdibnZvSls3Yfx"},{"t":1}]}"#
        )
        // Two arguments after the ID keep their meaning of before: a payload and a tag.
        #expect(calls[1].payload == ["a": 1] && calls[1].tag == "x" && calls[1].arguments == nil)
        #expect(calls[1].jsonObject["arguments"] == nil && calls[1].jsonObject["payload"] == ["a": 1])
    }

    // MARK: - Publish checks

    @Test("a script that calls no forwarding function is refused at publish, reported at 1:1")
    func noForwarding() throws {
        let source = SourceText("var data = payload('json');\nvar t = data.items.size();\n", file: "quiet.js")
        let found = RuleScript.publishDiagnostics(source)
        #expect(found.count == 1)
        let diagnostic = try #require(found.first)
        #expect(diagnostic.code == RuleScript.publishCode)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.description.hasPrefix("quiet.js:1:1: "))
        #expect(diagnostic.message.contains("script doesn't contains transmit function"))
        // The engine the rule compiler uses reports the same.
        #expect(RuleScriptEngine().publishDiagnostics(source).map(\.message) == found.map(\.message))
    }

    @Test("SaveScript's example draft saves (it compiles) but is refused at publish")
    func saveScriptExampleDraft() throws {
        // The ScriptDraft of SaveScript's documented request, verbatim.
        let draft = SourceText(#"var data = payload("json")"#, file: "draft.js")
        #expect(RuleScript.diagnose(draft).isEmpty)
        #expect(try RuleScript(source: draft).run(ScriptTestSupport.message()).isEmpty)
        #expect(RuleScript.publishDiagnostics(draft).map(\.code) == [RuleScript.publishCode])
    }

    @Test(
        "any forwarding call in the text satisfies the publish check, even one that never runs",
        arguments: [
            "if (false) { writeAmqp(1, 1); }",
            "var x = [writeIotTopic(1, '/a/b', 1)];",
            "for (var i = 0; i < 0; i++) { writeMq(1, i); }",
            "var s = 'a'.concat(toString(writeFc(1, 2)));",
        ]
    )
    func forwardingAnywhere(script: String) {
        #expect(RuleScript.publishDiagnostics(SourceText(script, file: "p.js")).isEmpty, "\(script)")
    }

    @Test("a script that does not compile has no publish diagnostics (its compile errors say more)")
    func notCompiled() {
        #expect(RuleScript.publishDiagnostics(SourceText("var = ;", file: "p.js")).isEmpty)
    }
}
