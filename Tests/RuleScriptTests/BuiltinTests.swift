//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Testing

@Suite("Built-in functions")
struct BuiltinTests {
    @Test(
        "message, conversion, date and rule-SQL functions",
        arguments: [
            // The message.
            ("payload('json').name", "sensor"),
            ("payload().length > 100", true),
            ("payload('text') == payload()", true),
            ("payload('binary').length == payload().length", true),
            ("payload('JSON').list", [1, 2, 3]),
            ("payload('hex').length == 2 * payload().length", true),
            ("topic()", "/sys/a15NNfl****/N5KURkKdibnZvSls3Yfx/thing/event/property/post"),
            ("topic(1)", "sys"),
            ("topic(3)", "N5KURkKdibnZvSls3Yfx"),
            ("topic(99)", .null),
            ("productKey()", "a15NNfl****"),
            ("deviceName()", "N5KURkKdibnZvSls3Yfx"),
            ("messageId()", "m-1"),
            ("timestamp()", 1_543_373_798_943),
            ("timestamp('yyyy-MM-dd HH:mm:ss')", "2018-11-28 10:56:38"),
            ("timestamp_utc(\"yyyy-MM-dd'T'HH:mm:ss'Z'\")", "2018-11-28T02:56:38Z"),
            // getOrNull.
            ("getOrNull(data, 'items', 'CurrentTemperature', 'value')", 23.5),
            ("getOrNull(data, 'list', 1)", 2),
            ("getOrNull(data, 'list', '2')", 3),
            ("getOrNull(data, 'list', 5)", .null),
            ("getOrNull(data, 'nope', 'deeper')", .null),
            ("getOrNull(null, 'a')", .null),
            ("getOrNull(data.name)", "sensor"),
            // Conversions.
            ("toBoolean(true)", true),
            ("toBoolean('true')", true),
            ("toBoolean('FALSE')", false),
            ("toBoolean(0)", false),
            ("toBoolean(2.5)", true),
            ("toBoolean([])", false),
            ("toBoolean({a: 1})", true),
            ("toNumber('42')", 42),
            ("toNumber(' 2.5 ')", 2.5),
            ("toNumber(true)", 1),
            ("toNumber(7)", 7),
            ("toString(42)", "42"),
            ("toString(23.5)", "23.5"),
            ("toString(false)", "false"),
            ("toString({a: [1]})", #"{"a":[1]}"#),
            ("toString(toBinary('hé'))", "hé"),
            ("toMap('{\"a\":1}')", ["a": 1]),
            ("toMap(toBinary('{\"b\":2}'))", ["b": 2]),
            ("toMap({c: 3})", ["c": 3]),
            ("toArray('[1,2]')", [1, 2]),
            ("toArray([3])", [3]),
            ("toBinary('ab')", .binary([97, 98])),
            ("toBinary(payload('binary')).length > 0", true),
            ("toBinary('ab')[1]", 98),
            // Dates.
            ("format_date(1543373798943, 'yyyy-MM-dd HH:mm:ss')", "2018-11-28 10:56:38"),
            ("format_date(1543373798943, 'yyyy-MM-dd HH:mm:ss.SSS', 'GMT')", "2018-11-28 02:56:38.943"),
            ("format_date(1543373798943, 'HH:mm', 'GMT-05:30')", "21:26"),
            ("format_date('1543373798943', 'HH:mm', 'UTC+8')", "10:56"),
            ("format_date(1543373798943, 'HH:mm', 'Asia/Shanghai')", "10:56"),
            ("format_date(timestamp(), 'yyyy')", "2018"),
            ("to_timestamp('2018-11-28 10:56:38', 'yyyy-MM-dd HH:mm:ss')", 1_543_373_798_000),
            ("to_timestamp('2018-11-28 02:56:38', 'yyyy-MM-dd HH:mm:ss', 'UTC')", 1_543_373_798_000),
            ("to_timestamp('20181128105638', 'yyyyMMddHHmmss')", 1_543_373_798_000),
            ("to_timestamp(\"2018-11-28T02:56:38.943Z\", \"yyyy-MM-dd'T'HH:mm:ss.SSSX\")", 1_543_373_798_943),
            ("to_timestamp('28/Nov/2018 02:56:38 PM +0000', 'dd/MMM/yyyy hh:mm:ss a Z')", 1_543_416_998_000),
            ("to_timestamp('1970-01-01', 'yyyy-MM-dd', 'GMT')", 0),
            ("to_timestamp('2000-03-01', 'yyyy-MM-dd', 'GMT')", 951_868_800_000),
            // Rule-SQL functions, shared with the SQL dialect.
            ("upper('abc')", "ABC"),
            ("lower('ABC')", "abc"),
            ("concat('a', 'b')", "ab"),
            ("substring('012345', 1, 3)", "12"),
            ("substring('012345', 2)", "2345"),
            ("replace('a-b-c', '-', '+')", "a+b+c"),
            ("endswith('file.json', '.json')", true),
            ("abs(-3)", 3),
            ("floor(2.7)", 2),
            ("mod(7, 3)", 1),
            ("power(2, 10)", 1024),
            ("nanvl(null, 'd')", "d"),
            ("to_hex(toBinary('AB'))", "4142"),
            ("to_base64(toBinary('hi'))", "aGk="),
            ("crypto('abc', 'MD5')", "900150983cd24fb0d6963f7d28e17f72"),
            ("attribute('location')", ""),
            ("newuuid().length", 36),
            ("rand() < 1", true),
            ("thingPropertyFlatMap('CurrentHumidity').CurrentHumidity", 70),
        ] as [(String, JSONValue)]
    )
    func builtin(expression: String, expected: JSONValue) throws {
        #expect(try ScriptTestSupport.value(expression) == expected, "\(expression)")
    }

    @Test(
        "forwarding functions record their calls with their kinds",
        arguments: [
            ("writeAmqp(1001, {a: 1}, 'tag')", "writeAmqp", ForwardingKind.amqp, "tag", nil),
            ("writeAmqp(1001, {a: 1})", "writeAmqp", .amqp, nil, nil),
            ("writeAmqp('1001', {a: 1}, 5)", "writeAmqp", .amqp, "5", nil),
            ("writeIotTopic(1001, '/pk/dn/user/get', {a: 1})", "writeIotTopic", .republish, nil, "/pk/dn/user/get"),
            ("writeMq(1001, {a: 1}, 'tagA')", "writeMq", .ons, "tagA", nil),
            ("writeMns(1001, {a: 1})", "writeMns", .mns, nil, nil),
            ("writeFc(1001, {a: 1})", "writeFc", .fc, nil, nil),
            ("writeTableStore(1001, {a: 1})", "writeTableStore", .ots, nil, nil),
            ("writeDatahub(1001, {a: 1})", "writeDatahub", .datahub, nil, nil),
            ("writeRds(1001, {a: 1})", "writeRds", .rds, nil, nil),
            ("writePolarDB(1001, {a: 1})", "writePolarDB", .rds, nil, nil),
            ("writeLindorm(1001, {a: 1})", "writeLindorm", .lindorm, nil, nil),
        ] as [(String, String, ForwardingKind, String?, String?)]
    )
    func forwarding(script: String, function: String, kind: ForwardingKind, tag: String?, topic: String?) throws {
        let calls = try ScriptTestSupport.run(script)
        #expect(calls.count == 1)
        let call = try #require(calls.first)
        #expect(call.destinationId == 1001)
        #expect(call.function == function)
        #expect(call.kind == kind)
        #expect(call.payload == ["a": 1])
        #expect(call.tag == tag)
        #expect(call.topic == topic)
        #expect(call.location == SourceLocation(line: 1, column: 1, offset: 0))
        #expect(kind.isCloudOnly == !(kind == .amqp || kind == .republish))
    }

    @Test("payload('json') uses the JSON the caller already parsed")
    func preParsedPayload() throws {
        let script = try RuleScript.compile("writeAmqp(1, payload('json'))", file: "t.js")
        var message = ScriptTestSupport.message(payload: "not json")
        message.json = ["pre": true]
        #expect(try script.run(message).map(\.payload) == [["pre": true]])
    }

    @Test("the engine conforms to the rule engine's seam")
    func engine() throws {
        let engine: any ParserScriptEngine = RuleScriptEngine()
        let compiled = try engine.compile(SourceText("writeAmqp(7, deviceName())", file: "e.js"))
        #expect(try compiled.run(ScriptTestSupport.message()).map(\.payload) == ["N5KURkKdibnZvSls3Yfx"])
    }
}
