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
import HTTPServer
import Logging
import StateStore
import Synchronization

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

            With --webhook-listen PORT it is the receiving end of a bridge's webhook events sink instead: each \
            POST is applied and committed before the 204 answer; a body that is not an event gets 400, a store \
            failure 503 (the bridge retries).

            Exit status: 0 when --count events arrived; 1 on timeout; 2 on a connection or usage error.

            Examples:
              iotbridge events watch \\
                  --amqp amqp://guest:guest@127.0.0.1:5672//queue/migration-events \\
                  --store registry.sqlite
              iotbridge events watch \\
                  --amqp amqp://127.0.0.1:5672//queue/migration-events \\
                  --user guest --password-env PW --store registry.sqlite \\
                  --count 100 --timeout 60
              iotbridge events watch --webhook-listen 8088 \\
                  --store registry.sqlite
            """
    )

    @Option(help: "The AMQP URL of the events, with the address: amqp[s]://[USER:PASSWORD@]HOST:PORT/ADDRESS.")
    var amqp: String?

    @Option(help: "Instead of --amqp: receive the events as webhook POSTs on 127.0.0.1:PORT (0: any free port).")
    var webhookListen: Int?

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
        guard (self.amqp == nil) != (self.webhookListen == nil) else {
            throw ValidationError("give exactly one of --amqp URL and --webhook-listen PORT")
        }
        if let port = self.webhookListen, !(0...65535).contains(port) {
            throw ValidationError("--webhook-listen must be a port, 0 to 65535")
        }
        if self.webhookListen != nil, self.user != nil || self.passwordEnv != nil {
            throw ValidationError("--user and --password-env are for --amqp; the webhook receiver takes no login")
        }
        // As `amqp receive`: a password without a user would be silently ignored (an ANONYMOUS attempt).
        if let url = self.amqp, self.passwordEnv != nil, self.user == nil, (try? AMQPEndpoint(url: url))?.user == nil {
            throw ValidationError(
                "--password-env needs --user (or a user in the URL, amqp://USER@HOST): without one no login is attempted"
            )
        }
        if let count = self.count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let timeout = self.timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
        if self.credit < 1 { throw ValidationError("--credit must be at least 1") }
    }

    func run() async throws {
        if let port = self.webhookListen {
            try await self.runWebhook(port: port)
            return
        }
        let logger = Logger(label: "iotbridge.events")
        var configuration: AMQPConnectionConfiguration
        do {
            configuration = AMQPConnectionConfiguration(endpoint: try AMQPEndpoint(url: self.amqp ?? ""))
        } catch {
            FileHandle.standardError.write(Data("error: --amqp: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        // As `amqp receive`: fail fast on the first error (a refused port or login), ride out a broker restart once
        // connected, and never outwait --timeout while connecting (it kept reconnecting for ever).
        configuration.reconnect.retryInitialConnect = false
        configuration.reconnect.maximumDelay = .seconds(5)
        if let timeout = self.timeout {
            configuration.connectTimeout = .milliseconds(Int64(min(timeout, 15) * 1000))
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
        let progress = WatchProgress()
        do {
            outcome = try await withThrowingTaskGroup(of: WatchOutcome.self) { group in
                group.addTask {
                    try await Self.watch(
                        connection,
                        address: address,
                        registry: registry,
                        count: count,
                        credit: credit,
                        progress: progress
                    )
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
            FileHandle.standardError.write(Data("error: \(self.timedOut(progress.state.withLock { $0 }))\n".utf8))
            throw ExitCode(1)
        }
        print("\(outcome.events) event(s), \(outcome.applied) registry change(s)")
    }

    /// `--webhook-listen`: each POST is applied and committed before the 204, so the sender's retry covers a
    /// crash; a body that is not an event is answered 400 (the sender refuses it for good), a store failure 503.
    func runWebhook(port: Int) async throws {
        let logger = Logger(label: "iotbridge.events")
        let registry: SQLiteStateStore
        do {
            registry = try SQLiteStateStore(path: self.store)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let progress = WatchProgress()
        let server = EventsWebhookServer(
            host: "127.0.0.1",
            port: port,
            logger: logger,
            onListening: { port in FileHandle.standardError.write(Data("listening on 127.0.0.1:\(port)\n".utf8)) },
            handle: { body in
                guard let event = try? MigrationEvent(json: body) else { return 400 }
                do {
                    let applied = try await registry.apply(RegistryReplication.record(event).map { [$0] } ?? [])
                    progress.state.withLock {
                        $0.events += 1
                        $0.applied += applied
                    }
                    return 204
                } catch {
                    logger.error("registry write failed", metadata: ["error": "\(error)"])
                    return 503
                }
            }
        )
        let (count, timeout) = (self.count, self.timeout)
        let finished: Bool = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await server.run()
                return false
            }
            group.addTask {
                let clock = ContinuousClock()
                let deadline = timeout.map { clock.now + .milliseconds(Int64($0 * 1000)) }
                while true {
                    if let count, progress.state.withLock({ $0.events }) >= count { return true }
                    if let deadline, clock.now >= deadline { return false }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        let outcome = progress.state.withLock { $0 }
        guard finished else {
            FileHandle.standardError.write(Data("error: \(self.timedOut(outcome))\n".utf8))
            throw ExitCode(1)
        }
        print("\(outcome.events) event(s), \(outcome.applied) registry change(s)")
    }

    /// What a timeout says, with what did arrive (as `amqp receive` does): "… with 13 of 17 events applied".
    func timedOut(_ outcome: WatchOutcome) -> String {
        let wanted = self.count.map { " of \($0)" } ?? ""
        return "timed out after \(self.timeout ?? 0) s with \(outcome.events)\(wanted) events committed "
            + "(\(outcome.applied) registry change(s))"
    }

    /// What the receiving side has committed so far, shared with the waiting task.
    final class WatchProgress: Sendable {
        let state = Mutex(WatchOutcome(applied: 0, events: 0))
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
        credit: Int,
        progress: WatchProgress
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
                progress.state.withLock { $0 = outcome }
            }
            if done { break }
        }
        return outcome
    }
}
