//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import AMQP
import Events
import Foundation
import IoTPlatform
public import Logging
import Metrics
import PostgresStateStore
public import ServiceLifecycle
import StateStore
import Synchronization

/// The bridge: upstream receivers → merge (claims in the state store) → routing → sinks, as one `Service`.
///
/// The delivery guarantee, in order: a message is claimed (durably) before it goes to any sink; each sink
/// confirms it; the confirmations are recorded (durably); only then is the upstream delivery accepted. A
/// duplicate is accepted only once its original's completion is recorded. A crash at any point re-delivers
/// (the upstream never saw an accept), and the claim of a crashed run counts as absent, so nothing is lost.
public final class Bridge: Service, Sendable {
    /// An upstream delivery and the receiver slot it came through (for batch settlement).
    struct Inbound: Sendable {
        let slot: Int
        let delivery: AMQPDelivery
        let receivedAt: ContinuousClock.Instant
    }

    let configuration: BridgeConfiguration
    let logger: Logger
    let engine: AMQPEngine
    let store: any ClaimStore
    /// The PostgreSQL store when replicas share one (its pool runs with the bridge); nil: the SQLite file, which
    /// only this process uses.
    let sharedStore: PostgresClaimStore?
    /// The same store again, as the registry and outbox of migration facts.
    let eventStore: any InstanceRegistryStore & EventOutbox
    let sinks: [String: any Sink]
    let sinkOrder: [String]
    let deadLetter: any Sink
    let router: Router
    /// Watches the stream for migration facts (events, registry, sightings); nil when `events.recognize` is off.
    let migrationObserver: MigrationStreamObserver?
    /// Rate caps by sink name.
    let caps: [String: RateCapLimiter]
    /// The connect budget of each upstream, by name; upstreams on one consumer group share one.
    let connectBudgets: [String: AMQPConnectBudget]
    /// A fresh id per process start: the owner of this run's claims.
    let runID = "run-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    let metrics: BridgeMetrics
    let started = ContinuousClock.now

    let table = Mutex(FlightTable<Inbound>())
    let statistics = Mutex(BridgeStatistics())
    let receivers = Mutex<[Int: AMQPReceiver]>([:])
    /// Every upstream connection, closed at the end of the drain (which also ends one still connecting).
    let connections = Mutex<[Int: AMQPConnection]>([:])
    /// Duplicates whose original is being recorded right now: claimed again after the next commit.
    let recheck = Mutex<[(BridgeMessage, Inbound)]>([])
    let draining = Atomic<Bool>(false)
    let commitSignal: AsyncStream<Void>
    let commitContinuation: AsyncStream<Void>.Continuation
    /// Who waits for the drain to begin (`run` while the bridge flows).
    let drainWaiters = Mutex<[CheckedContinuation<Void, Never>]>([])

    /// Opens the state store and builds the sinks; connects nothing yet (`run` does).
    public init(configuration: BridgeConfiguration, engine: AMQPEngine, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.engine = engine
        let facts: any InstanceRegistryStore & EventOutbox
        do {
            if let location = configuration.postgres {
                let shared = try PostgresClaimStore(location: location, logger: logger)
                self.sharedStore = shared
                self.store = shared
                facts = shared
            } else {
                let sqlite = try SQLiteStateStore(
                    path: configuration.state,
                    synchronous: configuration.sync == .full ? .full : .normal,
                    exclusive: true
                )
                self.sharedStore = nil
                self.store = sqlite
                facts = sqlite
            }
        } catch {
            throw BridgeError(.stateStore, "\(error)")
        }
        // Migration facts go to the registry and the outbox of the same store as the claims (on PostgreSQL, shared
        // by the replicas).
        self.eventStore = facts
        self.migrationObserver = Self.makeMigrationObserver(configuration.events, store: facts, logger: logger)
        var sinks: [String: any Sink] = [:]
        for sink in configuration.sinks {
            sinks[sink.name] = Self.makeSink(sink, engine: engine, logger: logger, deadLetter: false)
        }
        self.sinks = sinks
        self.caps = Dictionary(uniqueKeysWithValues: configuration.sinks.compactMap { sink in sink.cap.map { (sink.name, RateCapLimiter($0)) } })
        self.sinkOrder = configuration.sinks.map(\.name)
        self.connectBudgets = Self.connectBudgets(configuration.upstreams)
        self.deadLetter = Self.makeSink(configuration.deadLetter, engine: engine, logger: logger, deadLetter: true)
        self.router = try Router(configuration: configuration)
        self.metrics = BridgeMetrics(upstreams: configuration.upstreams.map(\.name), sinks: configuration.sinks.map(\.name))
        (self.commitSignal, self.commitContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.statistics.withLock { statistics in
            for upstream in configuration.upstreams { statistics.upstreams[upstream.name] = .init() }
        }
    }

    /// One budget per consumer group (or per plain upstream), at the smallest limit any of its upstreams asks.
    static func connectBudgets(_ upstreams: [UpstreamConfiguration]) -> [String: AMQPConnectBudget] {
        let groups = Dictionary(grouping: upstreams, by: \.connectBudgetKey)
        var budgets: [String: AMQPConnectBudget] = [:]
        for members in groups.values {
            let budget = AMQPConnectBudget(limit: members.map(\.connectsPerMinute).min() ?? 100, per: .seconds(60))
            for upstream in members { budgets[upstream.name] = budget }
        }
        return budgets
    }

    static func makeSink(_ sink: SinkConfiguration, engine: AMQPEngine, logger: Logger, deadLetter: Bool) -> any Sink {
        switch sink.kind {
        case .amqp(let settings):
            return AMQPSink(name: sink.name, settings: settings, engine: engine, logger: logger)
        case .webhook(let settings):
            return WebhookSink(name: sink.name, settings: settings, logger: logger)
        case .listener(let settings):
            return ListenerSink(name: sink.name, settings: settings, engine: engine, logger: logger)
        case .jsonl(let path):
            return JSONLinesSink(
                name: sink.name,
                path: path,
                logger: logger,
                format: deadLetter ? MessageEnvelope.deadLetterLine : MessageEnvelope.line
            )
        }
    }

    /// Runs until graceful shutdown (SIGTERM/SIGINT through the `ServiceGroup`), then drains: no more credit,
    /// in-flight messages finish within the deadline, confirmed ones are settled, the rest released.
    public func run() async throws {
        try await self.deadLetter.start()
        for name in self.sinkOrder { try await self.sinks[name]!.start() }
        self.statistics.withLock { $0.state = "flowing" }
        self.logger.info(
            "bridge started",
            metadata: ["run": "\(self.runID)", "upstreams": "\(self.configuration.upstreams.count)", "sinks": "\(self.sinkOrder.joined(separator: ","))"]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The shared store's pool: cancelled with the group, after the drain recorded the last confirmations.
            if let sharedStore = self.sharedStore {
                group.addTask { await sharedStore.run() }
            }
            group.addTask { try await self.commitLoop() }
            group.addTask { await self.maintenanceLoop() }
            var slot = 0
            for upstream in self.configuration.upstreams {
                for index in 0..<upstream.connections {
                    let thisSlot = slot
                    group.addTask { await self.consume(upstream, connectionIndex: index, slot: thisSlot) }
                    slot += 1
                }
            }
            await withGracefulShutdownHandler {
                await self.waitUntilDraining()
            } onGracefulShutdown: {
                self.beginDrain()
            }
            await self.drain()
            self.commitContinuation.finish()
            group.cancelAll()
            try await group.waitForAll()
        }
        self.statistics.withLock { $0.state = "stopped" }
        self.logger.info("bridge stopped")
    }
}
