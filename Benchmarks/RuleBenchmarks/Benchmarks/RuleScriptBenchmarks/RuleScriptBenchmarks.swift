//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Benchmark
import RuleSQL
import RuleScript
import RuleWorkloads

/// The 20-line parser script on one core: `RuleScript.run` (payload parse, statements, forwarding calls recorded)
/// and every call's payload serialized, as the bridge does before it forwards. Target (issue 3): ≥ 50,000 msg/s.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .cpuTotal, .wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 2,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 20,
        thresholds: [
            .mallocCountTotal: .init(relative: [.p90: 0.0], absolute: [.p90: 0])
        ]
    )

    Benchmark("parserScript") { benchmark in
        let script = try RuleScript.compile(RuleWorkloads.script, file: "bench.js")
        let messages = RuleWorkloads.messages
        var index = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for call in try script.run(messages[index & 1023]) {
                blackHole(call.payload.jsonBytes())
            }
            index &+= 1
        }
    }

    // Heap per compiled script: the bytes 1,000 compiled copies keep allocated, divided by 1,000.
    Benchmark(
        "compile1000Scripts",
        configuration: .init(
            metrics: [.memoryLeakedBytes, .mallocCountTotal],
            maxIterations: 5,
            // A compile differs by an allocation or so between runs (hash seeds): 1 % tolerance.
            thresholds: [
                .mallocCountTotal: .init(relative: [.p90: 1.0]),
                .memoryLeakedBytes: .init(relative: [.p90: 1.0]),
            ]
        )
    ) { benchmark in
        var compiled: [RuleScript] = []
        compiled.reserveCapacity(1_000)
        benchmark.startMeasurement()
        for _ in 0..<1_000 { compiled.append(try RuleScript.compile(RuleWorkloads.script, file: "bench.js")) }
        benchmark.stopMeasurement()
        blackHole(compiled)
    }
}
