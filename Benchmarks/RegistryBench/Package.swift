// swift-tools-version: 6.2
//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import PackageDescription

// The instance-registry benchmark (issue 10, item 6), kept out of the main package so that a release build
// compiles only the state store and the event model. Run it with Benchmarks/registry/run.sh.
let package = Package(
    name: "RegistryBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "iotbridge", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "RegistryBench",
            dependencies: [
                .product(name: "StateStore", package: "iotbridge"),
                .product(name: "Events", package: "iotbridge"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
