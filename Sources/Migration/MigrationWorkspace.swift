//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPClient
import Logging
import StateStore

/// Puts config, backends, plan and state store together for the CLI, which has no logic of its own.
public struct MigrationWorkspace: Sendable {
    /// The loaded migration.yaml.
    public let config: MigrationConfig
    /// Where it was loaded from.
    public let configPath: String
    let http: HTTPClient
    let logger: Logger

    /// Loads migration.yaml.
    public init(configPath: String, logger: Logger) throws {
        self.configPath = configPath
        self.config = try MigrationConfig.load(path: configPath)
        var http = HTTPClientConfiguration()
        http.connectTimeoutMilliseconds = self.config.options.connectTimeoutMilliseconds
        http.requestTimeoutMilliseconds = self.config.options.requestTimeoutMilliseconds
        self.http = HTTPClient(configuration: http)
        self.logger = logger
    }

    /// The side named `source` or `target`.
    public func side(_ name: String) throws -> InstanceConfig {
        switch name {
        case "source": return self.config.source
        case "target": return self.config.target
        default: throw MigrationError(.config, "side must be source or target, not \(name)")
        }
    }

    /// The backend of one side. A file side whose file does not exist is an empty instance only with `create: true`.
    public func backend(_ side: InstanceConfig) throws -> any InstanceBackend {
        switch side.kind {
        case .file:
            return try FileBackend(path: side.file!, identity: side.identity, createIfMissing: side.create)
        case .aliyun, .sim:
            return try OpenAPIBackend(config: side, options: self.config.options, http: self.http, logger: self.logger)
        }
    }

    /// Exports one side.
    public func export(side name: String) async throws -> InstanceSnapshot {
        let side = try self.side(name)
        let products = name == "source" ? self.config.options.products : []
        return try await self.backend(side).exportSnapshot(products: products)
    }

    /// Plans an import: the export file's content into one side, as a migration from the file.
    ///
    /// - Returns: a runner whose journal sits next to the export file.
    public func importRunner(file: String, side name: String) async throws -> MigrationRunner {
        let fileBackend = try FileBackend(path: file)
        let target = try self.backend(try self.side(name))
        let plan = MigrationPlanner(options: self.config.options).plan(
            source: try await fileBackend.exportSnapshot(products: []),
            target: try await target.exportSnapshot(products: [])
        )
        return MigrationRunner(
            plan: plan,
            source: fileBackend,
            target: target,
            store: try Self.store(planPath: file + ".import", storePath: nil),
            logger: self.logger
        )
    }

    /// Reads both sides and computes the plan.
    public func plan(now: Date = Date()) async throws -> MigrationPlan {
        let source = try await self.export(side: "source")
        let target = try await self.export(side: "target")
        return MigrationPlanner(options: self.config.options).plan(
            source: source,
            target: target,
            configPath: self.configPath,
            now: now
        )
    }

    /// The default journal of a plan: next to it, `<plan>.journal.sqlite`.
    public static func defaultStorePath(planPath: String) -> String {
        planPath + ".journal.sqlite"
    }

    /// Writes a consumer-group ID map as YAML.
    public static func writeIdMap(_ entries: [ConsumerGroupIdMapEntry], to path: String) throws {
        try YAMLFile.write(
            ["consumerGroups": entries],
            to: path,
            header: "# Consumer-group ID map of a migration: rule files name groups, the target knows IDs.\n"
        )
    }

    /// Opens a plan's journal: `<plan>.journal.sqlite` unless a path (or a `postgres://` URL) is given.
    public static func store(planPath: String, storePath: String?) throws -> any StateStore {
        guard let storePath else { return try JournalLocation.sqlite(path: Self.defaultStorePath(planPath: planPath)).open() }
        return try JournalLocation(option: storePath).open()
    }

    /// Where a plan's journal is: `storePath` (the `--state` option), else the config's `state:`, else
    /// `<plan>.journal.sqlite`.
    static func journal(planPath: String, storePath: String?, config: MigrationConfig?) throws -> JournalLocation {
        if let storePath { return try JournalLocation(option: storePath) }
        if let postgres = config?.postgres { return .postgres(postgres) }
        return .sqlite(path: config?.state ?? Self.defaultStorePath(planPath: planPath))
    }

    /// Opens a plan's journal where `run` keeps it: `storePath`, else the `state:` of the config the plan names,
    /// else `<plan>.journal.sqlite`.
    public static func store(plan: MigrationPlan, planPath: String, storePath: String?) throws -> any StateStore {
        var config: MigrationConfig?
        if storePath == nil, let path = plan.config, FileManager.default.fileExists(atPath: path) {
            config = try MigrationConfig.load(path: path)
        }
        return try Self.journal(planPath: planPath, storePath: storePath, config: config).open()
    }

    /// Opens a plan with the workspace its `config:` names (or `configPath`), and its journal.
    ///
    /// - Throws: ``MigrationError`` when the plan is invalid or its target is not the config's target.
    public static func runner(
        planPath: String,
        configPath: String?,
        storePath: String?,
        logger: Logger
    ) throws -> (MigrationRunner, MigrationWorkspace) {
        let plan = try PlanFile.load(path: planPath)
        guard let path = configPath ?? plan.config else {
            throw MigrationError(.config, "the plan names no config; pass --config migration.yaml")
        }
        let workspace = try MigrationWorkspace(configPath: path, logger: logger)
        // The backend's identity: a `kind: file` side completes what migration.yaml leaves out from the export.
        let targetBackend = try workspace.backend(workspace.config.target)
        let target = targetBackend.identity
        guard target.kind == plan.target.kind, (target.iotInstanceId ?? "") == (plan.target.iotInstanceId ?? ""),
            target.regionId == plan.target.regionId
        else {
            throw MigrationError(
                .invalidPlan,
                "the plan targets \(plan.target) but \(path) targets \(target) — use the config the plan was made from",
                location: planPath
            )
        }
        let store = try Self.journal(planPath: planPath, storePath: storePath, config: workspace.config).open()
        let runner = MigrationRunner(
            plan: plan,
            source: try workspace.backend(workspace.config.source),
            target: targetBackend,
            store: store,
            logger: logger
        )
        return (runner, workspace)
    }
}
