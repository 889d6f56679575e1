//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import CMallocCounter
import Glibc
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

        var checksum = 0
        checksum &+= try Self.measure("issue 3 rule", rule, messages, perRun: perRun, runs: runs)

        // For comparison: a rule that needs the whole payload built (SELECT *), so no projection applies.
        let whole = try SQLRule(
            sql: #"SELECT * FROM "/sys/+/+/thing/event/property/post" WHERE items.Temperature.value > 38"#
        )
        checksum &+= try Self.measure("SELECT * (whole payload)", whole, messages, perRun: perRun / 4, runs: 1)

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

    /// Runs `rule` over the messages `runs` times and prints msg/s (wall clock and CPU time) and allocations.
    static func measure(
        _ label: String,
        _ rule: SQLRule,
        _ messages: [MessageContext],
        perRun: Int,
        runs: Int
    ) throws
        -> Int
    {
        var checksum = 0
        for index in 0..<100_000 {  // warm up
            checksum &+= try Self.outputBytes(rule, messages[index & 1023]).count
        }
        var rates: [Double] = []
        var cpuRates: [Double] = []
        for run in 1...runs {
            let allocationsBefore = CMallocCounter_allocations()
            let cpuStart = Self.threadCPUSeconds()
            let clock = ContinuousClock()
            let start = clock.now
            for index in 0..<perRun {
                checksum &+= try Self.outputBytes(rule, messages[index & 1023]).count
            }
            let elapsed = clock.now - start
            let cpuSeconds = Self.threadCPUSeconds() - cpuStart
            let allocations = CMallocCounter_allocations() - allocationsBefore
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            rates.append(Double(perRun) / seconds)
            cpuRates.append(Double(perRun) / cpuSeconds)
            print(
                "\(label), run \(run): \(perRun) messages in \(Self.format(seconds, 3)) s = "
                    + "\(Int(Double(perRun) / seconds)) msg/s wall; \(Self.format(cpuSeconds, 3)) s CPU = "
                    + "\(Int(Double(perRun) / cpuSeconds)) msg/s per CPU-second; "
                    + "\(Self.format(Double(allocations) / Double(perRun), 2)) allocations/message"
            )
        }
        let wall = rates.sorted()
        let cpu = cpuRates.sorted()
        print(
            "\(label): wall clock best \(Int(wall.last!)) msg/s, median \(Int(wall[wall.count / 2])) msg/s; "
                + "CPU time best \(Int(cpu.last!)) msg/s, median \(Int(cpu[cpu.count / 2])) msg/s"
        )
        return checksum
    }

    /// Evaluates one message and serializes the output, as the bridge does before forwarding.
    @inline(never)
    static func outputBytes(_ rule: SQLRule, _ message: MessageContext) throws -> [UInt8] {
        switch try rule.evaluate(message) {
        case .matched(let output): output.bytes
        default: []
        }
    }

    /// CPU time of this thread, which other processes on a shared machine do not inflate.
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return "\(rounded)"
    }
}
