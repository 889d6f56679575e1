// swift-tools-version: 6.1
//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import PackageDescription

// The rule SQL and parser-script benchmarks (issue 3, item 7; issue 12, item 5) on ordo-one/benchmark, kept out
// of the main package so that its build and CI never pay for them. Its malloc interposer counts allocations.
//
//   cd Benchmarks/RuleBenchmarks && swift package --disable-sandbox benchmark
//   swift package --disable-sandbox benchmark thresholds check     # against Thresholds/ (checked in)
//   swift package --disable-sandbox --allow-writing-to-package-directory benchmark thresholds update
let package = Package(
    name: "RuleBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "iotbridge", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The reference workloads: the messages, the rule and the script both benchmarks run.
        .target(
            name: "RuleWorkloads",
            dependencies: [.product(name: "RuleSQL", package: "iotbridge")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "RuleSQLBenchmarks",
            dependencies: [
                "RuleWorkloads",
                .product(name: "RuleSQL", package: "iotbridge"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RuleSQLBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RuleScriptBenchmarks",
            dependencies: [
                "RuleWorkloads",
                .product(name: "RuleSQL", package: "iotbridge"),
                .product(name: "RuleScript", package: "iotbridge"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RuleScriptBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
