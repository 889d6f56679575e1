//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import CMallocCounter
import RuleSQL

/// The rule SQL benchmark of issue 3, item 7: messages per second on one core with JSON parsing included,
/// heap allocations per message, and heap per compiled rule.
///
/// Usage: `RulesBench [messages-per-run] [runs]` (defaults 2,000,000 and 3).
@main
struct RulesBench {
    static let sql = """
        SELECT deviceName() as dn, items.Temperature.value as t FROM "/sys/+/+/thing/event/property/post" \
        WHERE items.Temperature.value > 38
        """

    /// A ~400-byte property post, as the platform forwards it (reference §2.3).
    static func payload(device: Int, temperature: Double) -> [UInt8] {
        let name = "sensor-\(String(repeating: "0", count: 4 - String(device).count))\(device)"
        let text = """
            {"deviceType":"TemperatureHumidityDetector","iotId":"N5KURkKdibnZvSls\(name)00","requestId":"1678239049931",\
            "productKey":"a1HHrkmQnCx","gmtCreate":1564569974224,"deviceName":"\(name)","checkFailedData":{},\
            "items":{"Temperature":{"value":\(temperature),"time":1564569974229},\
            "Humidity":{"value":70,"time":1564569974229},"Pressure":{"value":101.3,"time":1564569974229},\
            "Battery":{"value":87,"time":1564569974229}}}
            """
        return Array(text.utf8)
    }

    static func main() throws {
        let arguments = CommandLine.arguments
        let perRun = arguments.count > 1 ? Int(arguments[1]) ?? 2_000_000 : 2_000_000
        let runs = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3

        let rule = try SQLRule(sql: Self.sql)
        // 1,024 distinct messages: every other one is above 38 degrees, so half match and half are filtered.
        var messages: [MessageContext] = []
        for index in 0..<1024 {
            let temperature = index % 2 == 0 ? 39.5 : 36.5
            let payload = Self.payload(device: index, temperature: temperature)
            messages.append(
                MessageContext(topic: "/a1HHrkmQnCx/sensor-\(index)/thing/event/property/post", payload: payload)
            )
        }
        let averagePayload = messages.reduce(0) { $0 + $1.payload.count } / messages.count
        print("rule: \(Self.sql)")
        print("payload: \(averagePayload) bytes on average, 1024 distinct messages, half above 38")
        print("sample output: \(String(decoding: try Self.outputBytes(rule, messages[0]), as: UTF8.self))")

        // Warm up.
        var checksum = 0
        for index in 0..<100_000 {
            checksum &+= try Self.outputBytes(rule, messages[index & 1023]).count
        }

        var rates: [Double] = []
        var allocationsPerMessage: [Double] = []
        for run in 1...runs {
            let allocationsBefore = CMallocCounter_allocations()
            let clock = ContinuousClock()
            let start = clock.now
            for index in 0..<perRun {
                checksum &+= try Self.outputBytes(rule, messages[index & 1023]).count
            }
            let elapsed = clock.now - start
            let allocations = CMallocCounter_allocations() - allocationsBefore
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let rate = Double(perRun) / seconds
            rates.append(rate)
            allocationsPerMessage.append(Double(allocations) / Double(perRun))
            print(
                "run \(run): \(perRun) messages in \(Self.format(seconds, 3)) s = \(Int(rate)) msg/s, "
                    + "\(Self.format(Double(allocations) / Double(perRun), 2)) allocations/message"
            )
        }
        let sorted = rates.sorted()
        print("best: \(Int(sorted.last!)) msg/s, median: \(Int(sorted[sorted.count / 2])) msg/s")

        // Heap per compiled rule: compile many copies and keep them alive.
        let count = 1000
        for (label, sql) in [
            ("benchmark rule", Self.sql),
            (
                "reference example 3",
                """
                SELECT deviceName() as deviceName,items.Temperature.value as Temperature \
                FROM "/sys/a1HHrkm****/+/thing/event/property/post" WHERE items.Temperature.value>38 and \
                deviceName() in ('TestDevice1', 'TestDevice2', 'TestDevice3')
                """
            ),
        ] {
            let before = CMallocCounter_heapInUse()
            var compiled: [SQLRule] = []
            compiled.reserveCapacity(count)
            for _ in 0..<count {
                compiled.append(try SQLRule(sql: sql))
            }
            let after = CMallocCounter_heapInUse()
            print(
                "heap per compiled rule (\(label), \(sql.utf8.count) bytes of SQL): "
                    + "\(Self.format(Double(after - before) / Double(count) / 1024, 2)) KB"
            )
            checksum &+= compiled.count
        }
        print("checksum \(checksum)")
    }

    /// Evaluates one message and serializes the output, as the bridge does before forwarding.
    @inline(never)
    static func outputBytes(_ rule: SQLRule, _ message: MessageContext) throws -> [UInt8] {
        switch try rule.evaluate(message) {
        case .matched(let output): output.bytes
        default: []
        }
    }

    static func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return "\(rounded)"
    }
}
