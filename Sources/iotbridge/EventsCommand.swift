//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Bridge
import Events
import Foundation
import Logging
import RuleSQL
import StateStore

/// `iotbridge events`: the migration-status events of the outbox.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Read and re-send migration-status events (CloudEvents 1.0 JSON) from the outbox.",
        subcommands: [Replay.self, EventsWatchCommand.self]
    )

    /// `iotbridge events replay --from N`.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-send events from outbox position N on, delivered or not, as JSON lines.",
            discussion: """
                Positions are the outbox's delivery order (every event's `data.sequence` counts within its \
                migration; the position counts across all). Events keep their id, so a subscriber that \
                de-duplicates by id sees a replay as nothing new. --migration keeps one migration's events, from \
                its sequence N.

                With --config, the events go to that bridge.yaml's `events.sinks` (at least once, in order, \
                waiting for every confirmation) and its `state:` is the store; otherwise they are written as \
                JSON lines.

                Examples:
                  iotbridge events replay --from 1 --state bridge.sqlite
                  iotbridge events replay --from 1 --state bridge.sqlite \\
                      --output events.jsonl
                  iotbridge events replay --from 120 --config bridge.yaml
                  iotbridge events replay --from 40 \\
                      --migration platform:iot-06z00frq8umvkx2:a1PK \\
                      --state bridge.sqlite
                """
        )

        @Option(help: "The first outbox position (or, with --migration, the first sequence) to send.")
        var from: Int64

        @Option(help: "Only this migration's events; --from is then its sequence.")
        var migration: String?

        @Option(help: "Where to write the JSON lines: a file (appended), or - for standard output.")
        var output: String = "-"

        @Option(name: .shortAndLong, help: "Send to this bridge configuration's events.sinks, from its state: file.")
        var config: String?

        @OptionGroup var store: RegistryCommand.StoreOptions

        func validate() throws {
            guard self.from >= 0 else { throw ValidationError("--from must be 0 or more") }
        }

        func run() async throws {
            try await CommandFailure.reporting {
                var storeOptions = self.store
                var delivery: OutboxDelivery?
                var engine: AMQPEngine?
                var postgres: (any InstanceRegistryStore & EventOutbox)?
                if let config = self.config {
                    let result = BridgeConfigurationLoader().load(path: config)
                    for diagnostic in result.diagnostics where diagnostic.severity == .error {
                        FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
                    }
                    guard let configuration = result.configuration else { throw ExitCode(2) }
                    guard !configuration.events.sinks.isEmpty else {
                        throw CommandFailure("\(config) has no events.sinks to replay to")
                    }
                    storeOptions.state = configuration.state
                    if let location = configuration.postgres {
                        postgres = try RegistryCommand.StoreOptions.open(postgres: location)
                    }
                    let amqp = AMQPEngine(logger: Logger(label: "iotbridge.events"))
                    engine = amqp
                    delivery = OutboxDelivery(
                        settings: configuration.events,
                        outbox: try postgres ?? storeOptions.open(),
                        engine: amqp,
                        logger: Logger(label: "iotbridge.events")
                    )
                }
                let store = try postgres ?? storeOptions.open()
                let writer = delivery == nil ? try EventLineWriter(path: self.output) : nil
                /// Closes the sinks and the AMQP engine, on every way out.
                func finish() async {
                    await delivery?.shutdown()
                    await engine?.shutdown()
                }
                do {
                    try await delivery?.start()
                    var position: Int64 = self.migration == nil ? self.from : 0
                    var sent = 0
                    while true {
                        let page = try await store.outboxEvents(fromPosition: position, limit: 1_000)
                        let selected = page.filter { row in
                            self.migration.map { row.draft.migrationId == $0 && row.sequence >= self.from } ?? true
                        }
                        if let delivery {
                            try await delivery.replay(selected)
                        } else {
                            var lines: [UInt8] = []
                            for row in selected {
                                guard let event = MigrationEvent(row) else {
                                    throw CommandFailure(
                                        "outbox position \(row.position) holds an event this build cannot read"
                                    )
                                }
                                lines += event.jsonBytes()
                                lines.append(UInt8(ascii: "\n"))
                            }
                            try writer?.write(lines)
                        }
                        sent += selected.count
                        guard let last = page.last else { break }
                        position = last.position + 1
                    }
                    await finish()
                    FileHandle.standardError.write(Data("\(sent) event(s) sent\n".utf8))
                } catch let error as CommandFailure {
                    await finish()
                    throw error
                } catch {
                    await finish()
                    throw CommandFailure("\(error)")
                }
            }
        }
    }
}

/// Appends bytes to a file, or writes them to standard output for `-`.
struct EventLineWriter {
    let handle: FileHandle
    let path: String

    init(path: String) throws {
        self.path = path
        if path == "-" {
            self.handle = FileHandle.standardOutput
            return
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CommandFailure("cannot create \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CommandFailure("cannot open \(path)") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        do {
            try self.handle.write(contentsOf: bytes)
        } catch {
            throw CommandFailure("cannot write \(self.path): \(error.localizedDescription)")
        }
    }
}
