//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// The reference workloads of issue 3, item 7: 1,024 distinct property posts (about 400 bytes, as the platform
/// forwards them, reference §2.3), the rule SQL and the 20-line parser script that run over them.
public enum RuleWorkloads {
    /// The rule of issue 3, item 7: half the messages match (above 38 °C), half are filtered.
    public static let sql = """
        SELECT deviceName() as dn, items.Temperature.value as t FROM "/sys/+/+/thing/event/property/post" \
        WHERE items.Temperature.value > 38
        """

    /// The same filter, needing the whole payload built (no projection applies).
    public static let selectStar = #"SELECT * FROM "/sys/+/+/thing/event/property/post" WHERE items.Temperature.value > 38"#

    /// Reference §4.3, example 3.
    public static let referenceExample = """
        SELECT deviceName() as deviceName,items.Temperature.value as Temperature \
        FROM "/sys/a1HHrkm****/+/thing/event/property/post" WHERE items.Temperature.value>38 and \
        deviceName() in ('TestDevice1', 'TestDevice2', 'TestDevice3')
        """

    /// The parser-script workload, the same 20 lines as `Tests/RuleScriptTests/BenchmarkScriptTests.swift` checks:
    /// 1.63 forwarding calls per message on average.
    public static let script = """
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

    /// 1,024 distinct messages on `/sys/a1HHrkmQnCx/sensor-N/thing/event/property/post`: every other one above
    /// 38 °C, one in eight with a humidity above 80.
    public static let messages: [MessageContext] = (0..<1024).map { index in
        let name = "sensor-\(String(repeating: "0", count: 4 - String(index).count))\(index)"
        let text = """
            {"deviceType":"TemperatureHumidityDetector","iotId":"N5KURkKdibnZvSls\(name)00","requestId":"1678239049931",\
            "productKey":"a1HHrkmQnCx","gmtCreate":1564569974224,"deviceName":"\(name)","checkFailedData":{},\
            "items":{"Temperature":{"value":\(index % 2 == 0 ? 39.5 : 36.5),"time":1564569974229},\
            "Humidity":{"value":\(index % 8 == 0 ? 85 : 70),"time":1564569974229},\
            "Pressure":{"value":101.3,"time":1564569974229},"Battery":{"value":87,"time":1564569974229}}}
            """
        return MessageContext(topic: "/sys/a1HHrkmQnCx/\(name)/thing/event/property/post", payload: Array(text.utf8))
    }
}
