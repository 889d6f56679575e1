//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import CMallocCounter
import Glibc
import RuleSQL

/// The parser-script benchmark of issue 3, item 7: a 20-line script over a ~400-byte property post, on one
/// core, JSON parsing and the serialization of every forwarding call's payload included. Prints messages per
/// second, heap allocations per message, and heap per compiled script.
///
/// Messages per second are given twice: per wall-clock second, and per second of CPU time of the benchmark's
/// thread. On a shared machine the wall clock also counts the time other processes hold the core; the CPU
/// time does not, so it is the figure to compare across runs.
///
/// Usage: `ScriptBench [messages-per-run] [runs]` (defaults 500,000 and 3).
@main
struct ScriptBench {
    /// The workload, the same 20 lines as `Tests/RuleScriptTests/BenchmarkScriptTests.swift` checks.
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

    /// A ~400-byte property post, as the platform forwards it (the same shape as the rule SQL benchmark's).
    static func payload(device: Int, temperature: Double, humidity: Int) -> [UInt8] {
        let name = "sensor-\(String(repeating: "0", count: 4 - String(device).count))\(device)"
        let text = """
            {"deviceType":"TemperatureHumidityDetector","iotId":"N5KURkKdibnZvSls\(name)00",\
            "requestId":"1678239049931",\
            "productKey":"a1HHrkmQnCx","gmtCreate":1564569974224,"deviceName":"\(name)","checkFailedData":{},\
            "items":{"Temperature":{"value":\(temperature),"time":1564569974229},\
            "Humidity":{"value":\(humidity),"time":1564569974229},"Pressure":{"value":101.3,"time":1564569974229},\
            "Battery":{"value":87,"time":1564569974229},"Status":{"value":"ok","time":1564569974229}}}
            """
        return Array(text.utf8)
    }

    static func main() throws {
        let arguments = CommandLine.arguments
        let perRun = arguments.count > 1 ? Int(arguments[1]) ?? 500_000 : 500_000
        let runs = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3

        let script = try RuleScript.compile(Self.script, file: "bench.js")
        // 1,024 distinct messages: half above 38 degrees (three calls), half below (one call); one in eight
        // has a humidity above 80 (the alarm call).
        var messages: [MessageContext] = []
        for index in 0..<1024 {
            let payload = Self.payload(
                device: index,
                temperature: index % 2 == 0 ? 39.5 : 36.5,
                humidity: index % 8 == 0 ? 85 : 70
            )
            messages.append(
                MessageContext(topic: "/sys/a1HHrkmQnCx/sensor-\(index)/thing/event/property/post", payload: payload)
            )
        }
        let averagePayload = messages.reduce(0) { $0 + $1.payload.count } / messages.count
        print("script: \(Self.script.split(separator: "\n").count) lines, \(Self.script.utf8.count) bytes")
        print("payload: \(averagePayload) bytes on average, 1024 distinct messages, half above 38")
        for call in try script.run(messages[0]) {
            print("sample call: \(call.jsonObject.jsonString())")
        }

        // Warm up.
        var checksum = 0
        var calls = 0
        for index in 0..<50_000 {
            checksum &+= try Self.forward(script, messages[index & 1023], calls: &calls)
        }

        var rates: [Double] = []
        var cpuRates: [Double] = []
        for run in 1...runs {
            calls = 0
            let allocationsBefore = CMallocCounter_allocations()
            let clock = ContinuousClock()
            let cpuStart = Self.threadCPUSeconds()
            let start = clock.now
            for index in 0..<perRun {
                checksum &+= try Self.forward(script, messages[index & 1023], calls: &calls)
            }
            let elapsed = clock.now - start
            let cpuSeconds = Self.threadCPUSeconds() - cpuStart
            let allocations = CMallocCounter_allocations() - allocationsBefore
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let rate = Double(perRun) / seconds
            rates.append(rate)
            cpuRates.append(Double(perRun) / cpuSeconds)
            print(
                "run \(run): \(perRun) messages in \(Self.format(seconds, 3)) s = \(Int(rate)) msg/s "
                    + "(CPU \(Self.format(cpuSeconds, 3)) s = \(Int(Double(perRun) / cpuSeconds)) msg/s), "
                    + "\(Self.format(Double(allocations) / Double(perRun), 2)) allocations/message, "
                    + "\(Self.format(Double(calls) / Double(perRun), 2)) forwarding calls/message"
            )
        }
        let sorted = rates.sorted()
        print("best: \(Int(sorted.last!)) msg/s, median: \(Int(sorted[sorted.count / 2])) msg/s (wall clock)")
        let cpuSorted = cpuRates.sorted()
        print(
            "best: \(Int(cpuSorted.last!)) msg/s, median: \(Int(cpuSorted[cpuSorted.count / 2])) msg/s "
                + "(per CPU second of the benchmark thread)"
        )

        // Heap per compiled script: compile many copies and keep them alive.
        let count = 1000
        let before = CMallocCounter_heapInUse()
        var compiled: [RuleScript] = []
        compiled.reserveCapacity(count)
        for _ in 0..<count {
            compiled.append(try RuleScript.compile(Self.script, file: "bench.js"))
        }
        let after = CMallocCounter_heapInUse()
        print(
            "heap per compiled script (\(Self.script.utf8.count) bytes of script, source text kept for diagnostics): "
                + "\(Self.format(Double(after - before) / Double(count) / 1024, 2)) KB"
        )
        print("checksum \(checksum &+ compiled.count)")
    }

    /// Runs the script over one message and serializes every call's payload, as the bridge does before it
    /// forwards them.
    @inline(never)
    static func forward(_ script: RuleScript, _ message: MessageContext, calls: inout Int) throws -> Int {
        var bytes = 0
        for call in try script.run(message) {
            bytes &+= call.payload.jsonBytes().count
            calls += 1
        }
        return bytes
    }

    /// The CPU time the calling thread has used, in seconds.
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
