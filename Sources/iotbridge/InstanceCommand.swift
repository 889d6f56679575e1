//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Logging
import Migration

/// `iotbridge instance`: Export and import an instance's forwarding configuration.
struct InstanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance",
        abstract: "Export and import an instance's forwarding configuration.",
        discussion: """
            An export is a YAML file holding an instance's consumer groups, subscribe relations, old-version \
            rules with their actions, and new-version data sources, parsers and destinations. Plans can be \
            made from exports offline (migration.yaml side with `kind: file`).

            Example:
              export IOT_SOURCE_SECRET=…
              iotbridge instance export --config migration.yaml \\
                  --side source --out source.yaml
              iotbridge instance import --config migration.yaml \\
                  --side target --in source.yaml --dry-run
            """,
        subcommands: [Export.self, Import.self]
    )

    /// `iotbridge instance export`.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one side of migration.yaml to an export file.",
            discussion: """
                Reads the instance through its backend (OpenAPI for aliyun and sim, the file for file) and \
                writes everything forwarding depends on. Secrets are never written. With `options.products` \
                set, a source export covers only those products.

                Example:
                  iotbridge instance export --config migration.yaml --side source \\
                      --out source.yaml
                """
        )

        @Option(help: "The migration.yaml naming the instances and their credentials (as ${ENV} references).")
        var config: String

        @Option(help: "Which instance of the config to export: source or target.")
        var side: String = "source"

        @Option(help: "The export file to write.")
        var out: String

        @Flag(help: "Also record the facts `migrate assess` reads, under `assessment:`, to assess offline.")
        var assessment = false

        func run() async throws {
            try await MigrationCLI.run {
                let workspace = try MigrationWorkspace(configPath: self.config, logger: MigrationCLI.logger())
                let snapshot = try await workspace.export(side: self.side)
                let facts = self.assessment ? try await workspace.assessmentFacts(side: self.side, of: snapshot) : nil
                try FileBackend.write(snapshot, assessment: facts, to: self.out)
                print(
                    "exported \(snapshot.identity) to \(self.out): \(snapshot.consumerGroups.count) consumer groups, "
                        + "\(snapshot.subscriptions.count) subscriptions, \(snapshot.rules.count) rules, "
                        + "\(snapshot.dataSources.count) data sources, \(snapshot.parsers.count) parsers, "
                        + "\(snapshot.destinations.count) destinations"
                )
            }
        }
    }

    /// `iotbridge instance import`.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an export file's content on one side of migration.yaml.",
            discussion: """
                Plans the export as a migration from the file to the side (consumer groups recreated, \
                references rewritten, what exists in the same form skipped) and runs it, journalled in \
                <file>.import.journal.sqlite. --dry-run prints the calls instead.

                Example:
                  iotbridge instance import --config migration.yaml --side target \\
                      --in source.yaml
                """
        )

        @Option(help: "The migration.yaml naming the instance and its credentials.")
        var config: String

        @Option(help: "Which instance of the config to import into: source or target.")
        var side: String = "target"

        @Option(name: .customLong("in"), help: "The export file to read.")
        var input: String

        @Flag(help: "Print the calls the import would make, and change nothing.")
        var dryRun = false

        func run() async throws {
            try await MigrationCLI.run {
                let workspace = try MigrationWorkspace(configPath: self.config, logger: MigrationCLI.logger())
                let runner = try await workspace.importRunner(file: self.input, side: self.side)
                for finding in runner.plan.findings {
                    print("finding: \(finding.resource): \(finding.issue) → \(finding.replacement)")
                }
                if self.dryRun {
                    for line in try await runner.dryRun() { print(line) }
                    return
                }
                let renderer = ProgressRenderer()
                let summary = try await runner.run(force: true) { renderer.render($0) }
                print("imported \(self.input): \(summary.created) created, \(summary.adopted) already there")
            }
        }
    }
}

/// Helpers shared by the `instance` and `migrate` commands, in a namespace so they cannot clash with other
/// commands' helpers in this module.
enum MigrationCLI {
    /// The logger of the migration commands: swift-log's default handler, on stderr.
    static func logger() -> Logger {
        var logger = Logger(label: "iotbridge.migration")
        logger.logLevel = .notice
        return logger
    }

    /// Runs a command body, printing a ``MigrationError`` as one actionable line on stderr and exiting 2.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as MigrationError {
            throw ExitCode(CLIError.report(error))
        }
    }

    /// Writes a line to stderr.
    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
