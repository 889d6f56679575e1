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
        // The parser-script language: lexer, parser, interpreter and built-ins. RuleScript is not a product of
        // the main package, so its sources come in through the RuleScript symlink inside the target folder.
        .executableTarget(
            name: "RuleScriptParser",
            dependencies: [.product(name: "RuleSQL", package: "iotbridge")],
            path: "RuleScriptParser",
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
