// swift-tools-version: 6.2
//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import PackageDescription

// The parser-script benchmark (issue 3, item 7), kept out of the main package. Run it with `run.sh` beside
// this file. RuleScript is not a product of the main package, so its sources come in through the RuleScript
// symlink inside Sources/ScriptBench and compile into the benchmark in release mode.
let package = Package(
    name: "ScriptBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "iotbridge", path: "../..")
    ],
    targets: [
        // Counts heap allocations by interposing malloc & co. (glibc only), and reads the heap in use.
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "ScriptBench",
            dependencies: ["CMallocCounter", .product(name: "RuleSQL", package: "iotbridge")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
