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

@Suite("Every script example of the reference (§5) gives its documented forwarding calls")
struct ReferenceExamplesTests {
    @Test("§5.2: writeAmqp to destination 1001 with tag 'hot' when Temperature > 38")
    func amqpExample() throws {
        let script = """
            var data = payload("json");
            var out = { pk: topic(1), dn: topic(2), t: data.items.Temperature.value, ts: timestamp() };
            if (out.t > 38) { writeAmqp(1001, out, "hot"); }   // 1001 = DestinationId of an AMQP destination
            """
        let hot = try ScriptTestSupport.run(
            script,
            topic: "/a1HHrkm/dev1/user/update",
            payload: #"{"items":{"Temperature":{"value":39.5,"time":1}}}"#
        )
        #expect(
            hot == [
                ForwardingCall(
                    destinationId: 1001,
                    function: "writeAmqp",
                    kind: .amqp,
                    payload: ["pk": "a1HHrkm", "dn": "dev1", "t": 39.5, "ts": 1_543_373_798_943],
                    tag: "hot",
                    location: SourceLocation(line: 3, column: 19, offset: hot.first?.location?.offset ?? 0)
                )
            ]
        )
        #expect(
            hot.first?.jsonObject.jsonString()
                == #"{"destinationId":1001,"kind":"amqp","payload":{"pk":"a1HHrkm","dn":"dev1","t":39.5,"#
                + #""ts":1543373798943},"tag":"hot"}"#)

        let cool = try ScriptTestSupport.run(
            script,
            topic: "/a1HHrkm/dev1/user/update",
            payload: #"{"items":{"Temperature":{"value":23.5,"time":1}}}"#
        )
        #expect(cool.isEmpty)
    }

    @Test("§5.1: writeIotTopic(1003, topic, data) from a community script")
    func republishExample() throws {
        let calls = try ScriptTestSupport.run(
            """
            var data = payload('json'); writeIotTopic(1003, "/k1vtgud0XCS/uZdKY8WoRcIaVtaIrwWh/user/server/push", data);
            """,
            payload: #"{"a":1}"#
        )
        #expect(calls.count == 1)
        #expect(
            calls.first?.jsonObject.jsonString()
                == #"{"destinationId":1003,"kind":"republish","payload":{"a":1},"#
                + #""topic":"/k1vtgud0XCS/uZdKY8WoRcIaVtaIrwWh/user/server/push"}"#)
    }

    @Test("§5.1: the console's default template forwards nothing until its writeIotTopic line is uncommented")
    func consoleTemplate() throws {
        let template = """
            // 设备上报数据内容，json格式
            var data = payload('json');
            // 流转到另一个Topic
            // writeIotTopic(1002, "/" + productKey() + "/" + deviceName() + "/user/get", data);
            """
        #expect(try ScriptTestSupport.run(template, topic: "/pk1/dev1/user/update", payload: "{}").isEmpty)

        let enabled = template.replacingOccurrences(of: "// writeIotTopic", with: "writeIotTopic")
        let calls = try ScriptTestSupport.run(enabled, topic: "/pk1/dev1/user/update", payload: #"{"x":true}"#)
        #expect(calls.map(\.topic) == ["/pk1/dev1/user/get"])
        #expect(calls.map(\.destinationId) == [1002])
        #expect(calls.map(\.payload) == [["x": true]])
    }

    @Test("§5.1: getOrNull reads keys that start with a digit, and returns null for missing ones")
    func getOrNullExample() throws {
        #expect(try ScriptTestSupport.value(#"getOrNull(data, "items", "2Co", "value")"#) == 5)
        #expect(try ScriptTestSupport.value(#"getOrNull(data, "items", "3Co", "value")"#) == .null)
        // A path on a missing field fails; getOrNull is the documented way around it.
        let diagnostic = ScriptTestSupport.diagnostic(
            "var data = payload('json');\nvar v = data.items.CurrentTemprature.value;"
        )
        #expect(diagnostic?.code == .unknownField)
        #expect(diagnostic?.location.description == "2:20")
        #expect(diagnostic?.message.contains("did you mean 'CurrentTemperature'?") == true)
    }

    @Test("§5.1: the type conversions map null to their empty value")
    func conversionsOfNull() throws {
        #expect(try ScriptTestSupport.value("[toBoolean(null), toNumber(null), toString(null)]") == [false, 0, ""])
        #expect(try ScriptTestSupport.value("[toMap(null), toArray(null), toBinary(null)]") == [[:], [], .binary([])])
    }

    @Test("§4.2: every rule-SQL function is callable from a script by the same name")
    func ruleFunctions() throws {
        for name in RuleFunctions.names {
            // Naming a function without calling it says it is a function; an unknown name would say so.
            let diagnostic = ScriptTestSupport.diagnostic("var x = \(name);")
            #expect(diagnostic?.message == "'\(name)' is a function; call it: \(name)(…)", "\(name)")
        }
    }
}
