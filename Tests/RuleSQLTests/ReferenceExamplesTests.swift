//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Testing

/// Every documented example of reference §4 (`alibaba-iot-platform.md`), with its documented output.
@Suite("Reference §4 examples")
struct ReferenceExamplesTests {
    static let arrayPayload = #"{"a":[{"v":0},{"v":1},{"v":2}]}"#

    func run(
        _ sql: String,
        topic: String,
        payload: String,
        deviceName: String? = nil,
        now: Int? = nil
    ) throws
        -> RuleResult
    {
        let rule = try SQLRule(sql: sql)
        return try rule.evaluate(MessageContext(topic: topic, payload: payload, deviceName: deviceName, now: now))
    }

    func output(_ result: RuleResult) -> String? {
        guard case .matched(.json(let object)) = result else { return nil }
        return object.jsonString()
    }

    @Test(
        "§4.1 array paths",
        arguments: [
            (#""a[0]""#, #"{"v":0}"#),
            (#""$.a[0]""#, #"{"v":0}"#),
            (#"".a[0]""#, #"[{"v":0}]"#),
            (#""a[1].v""#, "1"),
            (#""$.a[1].v""#, "1"),
            (#"".a[1].v""#, "[1]"),
        ]
    )
    func arrayPaths(path: String, expected: String) throws {
        let result = try self.run(
            "SELECT \(path) AS x FROM \"/pk/dn/user/update\"",
            topic: "/pk/dn/user/update",
            payload: Self.arrayPayload
        )
        #expect(self.output(result) == #"{"x":\#(expected)}"#)
    }

    @Test("§4.1 single quotes are constants, double quotes and no quotes are variables")
    func quoting() throws {
        let result = try self.run(
            #"SELECT 'a.key2' AS c, "a.key2" AS d, a.key2 AS e FROM "/pk/dn/user/update""#,
            topic: "/pk/dn/user/update",
            payload: #"{"a":{"key2":"v2"}}"#
        )
        #expect(self.output(result) == #"{"c":"a.key2","d":"v2","e":"v2"}"#)
    }

    @Test("§4.1 JSON property expressions state.desired.color and a.b.c[0].d")
    func propertyExpressions() throws {
        let result = try self.run(
            #"SELECT state.desired.color, a.b.c[0].d FROM "/pk/dn/user/update""#,
            topic: "/pk/dn/user/update",
            payload: #"{"state":{"desired":{"color":"red"}},"a":{"b":{"c":[{"d":7}]}}}"#
        )
        #expect(self.output(result) == #"{"color":"red","d":7}"#)
    }

    @Test("§4.1 CASE col WHEN 1 THEN 'Y' WHEN 0 THEN 'N' ELSE '' END", arguments: [("1", "Y"), ("0", "N"), ("5", "")])
    func caseWhen(col: String, expected: String) throws {
        let result = try self.run(
            #"SELECT CASE col WHEN 1 THEN 'Y' WHEN 0 THEN 'N' ELSE '' END AS flag FROM "/pk/dn/user/update""#,
            topic: "/pk/dn/user/update",
            payload: #"{"col":\#(col)}"#
        )
        #expect(self.output(result) == #"{"flag":"\#(expected)"}"#)
    }

    @Test("§4.1 IN (1,2,3) and like / not like with %", arguments: [(2, true), (4, false)])
    func inAndLike(value: Int, expected: Bool) throws {
        let sql = #"SELECT v FROM "/pk/dn/user/update" WHERE v IN (1,2,3) AND name like 'dev%' AND name not like '%x'"#
        let result = try self.run(sql, topic: "/pk/dn/user/update", payload: #"{"v":\#(value),"name":"device1"}"#)
        #expect((self.output(result) != nil) == expected)
    }

    @Test("§4.3 example 1: custom topic, no output at 25.1, output at 39")
    func example1() throws {
        let sql =
            #"SELECT temperature as t, deviceName() as deviceName, location FROM "/a1hRrzD****/+/user/update" WHERE temperature > 38"#
        let cold = try self.run(
            sql,
            topic: "/a1hRrzD****/dev1/user/update",
            payload: #"{"temperature":25.1,"humidity":65,"pressure":101.5,"location":"xxx,xxx"}"#
        )
        #expect(cold == .filtered)
        let hot = try self.run(
            sql,
            topic: "/a1hRrzD****/dev1/user/update",
            payload: #"{"temperature":39,"humidity":65,"pressure":101.5,"location":"xxx,xxx"}"#
        )
        #expect(self.output(hot) == #"{"t":39,"deviceName":"dev1","location":"xxx,xxx"}"#)
    }

    static let tslPayload =
        #"{"deviceType":"TemperatureHumidityDetector","iotId":"N5KURkKdibnZvSls****000100","productKey":"a15NNfl****","gmtCreate":1564569974224,"deviceName":"N5KURkKdibnZvSls3Yfx","items":{"CurrentHumidity":{"value":70,"time":1564569974229},"CurrentTemperature":{"value":TEMP,"time":1564569974229}}}"#

    @Test(
        "§4.3 example 2: TSL property, /sys/ FROM matches the forwarded topic",
        arguments: [("23.5", false), ("38.5", true)]
    )
    func example2(temperature: String, triggers: Bool) throws {
        let sql =
            #"SELECT deviceName() as deviceName, items.CurrentHumidity.value as Humidity, items.CurrentTemperature.value as Temperature FROM "/sys/a15NNfl****/N5KURkKdibnZvSls3Yfx/thing/event/property/post" WHERE items.CurrentTemperature.value > 38"#
        let result = try self.run(
            sql,
            topic: "/a15NNfl****/N5KURkKdibnZvSls3Yfx/thing/event/property/post",
            payload: Self.tslPayload.replacing("TEMP", with: temperature)
        )
        if triggers {
            #expect(self.output(result) == #"{"deviceName":"N5KURkKdibnZvSls3Yfx","Humidity":70,"Temperature":38.5}"#)
        } else {
            #expect(result == .filtered)
        }
    }

    @Test(
        "§4.3 example 3: temperature > 38 and deviceName() in three devices",
        arguments: [("TestDevice1", "39", true), ("TestDevice1", "23.5", false), ("Other", "39", false)]
    )
    func example3(device: String, temperature: String, forwarded: Bool) throws {
        let sql =
            #"SELECT deviceName() as deviceName,items.Temperature.value as Temperature FROM "/sys/a1HHrkm****/+/thing/event/property/post" WHERE items.Temperature.value>38 and deviceName() in ('TestDevice1', 'TestDevice2', 'TestDevice3')"#
        let payload =
            #"{"deviceType":"Custom","iotId":"H5KURkKdibnZvSls****000100","productKey":"a1HHrkm****","gmtCreate":1564569974224,"deviceName":"\#(device)","items":{"Temperature":{"value":\#(temperature),"time":1564569974229}}}"#
        let result = try self.run(sql, topic: "/a1HHrkm****/\(device)/thing/event/property/post", payload: payload)
        if forwarded {
            #expect(self.output(result) == #"{"deviceName":"\#(device)","Temperature":\#(temperature)}"#)
        } else {
            #expect(result == .filtered)
        }
    }

    @Test("§4.3 example 4: BINARY rule to_base64(*) and deviceName()")
    func example4() throws {
        let rule = try SQLRule(
            sql: #"SELECT to_base64(*) as data, deviceName() as dn FROM "/pk/+/user/raw""#,
            dataType: .binary
        )
        let result = try rule.evaluate(MessageContext(topic: "/pk/dev9/user/raw", payload: [0x00, 0x01, 0xFF, 0x10]))
        #expect(self.output(result) == #"{"data":"AAH/EA==","dn":"dev9"}"#)
    }

    @Test("§4.1 BINARY SELECT * passes the payload through")
    func binaryPassThrough() throws {
        let rule = try SQLRule(sql: #"SELECT * FROM "/pk/+/user/raw""#, dataType: .binary)
        let bytes: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF]
        #expect(try rule.evaluate(MessageContext(topic: "/pk/d/user/raw", payload: bytes)) == .matched(.binary(bytes)))
    }

    @Test("§4.1 a non-JSON payload is ignored by a JSON rule")
    func nonJSON() throws {
        let rule = try SQLRule(sql: #"SELECT * FROM "/pk/+/user/raw""#)
        let result = try rule.evaluate(MessageContext(topic: "/pk/d/user/raw", payload: "not json"))
        guard case .skipped(.notJSON) = result else {
            Issue.record("expected a skip, got \(result)")
            return
        }
        var statistics = RuleStatistics()
        statistics.record(result)
        #expect(statistics.skippedNotJSON == 1)
    }

    @Test("§4.1 * combined with functions")
    func starWithFunctions() throws {
        let result = try self.run(
            #"SELECT *, deviceName() as dn FROM "/pk/+/user/update""#,
            topic: "/pk/d1/user/update",
            payload: #"{"b":1,"a":2}"#
        )
        #expect(self.output(result) == #"{"b":1,"a":2,"dn":"d1"}"#)
    }

    static let beijingNow = 1_543_373_798_943

    @Test(
        "§4.2 timestamp() and timestamp_utc()",
        arguments: [
            ("timestamp()", "1543373798943"),
            (#"timestamp('yyyy-MM-dd\'T\'HH:mm:ss\'Z\'')"#, #""2018-11-28T10:56:38Z""#),
            (#"timestamp_utc('yyyy-MM-dd\'T\'HH:mm:ss\'Z\'')"#, #""2018-11-28T02:56:38Z""#),
        ]
    )
    func timestamps(call: String, expected: String) throws {
        let result = try self.run(
            "SELECT \(call) AS t FROM \"/pk/+/user/update\"",
            topic: "/pk/d/user/update",
            payload: "{}",
            now: Self.beijingNow
        )
        #expect(self.output(result) == #"{"t":\#(expected)}"#)
    }

    @Test(
        "§4.2 topic() and topic(n)",
        arguments: [
            ("topic()", "/alDbcLe****/TestDevice/user/set"), ("topic(1)", "alDbcLe****"), ("topic(2)", "TestDevice"),
        ]
    )
    func topics(call: String, expected: String) throws {
        let result = try self.run(
            "SELECT \(call) AS t FROM \"/alDbcLe****/+/user/set\"",
            topic: "/alDbcLe****/TestDevice/user/set",
            payload: "{}"
        )
        #expect(self.output(result) == #"{"t":"\#(expected)"}"#)
    }

    static let propertyPost =
        #"{"iotId":"4z819VQHk6VSLmmBJfrf00107e****","productKey":"al12345****","deviceName":"deviceName1234","gmtCreate":1510799670074,"deviceType":"Ammeter","items":{"Power":{"value":"On","time":1510799670074},"Position":{"time":1510292697470,"value":{"latitude":39.9,"longitude":116.38}}}}"#

    @Test("§4.2 thingPropertyFlatMap('Power','Position') and with no arguments")
    func flatMap() throws {
        for call in ["thingPropertyFlatMap('Power','Position')", "thingPropertyFlatMap()"] {
            let result = try self.run(
                "SELECT \(call) FROM \"/al12345****/+/thing/event/property/post\"",
                topic: "/al12345****/deviceName1234/thing/event/property/post",
                payload: Self.propertyPost
            )
            #expect(self.output(result) == #"{"Power":"On","Position_latitude":39.9,"Position_longitude":116.38}"#)
        }
    }

    @Test(
        "§4.2 substring table",
        arguments: [
            ("substring('012345', 0)", #""012345""#),
            ("substring('012345', 2)", #""2345""#),
            ("substring('012345', 2.745)", #""2345""#),
            ("substring(123, 2)", #""3""#),
            ("substring('012345', -1)", #""012345""#),
            ("substring('012345', 1, 3)", #""12""#),
            ("substring('012345', -50, 50)", #""012345""#),
            ("substring('012345', 3, 1)", #""""#),
        ]
    )
    func substring(call: String, expected: String) throws {
        let result = try self.run("SELECT \(call) AS s FROM \"/pk/+/user/u\"", topic: "/pk/d/user/u", payload: "{}")
        #expect(self.output(result) == #"{"s":\#(expected)}"#)
    }

    @Test("§4.2 substring(true, 1.2) is an error that points at the call")
    func substringError() throws {
        let rule = try SQLRule(sql: #"SELECT substring(true, 1.2) AS s FROM "/pk/+/user/u""#)
        #expect {
            _ = try rule.evaluate(MessageContext(topic: "/pk/d/user/u", payload: "{}"))
        } throws: { error in
            guard let diagnostic = error as? Diagnostic else { return false }
            return diagnostic.code == .type && diagnostic.location.column == 8
        }
    }

    @Test("§4.1 at most 50 fields")
    func fiftyFields() throws {
        let fifty = (1...50).map { "f\($0)" }.joined(separator: ", ")
        #expect(throws: Never.self) { try SQLRule(sql: "SELECT \(fifty) FROM \"/pk/+/user/u\"") }
        #expect {
            try SQLRule(sql: "SELECT \(fifty), f51 FROM \"/pk/+/user/u\"")
        } throws: { error in
            (error as? Diagnostic)?.code == .limit
        }
    }
}
