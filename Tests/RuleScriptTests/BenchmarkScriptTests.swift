//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Testing

/// The benchmark's workload (Benchmarks/RuleBenchmarks, `parserScript`), checked here so the benchmark measures a script that
/// does what it says.
@Suite("The benchmark's 20-line script")
struct BenchmarkScriptTests {
    /// The script the benchmark runs: 20 lines, reading, converting, branching, looping and forwarding.
    static let script = """
        var data = payload('json');
        var items = data.items;
        var t = getOrNull(items, 'Temperature', 'value');
        var h = getOrNull(items, 'Humidity', 'value');
        var out = { dn: deviceName(), pk: productKey(), ts: data.gmtCreate };
        out.t = t;
        out.h = h;
        var count = 0;
        for (var key in items) {
          if (items[key].value != null) { count++; }
        }
        out.count = count;
        out.level = t > 38 ? 'hot' : (t < 0 ? 'cold' : 'normal');
        if (toNumber(h) > 80 || data.deviceType == 'Alarm') {
          writeAmqp(1002, { dn: out.dn, alarm: true }, 'alarm');
        }
        if (t > 38) {
          writeAmqp(1001, out, 'hot');
        }
        writeIotTopic(1003, '/' + out.pk + '/' + out.dn + '/user/summary', out);
        """

    /// A ~400-byte property post, as the issue asks.
    static let payload = #"""
        {"deviceType":"TemperatureHumidityDetector","iotId":"N5KURkKdibnZvSls****000100",\#
        "productKey":"a15NNfl****","gmtCreate":1564569974224,"deviceName":"N5KURkKdibnZvSls3Yfx",\#
        "items":{"Temperature":{"value":39.5,"time":1564569974229},"Humidity":{"value":70,"time":1564569974229},\#
        "Voltage":{"value":3.3,"time":1564569974229},"Power":{"value":"On","time":1564569974229},\#
        "Position":{"value":{"latitude":39.9,"longitude":116.38},"time":1564569974229}}}
        """#

    @Test("it is 20 lines over a ~400-byte payload, and forwards twice")
    func workload() throws {
        #expect(Self.script.split(separator: "\n").count == 20)
        #expect((380...460).contains(Self.payload.utf8.count))
        let calls = try ScriptTestSupport.run(
            Self.script,
            topic: "/sys/a15NNfl****/N5KURkKdibnZvSls3Yfx/thing/event/property/post",
            payload: Self.payload
        )
        #expect(calls.map(\.kind) == [.amqp, .republish])
        #expect(calls.map(\.tag) == ["hot", nil])
        #expect(calls.last?.topic == "/a15NNfl****/N5KURkKdibnZvSls3Yfx/user/summary")
        #expect(
            calls.first?.payload.jsonString()
                == #"{"dn":"N5KURkKdibnZvSls3Yfx","pk":"a15NNfl****","ts":1564569974224,"t":39.5,"h":70,"#
                + #""count":5,"level":"hot"}"#
        )
    }
}
