//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import PostgresStateStore
import RuleSQL
import Rules

/// `migration.yaml`: where to migrate from and to, and how.
///
/// ```yaml
/// source:
///   kind: aliyun                 # aliyun | file | sim (README: "migration.yaml" for every key)
///   regionId: cn-shanghai
///   iotInstanceId: ""            # empty: legacy public instance
///   accessKeyId: LTAI5t…
///   accessKeySecret: ${IOT_SOURCE_SECRET}
/// target:
///   kind: aliyun
///   regionId: cn-shanghai
///   iotInstanceId: iot-06z00frq8umvkx2
///   accessKeyId: LTAI5t…
///   accessKeySecret: ${IOT_TARGET_SECRET}
/// options:
///   consumerGroupNaming: "{name}"
///   products: [a1AbCdEfGhI]
///   stopSourceRules: false
/// ```
public struct MigrationConfig: Codable, Sendable, Hashable {
    /// The instance to migrate from.
    public var source: InstanceConfig
    /// The instance to migrate to.
    public var target: InstanceConfig
    /// How to migrate. Default: ``MigrationOptions/init()``.
    public var options: MigrationOptions
    /// The state store for journal, registry and outbox (relative to the config's folder); may name the bridge's
    /// `state:` file. Default (nil): `<plan>.journal.sqlite` beside the plan. For a PostgreSQL store, the URL
    /// without its password (``postgres`` holds the server).
    public var state: String?
    /// The PostgreSQL server of a `state: postgres://USER:${VAR}@HOST:PORT/DB`, with the password read from the
    /// environment; nil for a SQLite file. Never encoded: it holds the password.
    public var postgres: PostgresLocation?

    /// Creates a configuration.
    public init(source: InstanceConfig, target: InstanceConfig, options: MigrationOptions = MigrationOptions()) {
        self.source = source
        self.target = target
        self.options = options
    }

    private enum CodingKeys: String, CodingKey { case source, target, options, state }

    /// Decodes a configuration; `options` may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.source = try c.decode(InstanceConfig.self, forKey: .source)
        self.target = try c.decode(InstanceConfig.self, forKey: .target)
        self.options = try c.decodeIfPresent(MigrationOptions.self, forKey: .options) ?? MigrationOptions()
        self.state = try c.decodeIfPresent(String.self, forKey: .state)
    }

    /// Loads and checks `migration.yaml` strictly (see ``MigrationConfigReader``); relative `file:` paths are
    /// resolved against the config's folder.
    ///
    /// - Throws: ``MigrationError`` `.config` carrying every problem as a `file:line:col` diagnostic.
    public static func load(path: String) throws -> MigrationConfig {
        let text: String
        do {
            text = try TextFile.read(path, what: "migration.yaml")
        } catch {
            throw MigrationError(.config, error.description)
        }
        return try Self.parse(text: text, file: path)
    }

    /// Checks `text` as if it were the file `file` (relative paths resolve against its folder).
    public static func parse(text: String, file: String) throws -> MigrationConfig {
        let (config, diagnostics) = MigrationConfigReader.read(text: text, file: file)
        guard let config else {
            let errors = diagnostics.filter { $0.severity == .error }
            throw MigrationError(
                .config,
                errors.map(\.message).joined(separator: "; "),
                location: errors.first.map { "\($0.file):\($0.location.line):\($0.location.column)" },
                diagnostics: diagnostics
            )
        }
        return config
    }
}

/// One side of a migration.
public struct InstanceConfig: Codable, Sendable, Hashable {
    /// What stands behind the side. Default: `aliyun`.
    public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
        /// The Alibaba Cloud OpenAPI over HTTPS.
        case aliyun
        /// An export file (see `iotbridge instance export`).
        case file
        /// The OpenAPI of a simulator or test server; plain `http://` endpoints are allowed.
        case sim
    }

    /// aliyun, file or sim. Default: `aliyun`.
    public var kind: Kind = .aliyun
    /// The region, e.g. `cn-shanghai`. Default: `nil` (required for aliyun).
    public var regionId: String?
    /// The instance ID; empty or absent for a legacy public instance. Default: `nil`.
    public var iotInstanceId: String?
    /// The OpenAPI endpoint. Default: `https://iot.${regionId}.aliyuncs.com` for aliyun; required for sim.
    public var endpoint: String?
    /// The AccessKey ID. Default: `nil` (required for aliyun and sim).
    public var accessKeyId: String?
    /// The AccessKey secret as `${ENV}`. Default: `nil` (required for aliyun and sim).
    public var accessKeySecret: SecretReference?
    /// The export file of a `file` side. Default: `nil` (required for file).
    public var file: String?
    /// Whether a `file` side whose file does not exist starts as an empty instance (written on the first
    /// change). Default: `false`: a missing file is an error, never silently an empty instance.
    public var create: Bool = false

    /// Creates a side.
    public init(
        kind: Kind = .aliyun,
        regionId: String? = nil,
        iotInstanceId: String? = nil,
        endpoint: String? = nil,
        accessKeyId: String? = nil,
        accessKeySecret: SecretReference? = nil,
        file: String? = nil,
        create: Bool = false
    ) {
        self.kind = kind
        self.regionId = regionId
        self.iotInstanceId = iotInstanceId
        self.endpoint = endpoint
        self.accessKeyId = accessKeyId
        self.accessKeySecret = accessKeySecret
        self.file = file
        self.create = create
    }

    private enum CodingKeys: String, CodingKey {
        case kind, regionId, iotInstanceId, endpoint, accessKeyId, accessKeySecret, file, create
    }

    /// Decodes a side; `kind` defaults to aliyun.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .aliyun
        self.regionId = try c.decodeIfPresent(String.self, forKey: .regionId)
        self.iotInstanceId = try c.decodeIfPresent(String.self, forKey: .iotInstanceId)
        self.endpoint = try c.decodeIfPresent(String.self, forKey: .endpoint)
        self.accessKeyId = try c.decodeIfPresent(String.self, forKey: .accessKeyId)
        self.accessKeySecret = try c.decodeIfPresent(SecretReference.self, forKey: .accessKeySecret)
        self.file = try c.decodeIfPresent(String.self, forKey: .file)
        self.create = try c.decodeIfPresent(Bool.self, forKey: .create) ?? false
    }

    /// The identity recorded in plans and exports: no credentials.
    public var identity: InstanceIdentity {
        InstanceIdentity(kind: self.kind.rawValue, regionId: self.regionId, iotInstanceId: self.iotInstanceId ?? "")
    }

    /// The OpenAPI endpoint to call.
    public var resolvedEndpoint: String? {
        if let endpoint = self.endpoint, !endpoint.isEmpty { return endpoint }
        guard self.kind == .aliyun, let region = self.regionId else { return nil }
        return "https://iot.\(region).aliyuncs.com"
    }
}

/// How the migration maps and what it touches.
public struct MigrationOptions: Codable, Sendable, Hashable {
    /// The target name of a recreated consumer group; `{name}` is the source name. The result must be 4–30
    /// letters, digits or `_`. Default: `{name}`.
    public var consumerGroupNaming: String = "{name}"
    /// The consumer group (by target name) that receives MNS and HTTP/2 subscriptions translated to AMQP, and
    /// MNS rule actions replaced by AMQP. It is created when it does not exist. Default: `{productKey}_amqp`, one
    /// new group per product.
    public var translationConsumerGroup: String = "{productKey}_amqp"
    /// The products to migrate. Default: `[]`, all of them.
    public var products: [String] = []
    /// Stop each migrated rule and parser on the source once its copy runs on the target. Default: `false`.
    public var stopSourceRules: Bool = false
    /// Start copies of rules and parsers that run on the source. Default: `true`.
    public var startMigratedRules: Bool = true
    /// OpenAPI retries on throttling and 5xx. Default: 5 attempts, 500 ms doubling up to 8 s.
    public var retry: RetryPolicy = RetryPolicy()
    /// Connect timeout in milliseconds. Default: 10 000.
    public var connectTimeoutMilliseconds: Int = 10_000
    /// Whole-request timeout in milliseconds. Default: 30 000.
    public var requestTimeoutMilliseconds: Int = 30_000

    /// Creates the defaults.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case consumerGroupNaming, translationConsumerGroup, products, stopSourceRules, startMigratedRules, retry
        case connectTimeoutMilliseconds, requestTimeoutMilliseconds
    }

    /// Decodes options; every key may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MigrationOptions()
        self.consumerGroupNaming =
            try c.decodeIfPresent(String.self, forKey: .consumerGroupNaming)
            ?? d.consumerGroupNaming
        self.translationConsumerGroup =
            try c.decodeIfPresent(String.self, forKey: .translationConsumerGroup)
            ?? d.translationConsumerGroup
        self.products = try c.decodeIfPresent([String].self, forKey: .products) ?? d.products
        self.stopSourceRules = try c.decodeIfPresent(Bool.self, forKey: .stopSourceRules) ?? d.stopSourceRules
        self.startMigratedRules =
            try c.decodeIfPresent(Bool.self, forKey: .startMigratedRules)
            ?? d.startMigratedRules
        self.retry = try c.decodeIfPresent(RetryPolicy.self, forKey: .retry) ?? d.retry
        self.connectTimeoutMilliseconds =
            try c.decodeIfPresent(Int.self, forKey: .connectTimeoutMilliseconds)
            ?? d.connectTimeoutMilliseconds
        self.requestTimeoutMilliseconds =
            try c.decodeIfPresent(Int.self, forKey: .requestTimeoutMilliseconds)
            ?? d.requestTimeoutMilliseconds
    }
}

/// Retries with exponential backoff and jitter.
public struct RetryPolicy: Codable, Sendable, Hashable {
    /// Attempts per call, the first included. Default: 5.
    public var maxAttempts: Int = 5
    /// Wait before the second attempt, in milliseconds; doubles per attempt. Default: 500.
    public var initialBackoffMilliseconds: Int = 500
    /// Longest wait between attempts, in milliseconds. Default: 8 000.
    public var maxBackoffMilliseconds: Int = 8_000

    /// Creates the defaults.
    public init() {}

    /// Creates a policy.
    public init(maxAttempts: Int, initialBackoffMilliseconds: Int, maxBackoffMilliseconds: Int) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMilliseconds = initialBackoffMilliseconds
        self.maxBackoffMilliseconds = maxBackoffMilliseconds
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1): full jitter over the capped exponential.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        let exponent = min(attempt - 1, 20)
        let ceiling = min(self.maxBackoffMilliseconds, self.initialBackoffMilliseconds << exponent)
        return .milliseconds(Int.random(in: (ceiling / 2)...max(ceiling / 2, ceiling)))
    }

    private enum CodingKeys: String, CodingKey { case maxAttempts, initialBackoffMilliseconds, maxBackoffMilliseconds }

    /// Decodes a policy; every key may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? 5
        self.initialBackoffMilliseconds = try c.decodeIfPresent(Int.self, forKey: .initialBackoffMilliseconds) ?? 500
        self.maxBackoffMilliseconds = try c.decodeIfPresent(Int.self, forKey: .maxBackoffMilliseconds) ?? 8_000
    }
}
