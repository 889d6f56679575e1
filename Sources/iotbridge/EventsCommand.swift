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
import Rules
import StateStore

/// `iotbridge events`: the migration-status events of the outbox.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Read, deliver and re-send migration-status events (CloudEvents 1.0 JSON) from the outbox.",
        subcommands: [Replay.self, Deliver.self, EventsWatchCommand.self]
    )

    /// `iotbridge events deliver --config bridge.yaml`.
    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver the outbox's undelivered events to bridge.yaml's events.sinks, then exit.",
            discussion: """
                What a running bridge's delivery loop does, once through the outbox: every undelivered event goes \
                to every events sink, in outbox order, at least once, and is marked delivered once every sink \
                confirmed it. For events a `migrate run` wrote while no bridge ran. A sink that does not confirm an \
                event is an error (exit 2) and nothing from that event on is marked: run it again.

                A SQLite state file is opened the way the bridge opens it, exclusively: beside a running bridge on \
                the same file this refuses to start (the bridge delivers them itself). On PostgreSQL, only the \
                replica holding the delivery lease is handed events; another holder means 0 delivered here.

                Examples:
                  iotbridge events deliver --config bridge.yaml
                """
        )

        @Option(name: .shortAndLong, help: "The bridge configuration: its events.sinks and its state: store.")
        var config: String

        func run() async throws {
            try await CommandFailure.reporting {
                let result = BridgeConfigurationLoader().load(path: self.config)
                for diagnostic in result.diagnostics where diagnostic.severity == .error {
                    FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
                }
                guard let configuration = result.configuration else { throw ExitCode(2) }
                guard !configuration.events.sinks.isEmpty else {
                    throw CommandFailure("\(self.config) has no events.sinks to deliver to")
                }
                let outbox: any EventOutbox
                if let location = configuration.postgres {
                    outbox = try RegistryCommand.StoreOptions.open(postgres: location)
                } else {
                    guard FileManager.default.fileExists(atPath: configuration.state) else {
                        throw CommandFailure("state store \(configuration.state) (the state: of \(self.config)) does not exist")
                    }
                    do {
                        outbox = try SQLiteStateStore(path: configuration.state, exclusive: true)
                    } catch {
                        throw CommandFailure("\(error)")
                    }
                }
                let logger = Logger(label: "iotbridge.events")
                let engine = AMQPEngine(logger: logger)
                let delivery = OutboxDelivery(settings: configuration.events, outbox: outbox, engine: engine, logger: logger)
                let delivered: Int
                do {
                    try await delivery.start()
                    delivered = try await delivery.deliverAvailable()
                } catch {
                    await delivery.shutdown()
                    await engine.shutdown()
                    throw CommandFailure("\(error)")
                }
                await delivery.shutdown()
                await engine.shutdown()
                FileHandle.standardError.write(Data("\(delivered) event(s) delivered\n".utf8))
            }
        }
    }

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
                                // The bytes the delivery loop sends (the stored data spliced into the envelope).
                                guard let event = StructuredEventRenderer.render(row) else {
                                    throw CommandFailure(
                                        "outbox position \(row.position) holds an event this build cannot read"
                                    )
                                }
                                lines += event
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
            throw CommandFailure("cannot write \(self.path): \(TextFile.reason(error))")
        }
    }
}
