// swift-tools-version: 6.2
//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import PackageDescription

/// Settings every Swift target shares: Swift 6 mode, warnings are errors, and the upcoming features the SSWG
/// codebases we imitate turn on.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "iotbridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "iotbridge", targets: ["iotbridge"]),
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "RuleSQL", targets: ["RuleSQL"]),
        .library(name: "RuleScript", targets: ["RuleScript"]),
        // For Benchmarks/RegistryBench (a package of its own, so that a release build compiles only what it needs).
        .library(name: "Events", targets: ["Events"]),
        .library(name: "StateStore", targets: ["StateStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // MARK: C libraries (no logic; typed shims for variadic functions)
        .systemLibrary(
            name: "CQpidProton",
            pkgConfig: "libqpid-proton",
            providers: [.apt(["libqpid-proton11-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // MARK: AMQP 1.0 over Qpid Proton: the only code that calls pn_*
        .target(
            name: "AMQP",
            dependencies: [
                "CQpidProton",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: The platform: login builders, hosts, message model, OpenAPI signature
        .target(
            name: "IoTPlatform",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: strictSettings
        ),

        // MARK: HTTP client over libcurl: the only code that calls curl_*
        .target(
            name: "HTTPClient",
            dependencies: [
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: JSON values as the rules see them: value model, parser (with projections), serializer
        .target(name: "JSON", swiftSettings: strictSettings),

        // MARK: Forwarding rules
        .target(
            name: "RuleSQL",
            dependencies: [
                "JSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "RuleScript",
            dependencies: ["JSON", "RuleSQL"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Rules",
            dependencies: [
                "JSON",
                "RuleSQL",
                "RuleScript",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: State store and migration control plane
        .target(
            name: "StateStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        // PostgreSQL for bridge replicas: its own target, so that SQLite users do not link NIO and postgres-nio.
        .target(
            name: "PostgresStateStore",
            dependencies: [
                "StateStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Migration",
            dependencies: [
                "IoTPlatform",
                "HTTPClient",
                "Rules",
                "RuleSQL",
                "StateStore",
                "PostgresStateStore",
                "Events",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Migration-status events: CloudEvents model, registry reports, migration-message recogniser, outbox
        // delivery (the protocols of registry and outbox live in StateStore, so that every store implements them)
        .target(
            name: "Events",
            dependencies: [
                "JSON",
                "RuleSQL",
                "StateStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: The bridge: upstreams → merge (de-dup claims) → routing (rules) → sinks
        .target(
            name: "Bridge",
            dependencies: [
                "AMQP",
                "IoTPlatform",
                "HTTPClient",
                "Rules",
                "RuleSQL",
                "RuleScript",
                "StateStore",
                "PostgresStateStore",
                "Migration",
                "Events",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: The HTTP server of `iotbridge run`: Prometheus metrics, /healthz, /status
        .target(
            name: "HTTPServer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Simulated instances for rehearsals and tests: AMQP endpoint, OpenAPI, devices, migration batches
        .target(
            name: "Simulator",
            dependencies: [
                "AMQP",
                "IoTPlatform",
                "Migration",
                "RuleSQL",
                "Rules",
                "Events",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: The command-line tool (no logic of its own)
        .executableTarget(
            name: "iotbridge",
            dependencies: [
                "AMQP",
                "IoTPlatform",
                "Rules",
                "Migration",
                "Bridge",
                "Events",
                "StateStore",
                "PostgresStateStore",
                "HTTPServer",
                "HTTPClient",
                "JSON",
                "RuleSQL",
                "Simulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Tests
        // Helpers shared by test targets (child processes run without blocking the cooperative pool).
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strictSettings),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP"], swiftSettings: strictSettings),
        .testTarget(name: "IoTPlatformTests", dependencies: ["IoTPlatform"], swiftSettings: strictSettings),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: strictSettings),
        .testTarget(name: "RuleSQLTests", dependencies: ["RuleSQL"], swiftSettings: strictSettings),
        .testTarget(name: "RuleScriptTests", dependencies: ["RuleScript"], swiftSettings: strictSettings),
        .testTarget(name: "RulesTests", dependencies: ["Rules", "RuleScript", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "StateStoreTests",
            dependencies: [
                "StateStore",
                "PostgresStateStore",
                "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "EventsTests",
            dependencies: ["Events", "StateStore", "RuleSQL", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BridgeTests",
            dependencies: ["Bridge", "AMQP", "Events", "StateStore", "PostgresStateStore", "HTTPServer"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SimulatorTests",
            dependencies: ["Simulator", "AMQP", "IoTPlatform", "Migration"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MigrationTests",
            dependencies: ["Migration", "HTTPClient", "StateStore", "PostgresStateStore", "TestSupport"],
            exclude: ["Fixtures", "Support"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["AMQP", "IoTPlatform", "Simulator", "Migration", "Events", "StateStore"],
            exclude: ["peers", "README.md"],
            swiftSettings: strictSettings
        ),
    ]
)
