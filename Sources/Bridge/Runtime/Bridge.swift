//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import AMQP
import Foundation
import IoTPlatform
public import Logging
import Metrics
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
    let store: SQLiteStateStore
    let sinks: [String: any Sink]
    let sinkOrder: [String]
    let deadLetter: any Sink
    let router: Router
    /// Rate caps by sink name.
    let caps: [String: RateCapLimiter]
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

    /// Opens the state store and builds the sinks; connects nothing yet (`run` does).
    public init(configuration: BridgeConfiguration, engine: AMQPEngine, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.engine = engine
        do {
            self.store = try SQLiteStateStore(
                path: configuration.state,
                synchronous: configuration.sync == .full ? .full : .normal,
                exclusive: true
            )
        } catch {
            throw BridgeError(.stateStore, "\(error)")
        }
        var sinks: [String: any Sink] = [:]
        for sink in configuration.sinks {
            sinks[sink.name] = Self.makeSink(sink, engine: engine, logger: logger, deadLetter: false)
        }
        self.sinks = sinks
        self.caps = Dictionary(uniqueKeysWithValues: configuration.sinks.compactMap { sink in sink.cap.map { (sink.name, RateCapLimiter($0)) } })
        self.sinkOrder = configuration.sinks.map(\.name)
        self.deadLetter = Self.makeSink(configuration.deadLetter, engine: engine, logger: logger, deadLetter: true)
        self.router = try Router(configuration: configuration)
        self.metrics = BridgeMetrics(upstreams: configuration.upstreams.map(\.name), sinks: configuration.sinks.map(\.name))
        (self.commitSignal, self.commitContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.statistics.withLock { statistics in
            for upstream in configuration.upstreams { statistics.upstreams[upstream.name] = .init() }
        }
    }

    static func makeSink(_ sink: SinkConfiguration, engine: AMQPEngine, logger: Logger, deadLetter: Bool) -> any Sink {
        switch sink.kind {
        case .amqp(let settings):
            return AMQPSink(name: sink.name, settings: settings, engine: engine, logger: logger)
        case .webhook(let settings):
            return WebhookSink(name: sink.name, settings: settings, logger: logger)
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

    // MARK: - Upstreams

    /// One connection of an upstream with its one receiver link: connects, attaches, reads batches, and
    /// re-attaches with backoff when the peer detaches the link. Ends when the bridge drains.
    func consume(_ upstream: UpstreamConfiguration, connectionIndex: Int, slot: Int) async {
        let configuration = self.connectionConfiguration(upstream, index: connectionIndex)
        let connection = self.engine.makeConnection(configuration)
        self.connections.withLock { $0[slot] = connection }
        var attempt = 0
        defer { self.receivers.withLock { _ = $0.removeValue(forKey: slot) } }
        while !self.isDraining {
            do {
                try await connection.open()
                let receiver = try await connection.openReceiver(
                    address: upstream.endpoint.address,
                    credit: upstream.credit,
                    durable: upstream.durable
                )
                if self.isDraining {
                    receiver.close()
                    break
                }
                self.receivers.withLock { $0[slot] = receiver }
                self.upstreamEvent(upstream.name) { $0.connectionsOpen += 1; $0.state = "flowing" }
                attempt = 0
                var iterator = receiver.deliveries.makeAsyncIterator()
                while true {
                    let batch = try await iterator.nextBatch()
                    if batch.isEmpty { break }
                    // Draining: these stay unsettled and are released when the link detaches.
                    if self.isDraining { continue }
                    await self.process(batch, upstream: upstream, slot: slot)
                }
                self.upstreamEvent(upstream.name) { $0.connectionsOpen -= 1 }
            } catch is CancellationError {
                break
            } catch {
                if self.isDraining { break }
                attempt += 1
                let message = (error as? AMQPError)?.message ?? "\(error)"
                self.upstreamEvent(upstream.name) {
                    $0.lastError = message
                    $0.reconnects += 1
                    $0.state = "backing-off"
                    if $0.connectionsOpen > 0 { $0.connectionsOpen -= 1 }
                }
                self.metrics.reconnect(upstream.name)
                self.logger.warning(
                    "upstream link failed; attaching again",
                    metadata: ["upstream": "\(upstream.name)", "connection": "\(connectionIndex)", "error": "\(message)"]
                )
                let delay = configuration.reconnect.delay(forAttempt: attempt, random: Double.random(in: 0..<1))
                try? await Task.sleep(for: delay)
            }
        }
        await connection.close()
    }

    func connectionConfiguration(_ upstream: UpstreamConfiguration, index: Int) -> AMQPConnectionConfiguration {
        var configuration = AMQPConnectionConfiguration(endpoint: upstream.endpoint)
        configuration.tls = upstream.tls
        configuration.label = "\(upstream.name)#\(index)"
        // A service rides out everything: the first connect is retried too.
        configuration.reconnect.retryInitialConnect = true
        configuration.reconnect.maximumDelay = .seconds(10)
        switch upstream.auth {
        case .anonymous:
            configuration.authentication = .anonymous
        case .plain(let user, let password):
            configuration.authentication = .plain(username: user, password: password.value)
        case .aksign(let platform), .ststoken(let platform):
            configuration.platformRules = true
            // The loader built this login once already, so it cannot fail here.
            if let login = try? PlatformLoginFactory.login(platform, upstream: upstream.name, index: index, sts: upstream.auth.isSTS) {
                configuration.authentication = .plain(username: login.username, password: login.password)
                configuration.label = "\(upstream.name)#\(index) clientId \(login.clientId)"
            }
        }
        return configuration
    }

    var isDraining: Bool { self.draining.load(ordering: .acquiring) }

    func upstreamEvent(_ name: String, _ update: (inout BridgeStatistics.Upstream) -> Void) {
        self.statistics.withLock { statistics in
            update(&statistics.upstreams[name, default: .init()])
        }
    }

    // MARK: - Merge

    /// One batch of one receiver: build the messages, claim their keys in one store transaction, and start a
    /// flight for each new one; duplicates wait for or settle after their original.
    func process(_ batch: [AMQPDelivery], upstream: UpstreamConfiguration, slot: Int) async {
        let now = ContinuousClock.now
        var keyed: [(BridgeMessage, Inbound)] = []
        var presettled = 0
        for delivery in batch {
            if delivery.isPresettled { presettled += 1 }
            let message = BridgeMessage(
                delivery: delivery,
                upstream: upstream.name,
                instanceLabel: upstream.instanceLabel,
                maxMessageSize: self.configuration.maxMessageSize
            )
            let inbound = Inbound(slot: slot, delivery: delivery, receivedAt: now)
            if message.claimKey == nil {
                if message.defect == nil { self.upstreamEvent(upstream.name) { $0.withoutMessageId += 1 } }
                await self.deliver(message, inbound: inbound, key: nil, alreadyFinished: [])
            } else {
                keyed.append((message, inbound))
            }
        }
        let elapsed = self.started.duration(to: now)
        self.upstreamEvent(upstream.name) {
            $0.received += batch.count
            $0.presettled += presettled
            $0.lastMessageAt = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        self.metrics.received(upstream.name, batch.count)
        await self.claimAndDeliver(keyed)
    }

    func claimAndDeliver(_ keyed: [(BridgeMessage, Inbound)]) async {
        guard !keyed.isEmpty else { return }
        let requests = keyed.map { ClaimRequest(key: Self.claimKey($0.0), upstream: $0.0.upstream) }
        let results: [ClaimResult]
        do {
            results = try await self.withStoreRetry("claim") {
                let now = Self.nowMilliseconds()
                let lease = now + Int64(self.configuration.dedup.lease.components.seconds * 1000)
                return try await self.store.claim(
                    requests,
                    options: ClaimOptions(owner: self.runID, now: now, leaseUntil: lease, otherOwnersAreGone: true)
                )
            }
        } catch {
            // Draining: the batch stays unsettled and is released at detach.
            return
        }
        for ((message, inbound), result) in zip(keyed, results) {
            let key = Self.claimKey(message)
            switch result {
            case .claimed(let finished, let conflict):
                // Our own lease ran out while the original is still on its way: still a duplicate of it.
                if self.table.withLock({ $0.attachDuplicate(key: key, delivery: inbound) }) {
                    self.countDuplicate(message.upstream, original: message.upstream)
                    continue
                }
                if conflict {
                    self.statistics.withLock { $0.dedupConflicts += 1 }
                    self.metrics.dedupConflicts.increment()
                }
                await self.deliver(message, inbound: inbound, key: key, alreadyFinished: finished)
            case .inFlight(let owner, let original):
                let attached = owner == self.runID && self.table.withLock { $0.attachDuplicate(key: key, delivery: inbound) }
                if attached {
                    self.countDuplicate(message.upstream, original: original)
                } else {
                    // The original is being recorded (or held by a live owner elsewhere): ask again shortly.
                    self.recheck.withLock { $0.append((message, inbound)) }
                    self.commitContinuation.yield()
                }
            case .done(let original, _):
                self.countDuplicate(message.upstream, original: original)
                self.settle([inbound])
            }
        }
    }

    func countDuplicate(_ upstream: String, original: String) {
        self.upstreamEvent(upstream) { $0.duplicatesOf[original, default: 0] += 1 }
        self.metrics.duplicate(upstream, original: original)
    }

    static func claimKey(_ message: BridgeMessage) -> ClaimKey {
        ClaimKey(key: message.claimKey!.key, contentDigest: message.claimKey!.contentDigest)
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: - Routing and sinks

    /// Starts the flight of a message and hands it to each target not finished before.
    func deliver(_ message: BridgeMessage, inbound: Inbound, key: ClaimKey?, alreadyFinished: Set<String>) async {
        let routes: [Route]
        if let defect = message.defect {
            routes = [Route(target: "deadLetter", sink: nil, deadLetterReason: defect)]
        } else {
            do {
                routes = try self.router.routes(for: message)
            } catch {
                routes = [Route(target: "deadLetter", sink: nil, deadLetterReason: error.message)]
            }
        }
        if routes.isEmpty {
            self.statistics.withLock { $0.filtered += 1 }
            self.metrics.filtered.increment()
        }
        let remaining = routes.filter { !alreadyFinished.contains($0.target) }
        let (id, settleNow) = self.table.withLock { table in
            table.begin(key: key, targets: Set(remaining.map(\.target)), delivery: inbound)
        }
        self.settle(settleNow)
        if remaining.isEmpty { self.commitContinuation.yield() }
        for route in remaining {
            let item = SinkMessage(message: message, rulePayload: route.payload, rule: route.rule, deadLetterReason: route.deadLetterReason)
            guard let name = route.sink, let sink = self.sinks[name] else {
                // A rule failed on this message and has no error action: the dead letter, with the rule's error.
                await self.sendToDeadLetter(item, kind: Self.deadLetterKind(route)) {
                    self.targetFinished(id, target: route.target, deadLettered: true)
                }
                continue
            }
            if let cap = self.caps[name] { await cap.acquire(bytes: item.payload.count) }
            do {
                try await sink.send(item) { outcome in
                    self.sinkFinished(id, route: route, item: item, outcome: outcome)
                }
            } catch {
                // Shutting down: the flight stays open and is abandoned (released upstream) by the drain.
                return
            }
        }
    }

    /// A sink's outcome for one target of a flight.
    func sinkFinished(_ id: FlightTable<Inbound>.ID, route: Route, item: SinkMessage, outcome: SinkOutcome) {
        switch outcome {
        case .confirmed:
            if let sink = route.sink { self.metrics.out(sink) }
            self.targetFinished(id, target: route.target, deadLettered: false)
        case .refused(let reason):
            var dead = item
            dead.deadLetterReason = reason
            dead.refusedBy = route.sink
            Task { await self.sendToDeadLetter(dead, kind: "refused") { self.targetFinished(id, target: route.target, deadLettered: true) } }
        case .abandoned:
            break
        }
    }

    func targetFinished(_ id: FlightTable<Inbound>.ID, target: String, deadLettered: Bool) {
        let settleNow = self.table.withLock { $0.targetFinished(id, target: target, deadLettered: deadLettered) }
        self.settle(settleNow)
        self.commitContinuation.yield()
    }

    /// The reason a dead-letter route is counted under (`iotbridge_dead_lettered_total{reason=…}`).
    static func deadLetterKind(_ route: Route) -> String {
        let reason = route.deadLetterReason ?? ""
        if route.rule != nil { return "rule-failed" }
        if reason.hasPrefix("undecodable") { return "undecodable" }
        if reason.contains("maxMessageSize") { return "too-large" }
        return "invalid"
    }

    func sendToDeadLetter(_ item: SinkMessage, kind: String, confirmed: @escaping @Sendable () -> Void) async {
        self.logger.info(
            "dead-lettered",
            metadata: ["messageId": "\(item.message.messageId ?? "-")", "upstream": "\(item.message.upstream)", "reason": "\(item.deadLetterReason ?? "")"]
        )
        self.statistics.withLock { $0.deadLettered[kind, default: 0] += 1 }
        self.metrics.deadLettered(kind)
        do {
            try await self.deadLetter.send(item) { outcome in
                if outcome == .confirmed { confirmed() }
            }
        } catch {
            // Shutting down: the message stays unsettled upstream.
        }
    }

    // MARK: - Recording and settling

    /// Records finished targets in groups (one store transaction per group), then settles the upstream
    /// deliveries those records guard.
    func commitLoop() async throws {
        for await _ in self.commitSignal {
            await self.commitOnce()
        }
        await self.commitOnce()
    }

    func commitOnce() async {
        let (updates, settle) = self.table.withLock { $0.takeUpdates() }
        if !updates.isEmpty {
            do {
                try await self.withStoreRetry("record") { try await self.store.record(updates) }
            } catch {
                // Draining with the store failing: nothing is settled; everything is redelivered.
                return
            }
        }
        self.settle(settle)
        let rechecks = self.recheck.withLock { list -> [(BridgeMessage, Inbound)] in
            defer { list.removeAll() }
            return list
        }
        if !rechecks.isEmpty {
            if updates.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
            await self.claimAndDeliver(rechecks)
        }
    }

    /// Retries a store operation with backoff while the bridge runs: a store error must stop settlement, never
    /// skip it. Throws only when draining.
    func withStoreRetry<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch {
                attempt += 1
                if attempt == 1 || attempt % 20 == 0 {
                    self.logger.error("state store \(what) failed; retrying", metadata: ["error": "\(error)"])
                }
                if self.isDraining && attempt > 3 { throw error }
                try? await Task.sleep(for: .milliseconds(min(2000, 50 * attempt)))
            }
        }
    }

    /// Accepts deliveries, one hand-over per receiver.
    func settle(_ inbound: [Inbound]) {
        guard !inbound.isEmpty else { return }
        let now = ContinuousClock.now
        var bySlot: [Int: [AMQPDelivery]] = [:]
        for item in inbound {
            bySlot[item.slot, default: []].append(item.delivery)
            self.metrics.settleLatency.recordNanoseconds(Int64(item.receivedAt.duration(to: now).components.attoseconds / 1_000_000_000) + item.receivedAt.duration(to: now).components.seconds * 1_000_000_000)
        }
        let receivers = self.receivers.withLock { $0 }
        for (slot, deliveries) in bySlot {
            if let receiver = receivers[slot] {
                receiver.settle(deliveries, .accepted)
            } else {
                for delivery in deliveries { delivery.accept() }
            }
        }
        self.statistics.withLock { $0.settled += inbound.count }
    }

    // MARK: - Maintenance and shutdown

    /// Bounds the de-duplication window, refreshes gauges and detects stalled upstreams.
    func maintenanceLoop() async {
        var tick = 0
        while !self.isDraining {
            try? await Task.sleep(for: .seconds(1))
            tick += 1
            let inFlight = self.table.withLock { $0.count }
            self.metrics.inFlight.record(inFlight)
            self.statistics.withLock { $0.inFlight = inFlight }
            self.detectStalls()
            self.releaseLongWaitingDuplicates()
            // Claims of messages still in flight (a sink retrying for minutes) must not expire under them.
            let lease = self.configuration.dedup.lease
            if tick % max(1, Int(lease.components.seconds / 3)) == 0 {
                try? await self.store.renewLeases(owner: self.runID, until: Self.nowMilliseconds() + Int64(lease.components.seconds * 1000))
            }
            guard tick % 10 == 1 else { continue }
            let window = self.configuration.dedup
            let cutoff = Self.nowMilliseconds() - Int64(window.window.components.seconds * 1000)
            if let expiry = try? await self.store.expire(createdBefore: cutoff, maxEntries: window.maxEntries, now: Self.nowMilliseconds()) {
                if expiry.evictedEarly > 0 {
                    self.logger.warning(
                        "de-dup window full: evicted claims before their time (raise dedup.maxEntries)",
                        metadata: ["evicted": "\(expiry.evictedEarly)"]
                    )
                    self.statistics.withLock { $0.dedupEvictedEarly += expiry.evictedEarly }
                    self.metrics.dedupEvictedEarly.increment(by: expiry.evictedEarly)
                }
            }
            if let size = try? await self.store.claimCount() {
                self.statistics.withLock { $0.windowSize = size }
                self.metrics.windowSize.record(size)
            }
        }
    }

    /// Duplicates that waited `dedup.duplicateWait` for their original go back to their upstream (released): they
    /// must not hold its credit for as long as a sink is down. Redelivered later, they find the original done.
    func releaseLongWaitingDuplicates() {
        let now = ContinuousClock.now
        let limit = self.configuration.dedup.duplicateWait
        let expired = self.table.withLock { table in
            table.detachDuplicates { $0.receivedAt.duration(to: now) > limit }
        }
        guard !expired.isEmpty else { return }
        for item in expired { item.delivery.release() }
        self.logger.debug("released duplicates that waited too long for their original", metadata: ["count": "\(expired.count)"])
    }

    func detectStalls() {
        let now = self.started.duration(to: .now)
        let seconds = Double(now.components.seconds)
        let stallAfter = Double(self.configuration.stallAfter.components.seconds)
        self.statistics.withLock { statistics in
            let flowing = statistics.upstreams.values.contains { ($0.lastMessageAt ?? -1e9) > seconds - stallAfter }
            for name in statistics.upstreams.keys {
                var upstream = statistics.upstreams[name]!
                if let last = upstream.lastMessageAt { self.metrics.lastMessageAge(name, seconds - last) }
                let quiet = (upstream.lastMessageAt ?? 0) < seconds - stallAfter
                if upstream.connectionsOpen > 0, quiet, flowing {
                    if upstream.state != "stalled" {
                        self.logger.warning("upstream stalled: connected but nothing delivered while another flows", metadata: ["upstream": "\(name)"])
                    }
                    upstream.state = "stalled"
                    self.metrics.stalled(name, true)
                } else if upstream.connectionsOpen > 0 {
                    upstream.state = "flowing"
                    self.metrics.stalled(name, false)
                }
                statistics.upstreams[name] = upstream
            }
        }
    }

    private let drainWaiters = Mutex<[CheckedContinuation<Void, Never>]>([])

    func waitUntilDraining() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = self.drainWaiters.withLock { waiters -> Bool in
                if self.isDraining { return true }
                waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Starts a graceful shutdown: no more credit anywhere.
    public func beginDrain() {
        guard !self.draining.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.logger.info("draining: granting no more credit; finishing in-flight messages")
        self.statistics.withLock { statistics in
            statistics.state = "draining"
            for name in statistics.upstreams.keys { statistics.upstreams[name]!.state = "draining" }
        }
        for receiver in self.receivers.withLock({ Array($0.values) }) { receiver.stopCredit() }
        let waiters = self.drainWaiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Finishes in-flight work within the deadline, records and settles it, releases the rest, closes.
    func drain() async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: self.configuration.shutdownDeadline)
        while clock.now < deadline {
            let busy = self.table.withLock { $0.count > 0 || $0.hasUpdates }
            if !busy { break }
            self.commitContinuation.yield()
            try? await Task.sleep(for: .milliseconds(20))
        }
        await self.commitOnce()
        let (release, abandon) = self.table.withLock { $0.abandonAll() }
        if !abandon.isEmpty { try? await self.store.abandon(abandon, owner: self.runID) }
        for item in release { item.delivery.release() }
        if !release.isEmpty {
            self.logger.warning("shutdown deadline reached: released unfinished messages for redelivery", metadata: ["count": "\(release.count)"])
        }
        let remaining = max(.milliseconds(100), clock.now.duration(to: deadline))
        for name in self.sinkOrder { await self.sinks[name]!.shutdown(deadline: remaining) }
        await self.deadLetter.shutdown(deadline: .milliseconds(500))
        for receiver in self.receivers.withLock({ Array($0.values) }) { receiver.close() }
        for connection in self.connections.withLock({ Array($0.values) }) { await connection.close() }
        self.statistics.withLock { statistics in
            for name in statistics.upstreams.keys { statistics.upstreams[name]!.state = "stopped" }
        }
    }

    /// A snapshot of the counters.
    public var currentStatistics: BridgeStatistics { self.statistics.withLock { $0 } }

    /// Each sink's state, in configuration order, then the dead letter's.
    public var sinkStates: [(name: String, state: SinkState)] {
        self.sinkOrder.map { ($0, self.sinks[$0]!.state) } + [("deadLetter", self.deadLetter.state)]
    }
}
