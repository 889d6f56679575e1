//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Bridge
import Foundation
import RuleSQL
import Rules

/// `iotbridge deadletter`: what to do with messages the bridge could not deliver.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletter",
        abstract: "Work with the bridge's dead letters.",
        subcommands: [Replay.self]
    )

    /// `iotbridge deadletter replay FILE`.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead-lettered messages back through the sinks once the cause is fixed.",
            discussion: """
                Each record goes back to the sink that refused it (the record's "sink"), exactly as it was \
                received (or as the rule produced it). Records without a sink — the message itself was the \
                problem (undecodable, too large, a rule failed on it) — are skipped unless --sink names where \
                to send them. Records refused again are written to --remaining with the new reason. The \
                file itself is never changed.

                Exit status: 0 when every record was replayed; 1 when some were refused again or skipped \
                (the summary line counts them); 2 on an error (the file or bridge.yaml cannot be read).

                Examples:
                  iotbridge deadletter replay dead.jsonl --config bridge.yaml
                  iotbridge deadletter replay dead.jsonl --config bridge.yaml \\
                      --sink merged --remaining still-dead.jsonl
                """
        )

        @Argument(help: "The dead-letter file (JSON lines, as `deadLetter: { kind: jsonl }` writes it).")
        var file: String

        @Option(name: .shortAndLong, help: "The bridge configuration whose sinks to use.")
        var config: String = "bridge.yaml"

        @Option(help: "Send every record to this sink instead of the one recorded.")
        var sink: String?

        @Option(help: "Where records that fail again go. Default: FILE with .remaining.jsonl.")
        var remaining: String?

        @OptionGroup var log: LogOptions

        func run() async throws {
            // Say why the file cannot be read before any sink connects (it is read as a stream later).
            try TextFile.checkReadable(self.file, what: "the dead-letter file")
            let result = BridgeConfigurationLoader().load(path: self.config)
            for diagnostic in result.diagnostics where diagnostic.severity == .error {
                FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
            }
            guard let configuration = result.configuration else { throw ExitCode(2) }
            let logger = try self.log.makeLogger(label: "iotbridge.deadletter")
            let engine = AMQPEngine(logger: logger)
            let remaining = self.remaining ?? (self.file.hasSuffix(".jsonl") ? String(self.file.dropLast(6)) : self.file) + ".remaining.jsonl"
            let report: DeadLetterReplay.Report
            do {
                report = try await DeadLetterReplay(configuration: configuration, engine: engine, logger: logger)
                    .run(file: self.file, sinkOverride: self.sink, remaining: remaining)
            } catch {
                await engine.shutdown()
                throw error  // an error, not a "refused again": exit 2 like every error (IOTBridge.main)
            }
            await engine.shutdown()
            print(
                "\(report.records) record(s): \(report.replayed) replayed, \(report.refused) refused again"
                    + (report.refused > 0 ? " (in \(remaining))" : "") + ", \(report.skipped) skipped"
            )
            if report.refused > 0 || report.skipped > 0 { throw ExitCode(1) }
        }
    }
}
