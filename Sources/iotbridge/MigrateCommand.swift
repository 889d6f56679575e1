//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Migration

/// `iotbridge migrate`: Plan, run, verify and clean a migration between instances.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Assess what will break, then plan, run, verify and clean a migration between instances.",
        discussion: """
            Moves consumer groups, subscriptions (MNS and HTTP/2 translated to AMQP) and forwarding rules \
            from the source instance of migration.yaml to its target, once, even if killed halfway.

              export IOT_SOURCE_SECRET=… IOT_TARGET_SECRET=…
              # the platform's pre-migration checklist, per product; exit 1 until ready
              iotbridge migrate assess --config migration.yaml
              iotbridge migrate plan --config migration.yaml --out plan.yaml
              # review plan.yaml, then run it; kill it and run it again at will
              iotbridge migrate run --plan plan.yaml
              iotbridge migrate status --plan plan.yaml
              # exit 1 on any difference between the target and the plan
              iotbridge migrate verify --plan plan.yaml
              # undo: delete what run created (rollback also restarts source rules)
              iotbridge migrate clean --plan plan.yaml

            The journal (SQLite) sits next to the plan as plan.yaml.journal.sqlite unless --state says \
            otherwise. Errors exit 2 with one line naming the step or the file and line.
            """,
        subcommands: [Assess.self, Plan.self, Run.self, Status.self, Verify.self, Clean.self, Rollback.self, RewriteRules.self]
    )

    /// Options shared by the commands that act on a plan.
    struct PlanOptions: ParsableArguments {
        @Option(help: "The plan file `migrate plan` wrote.")
        var plan: String

        @Option(help: "The migration.yaml to use instead of the one the plan names.")
        var config: String?

        @Option(
            help: ArgumentHelp(
                "The journal: a SQLite file, or postgres://USER:${VAR}@HOST:PORT/DB (password from the environment). Default: the config's state:, else <plan>.journal.sqlite.",
                valueName: "path-or-url"
            )
        )
        var state: String?
    }

    /// The run lock of a shared (PostgreSQL) journal, for the commands that change the target.
    struct RunLockOptions: ParsableArguments {
        @Flag(help: "When another run of the same migration holds the PostgreSQL journal's run lock, wait for it rather than exit 2.")
        var wait = false

        /// Tells, once, that the command waits and for whom.
        static func waiting(_ holder: String) {
            MigrationCLI.printError("waiting: the migration is being run by \(holder)")
        }
    }

    /// `iotbridge migrate plan`.
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read both instances and write the ordered steps of the migration.",
            discussion: """
                The plan is YAML for review and editing: consumer groups to recreate (old ID → symbol → new ID \
                once run), subscriptions to create (MNS/HTTP2 translated, with what changes for consumers), \
                rules, destinations, data sources and parsers with their consumer-group and destination \
                references rewritten as ${cg:NAME} / ${dest:NAME}, findings for what the target cannot carry, \
                and a fingerprint of the source. What already exists on the target in the same form is marked \
                `existing` and skipped. The assessment of `migrate assess` comes first in the file; a blocked \
                product is refused unless --allow-blocked names it.

                Example: iotbridge migrate plan --config migration.yaml --out plan.yaml
                """
        )

        @Option(help: "The migration.yaml naming source, target and options.")
        var config: String

        @Option(help: "The plan file to write.")
        var out: String = "plan.yaml"

        @Option(help: ArgumentHelp("Plan this product although the assessment blocks it (repeatable).", valueName: "PK"))
        var allowBlocked: [String] = []

        @Option(name: .customLong("answer"), help: "Answer an assessment question: [PK:]CHECK=yes|no (repeatable).")
        var answers: [String] = []

        func run() async throws {
            try await MigrationCLI.run {
                let workspace = try MigrationWorkspace(configPath: self.config, logger: MigrationCLI.logger())
                let answers = try AssessmentAnswers(parsing: self.answers)
                let plan = try await workspace.assessedPlan(allowBlocked: self.allowBlocked, answers: answers)
                try PlanFile.write(plan, to: self.out)
                let existing = plan.steps.filter { $0.existing != nil }.count
                print(
                    "wrote \(self.out): migration \(plan.migrationId), \(plan.steps.count) steps (\(existing) already on the target)"
                )
                if let assessment = plan.assessment { print(MigrateCommand.Assess.summary(assessment)) }
                for finding in plan.findings {
                    print("finding: \(finding.resource): \(finding.issue) → \(finding.replacement)")
                }
                for impact in plan.consumerImpact {
                    print("consumer impact: \(impact)")
                }
            }
        }
    }

    /// `iotbridge migrate run`.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Execute a plan's steps in order, journalling each one; resumable.",
            discussion: """
                Each step is journalled `requested` before its first call and `done` with the target's ID after \
                its last. Run it again after a kill: done steps are skipped, an interrupted step looks its \
                resource up by name and completes it, nothing is created twice. A create whose answer was \
                lost (HTTP 5xx, timeout, reset) is looked up before it is sent again, and adopted if the \
                platform applied it. A plan whose source changed \
                since planning is refused unless --force. Progress goes to stderr: a bar on a terminal, one \
                line per step otherwise. With the journal on PostgreSQL (state: postgres://… in \
                migration.yaml, or --state), a second run of the same plan exits 2 naming the run that holds \
                the migration's lock, or waits for it with --wait.

                Example: iotbridge migrate run --plan plan.yaml --wait
                """
        )

        @OptionGroup var options: PlanOptions

        @Flag(help: "Run even though the source changed since the plan was made.")
        var force = false

        @Flag(help: "Print the calls each step would make; change nothing, not even the journal.")
        var dryRun = false

        @OptionGroup var lock: RunLockOptions

        func run() async throws {
            try await MigrationCLI.run {
                let (runner, _) = try MigrationWorkspace.runner(
                    planPath: self.options.plan,
                    configPath: self.options.config,
                    storePath: self.options.state,
                    logger: MigrationCLI.logger()
                )
                if self.dryRun {
                    for line in try await runner.dryRun() { print(line) }
                    return
                }
                let renderer = ProgressRenderer()
                let summary = try await runner.exclusively(
                    command: "migrate run",
                    wait: self.lock.wait,
                    waiting: RunLockOptions.waiting
                ) {
                    try await runner.run(force: self.force) { renderer.render($0) }
                }
                print(
                    "migration \(runner.plan.migrationId): \(summary.executed) steps executed, \(summary.resumed) "
                        + "already done, \(summary.adopted) already on the target, \(summary.created) resources created"
                )
            }
        }
    }

    /// `iotbridge migrate status`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a table of the plan's steps and their journal states.",
            discussion: """
                Needs no credentials: reads the plan and the journal only. States: pending, requested \
                (interrupted), done, failed (with the last error), cleaning, cleaned, restoring, restored; \
                `existing` marks steps the plan found on the target.

                Example: iotbridge migrate status --plan plan.yaml
                """
        )

        @OptionGroup var options: PlanOptions

        func run() async throws {
            try await MigrationCLI.run {
                let plan = try PlanFile.load(path: self.options.plan)
                let store = try MigrationWorkspace.store(plan: plan, planPath: self.options.plan, storePath: self.options.state)
                print(MigrationRunner.renderStatus(try await MigrationRunner.status(plan: plan, store: store)))
            }
        }
    }

    /// `iotbridge migrate verify`.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the target with the plan: validated, mismatched or missing per resource.",
            discussion: """
                Reads the target (and, for stopped source rules, the source) and compares every planned \
                resource in form, with references resolved through the journal's IDs. Exits 1 when anything \
                is mismatched or missing.

                Example: iotbridge migrate verify --plan plan.yaml
                """
        )

        @OptionGroup var options: PlanOptions

        func run() async throws {
            try await MigrationCLI.run {
                let (runner, _) = try MigrationWorkspace.runner(
                    planPath: self.options.plan,
                    configPath: self.options.config,
                    storePath: self.options.state,
                    logger: MigrationCLI.logger()
                )
                let report = try await runner.verify()
                print(report.description)
                if !report.isClean { throw ExitCode(1) }
            }
        }
    }

    /// `iotbridge migrate clean`.
    struct Clean: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete exactly what run created, in reverse order, as the journal records it.",
            discussion: """
                Resources the plan found on the target, or that run adopted, are kept. Running clean twice \
                deletes nothing more. Rules and parsers are stopped before they are deleted.

                Example: iotbridge migrate clean --plan plan.yaml
                """
        )

        @OptionGroup var options: PlanOptions

        @OptionGroup var lock: RunLockOptions

        func run() async throws {
            try await MigrationCLI.run {
                let (runner, _) = try MigrationWorkspace.runner(
                    planPath: self.options.plan,
                    configPath: self.options.config,
                    storePath: self.options.state,
                    logger: MigrationCLI.logger()
                )
                let deleted = try await runner.exclusively(
                    command: "migrate clean",
                    wait: self.lock.wait,
                    waiting: RunLockOptions.waiting
                ) {
                    try await runner.clean()
                }
                for step in deleted { print("deleted \(step)") }
                print("clean: \(deleted.count) resources deleted")
            }
        }
    }

    /// `iotbridge migrate rollback`.
    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clean, then restart on the source the rules and parsers the run stopped there.",
            discussion: """
                Use it to return to the state before `run` when the plan had options.stopSourceRules set.

                Example: iotbridge migrate rollback --plan plan.yaml
                """
        )

        @OptionGroup var options: PlanOptions

        @OptionGroup var lock: RunLockOptions

        func run() async throws {
            try await MigrationCLI.run {
                let (runner, _) = try MigrationWorkspace.runner(
                    planPath: self.options.plan,
                    configPath: self.options.config,
                    storePath: self.options.state,
                    logger: MigrationCLI.logger()
                )
                let (deleted, restarted) = try await runner.exclusively(
                    command: "migrate rollback",
                    wait: self.lock.wait,
                    waiting: RunLockOptions.waiting
                ) {
                    try await runner.rollback()
                }
                for step in deleted { print("deleted \(step)") }
                for step in restarted { print("restarted \(step) on the source") }
                print("rollback: \(deleted.count) resources deleted, \(restarted.count) source rules restarted")
            }
        }
    }

    /// `iotbridge migrate rewrite-rules`.
    struct RewriteRules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rewrite-rules",
            abstract: "Rewrite the consumer-group references of rules/ files for the target, and write the ID map.",
            discussion: """
                Rule files name consumer groups symbolically (`consumerGroup: orders`). When the target names a \
                group differently (options.consumerGroupNaming), each AMQP action and destination that names \
                the source group (or its source ID) is rewritten to the target name; nothing else in the file \
                changes. --id-map writes name -> target ID for every group of the migration (IDs known once \
                `run` created them). Needs no credentials.

                Example:
                  iotbridge migrate rewrite-rules --plan plan.yaml \\
                      --id-map groups.yaml rules/
                """
        )

        @Option(help: "The plan file `migrate plan` wrote.")
        var plan: String

        @Option(help: "The journal (SQLite). Default: <plan>.journal.sqlite.")
        var state: String?

        @Option(help: "Write the rewritten files into this folder instead of in place.")
        var out: String?

        @Option(help: "Write the consumer-group ID map (YAML) to this file.")
        var idMap: String?

        @Flag(help: "Print the changes; write nothing.")
        var dryRun = false

        @Argument(help: "Rule files, or folders searched for *.yaml / *.yml.")
        var paths: [String] = []

        func run() async throws {
            try await MigrationCLI.run {
                if let out = self.out {
                    var isFolder: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: out, isDirectory: &isFolder), isFolder.boolValue else {
                        throw CLIError("--out \(out): no such folder — create it first (mkdir -p \(out))")
                    }
                }
                let plan = try PlanFile.load(path: self.plan)
                let changes = try RuleFileRewriter.rewrite(
                    paths: self.paths,
                    renames: RuleFileRewriter.renames(for: plan),
                    outputFolder: self.out,
                    dryRun: self.dryRun
                )
                for change in changes { print(change.description) }
                print("\(changes.count) consumer-group references rewritten\(self.dryRun ? " (dry run)" : "")")
                if let path = self.idMap, !self.dryRun {
                    let store = try MigrationWorkspace.store(planPath: self.plan, storePath: self.state)
                    let entries = try await MigrationRunner.consumerGroupIdMap(plan: plan, store: store)
                    try MigrationWorkspace.writeIdMap(entries, to: path)
                    print("wrote \(path): \(entries.count) consumer groups")
                }
            }
        }
    }
}
