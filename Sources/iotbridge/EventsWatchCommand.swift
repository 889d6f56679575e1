//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Events
import Foundation
import Logging
import StateStore

/// `iotbridge events watch --amqp URL --store FILE`: a subscriber's registry, kept from the events.
struct EventsWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Keep a registry (device → IotInstanceId) for a downstream system from migration-status events.",
        discussion: """
            Receives the events from an AMQP address (the bridge's events sink queue) and applies each device \
            event to the registry in --store; a delivery is accepted only after its row is committed, so a crash \
            re-delivers and never loses. Applying is idempotent (an older sequence never overwrites a newer \
            one), so repeats and replays change nothing. A message that is not a migration event is rejected \
            (amqp:decode-error) so that the broker can dead-letter it. Ask the store with `iotbridge registry \
            lookup … --state FILE`.

            Exit status: 0 when --count events arrived; 1 on timeout; 2 on a connection or usage error.

            Examples:
              iotbridge events watch --amqp amqp://guest:guest@127.0.0.1:5672//queue/migration-events --store registry.sqlite
              iotbridge events watch --amqp amqp://127.0.0.1:5672//queue/migration-events --user guest --password-env PW --store registry.sqlite --count 100 --timeout 60
            """
    )

    @Option(help: "The AMQP URL of the events, with the address: amqp[s]://[USER:PASSWORD@]HOST:PORT/ADDRESS.")
    var amqp: String

    @Option(help: "SASL PLAIN user name (overrides a user in the URL).")
    var user: String?

    @Option(help: ArgumentHelp("Read the SASL PLAIN password from this environment variable.", valueName: "VAR"))
    var passwordEnv: String?

    @Option(help: "The registry to keep (SQLite; created if missing).")
    var store: String

    @Option(help: "Stop after this many events (exit 0). Default: run until interrupted or --timeout.")
    var count: Int?

    @Option(help: "Give up after this many seconds (exit 1) if --count events have not arrived.")
    var timeout: Double?

    @Option(help: "The credit window.")
    var credit: Int = 100

    func validate() throws {
        if let count = self.count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let timeout = self.timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
        if self.credit < 1 { throw ValidationError("--credit must be at least 1") }
    }

    func run() async throws {
        let logger = Logger(label: "iotbridge.events")
        var configuration: AMQPConnectionConfiguration
        do {
            configuration = AMQPConnectionConfiguration(endpoint: try AMQPEndpoint(url: self.amqp))
        } catch {
            FileHandle.standardError.write(Data("error: --amqp: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        if let user = self.user ?? configuration.endpoint.user {
            var password = configuration.endpoint.password ?? ""
            if let variable = self.passwordEnv {
                guard let value = ProcessInfo.processInfo.environment[variable] else {
                    FileHandle.standardError.write(Data("error: --password-env: \(variable) is not set\n".utf8))
                    throw ExitCode(2)
                }
                password = value
            }
            configuration.authentication = .plain(username: user, password: password)
        }
        let registry: SQLiteStateStore
        do {
            registry = try SQLiteStateStore(path: self.store)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let engine = AMQPEngine(logger: logger)
        let connection = engine.makeConnection(configuration)
        let outcome: WatchOutcome
        let (address, count, credit, timeout) = (configuration.endpoint.address, self.count, self.credit, self.timeout)
        do {
            outcome = try await withThrowingTaskGroup(of: WatchOutcome.self) { group in
                group.addTask {
                    try await Self.watch(connection, address: address, registry: registry, count: count, credit: credit)
                }
                if let timeout {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                        return WatchOutcome(applied: -1, events: -1)
                    }
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
        } catch let error as AMQPError {
            await connection.close()
            await engine.shutdown()
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(2)
        } catch {
            await connection.close()
            await engine.shutdown()
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        await connection.close()
        await engine.shutdown()
        if outcome.events < 0 {
            FileHandle.standardError.write(Data("error: timed out after \(self.timeout ?? 0) s\n".utf8))
            throw ExitCode(1)
        }
        print("\(outcome.events) event(s), \(outcome.applied) registry change(s)")
    }

    struct WatchOutcome: Sendable {
        var applied: Int
        var events: Int
    }

    /// Receives, applies, then accepts, slice by slice.
    static func watch(
        _ connection: AMQPConnection,
        address: String?,
        registry: SQLiteStateStore,
        count: Int?,
        credit: Int
    ) async throws -> WatchOutcome {
        try await connection.open()
        // Durable: RabbitMQ refuses a non-durable link to the durable queue the bridge's events sink declares.
        let receiver = try await connection.openReceiver(address: address, credit: credit, durable: true)
        var iterator = receiver.deliveries.makeAsyncIterator()
        var pending: [(AMQPDelivery, RegistryRecord?)] = []
        var outcome = WatchOutcome(applied: 0, events: 0)
        while let delivery = try await iterator.next() {
            let event: MigrationEvent
            do {
                guard delivery.decodingError == nil else { throw MigrationEventError("undecodable AMQP message") }
                event = try MigrationEvent(json: delivery.message.body.bytes)
            } catch {
                delivery.reject(AMQPCondition(name: AMQPCondition.decodeError, description: "\(error)"))
                continue
            }
            pending.append((delivery, RegistryReplication.record(event)))
            outcome.events += 1
            let done = count.map { outcome.events >= $0 } ?? false
            if done || !iterator.hasBufferedDeliveries || pending.count >= max(1, credit / 4) {
                // Commit before accepting: a crash here re-delivers, and re-applying changes nothing.
                outcome.applied += try await registry.apply(pending.compactMap(\.1))
                for (delivery, _) in pending { delivery.accept() }
                pending.removeAll()
            }
            if done { break }
        }
        return outcome
    }
}
