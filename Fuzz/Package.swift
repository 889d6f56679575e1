// swift-tools-version: 6.2
//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import PackageDescription

// libFuzzer targets, kept out of the main package. Build and run them with `scripts/fuzz.sh TARGET SECONDS`,
// which builds it with -sanitize=fuzzer,address; each target is an executable whose entry point is
// `LLVMFuzzerTestOneInput` (libFuzzer supplies `main`).
let package = Package(
    name: "iotbridge-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "iotbridge", path: "..")
    ],
    targets: [
        // The rule SQL: lexer, parser, compiler, evaluator and the JSON parser/serializer.
        .executableTarget(
            name: "RuleSQLParser",
            dependencies: [.product(name: "RuleSQL", package: "iotbridge")],
            path: "RuleSQLParser",
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
