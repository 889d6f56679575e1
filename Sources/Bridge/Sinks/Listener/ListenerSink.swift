//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import IoTPlatform
import Logging
import Metrics
import Synchronization

/// Serves the merged stream as an AMQP 1.0 endpoint, the way the platform serves consumer groups (reference §1):
/// backends log in with their platform login (aksign/ststoken, checked by `PlatformLoginVerifier`) or a plain
/// user, attach a receiver with any source address, and get the messages of their login's consumer group.
///
/// Each configured group is one subscription: every message goes to every group, and is confirmed to the bridge
/// (settled upstream) once each group's consumer that got it accepted it. Within a group the rules of
/// `ConsumerGroupDispatchCore` apply (competing consumers, credit, redelivery, drain, each consumer's
/// max-message-size); the sink keeps each message's bytes once for all groups. A group with no consumer holds
/// its messages, which stay unsettled upstream; /status says so (`notes`).
///
/// With `migrationEvents`, receivers that attach with the source address `migration-events` share one more
/// dispatch, fed by the outbox (``eventsLink``) instead of the merged stream.
///
/// Actions are performed where they arise, under the sink's lock, in the order the dispatch returned them (a
/// send reaches its link before a later `drained`): a send is one non-blocking hand-over to the proactor (the
/// dispatch never sends more than a consumer's credit, so the link's window never fills), and an outcome that
/// settles a message calls the bridge's completion right after the lock is left, on the thread that reported it
/// (the proactor's). No task hop per message.
final class ListenerSink: Sink {
    /// Which dispatch a consumer link reads from.
    private enum Route: Hashable, CustomStringConvertible {
        /// A consumer group's share of the merged stream.
        case group(String)
        /// The migration-status events.
        case events

        var description: String {
            switch self {
            case .group(let id): "consumer group \(id)"
            case .events: ListenerReservedAddress.migrationEvents
            }
        }
    }

    /// One consumer link.
    private struct Consumer {
        var sender: AMQPSender
        var route: Route
        var peer: AMQPPeer
    }

    /// A message some groups still hold.
    private struct Pending {
        /// What a consumer receives (a redelivery adds a header with its delivery-count).
        var bytes: [UInt8]
        var completion: @Sendable (SinkOutcome) -> Void
        var remaining: Int
        var refusals: [String] = []
        var abandoned = false
        /// An event from the outbox: it does not count against the message window or the sink's figures.
        var isEvent = false
    }

    private struct State {
        var groups: [String: ConsumerGroupDispatchCore] = [:]
        /// The `migration-events` dispatch, when the sink serves events.
        var events: ConsumerGroupDispatchCore?
        var pending: [UInt64: Pending] = [:]
        var consumers: [UInt64: Consumer] = [:]
        /// Consumer links per route, counted from admission (so the limit holds under a burst of attaches).
        var admitted: [Route: Int] = [:]
        var nextMessage: UInt64 = 1
        var nextConsumer: UInt64 = 1
        var sinkState = SinkState(phase: "starting")
        var stopped = false

        /// Runs `body` on the route's dispatch; nil when there is none.
        mutating func dispatch<Result>(
            _ route: Route,
            _ body: (inout ConsumerGroupDispatchCore) -> Result
        ) -> Result? {
            // In place: `groups[id] != nil` would copy the dispatch (and retain all its storage) just to compare.
            switch route {
            case .group(let id):
                guard let index = self.groups.index(forKey: id) else { return nil }
                return body(&self.groups.values[index])
            case .events:
                guard self.events != nil else { return nil }
                return body(&self.events!)
            }
        }

        /// Every route, groups in name order, then events.
        var routes: [Route] {
            self.groups.keys.sorted().map(Route.group) + (self.events == nil ? [] : [.events])
        }
    }

    /// Actions of one route, to perform in order.
    private typealias Batch = (route: Route, actions: [ConsumerGroupDispatchCore.Action])

    /// A message every route is done with: its completion, called once the lock is left.
    private struct Finished {
        var completion: @Sendable (SinkOutcome) -> Void
        var outcome: SinkOutcome
        /// Whether it held a place in the message window (events do not).
        var releasesWindow: Bool
    }

    /// Prometheus figures of one route (`group` is the consumer group id, or `migration-events`). A class: it is
    /// looked up per message, and a copy of eight metric handles was eight retains.
    private final class RouteMetrics: Sendable {
        let sent: Counter
        let redelivered: Counter
        let accepted: Counter
        let refused: Counter
        let abandoned: Counter
        let consumers: Gauge
        let waiting: Gauge
        let unsettled: Gauge

        init(sink: String, group: String) {
            let dimensions = [("sink", sink), ("group", group)]
            self.sent = Counter(label: "iotbridge_listener_sent_total", dimensions: dimensions)
            self.redelivered = Counter(label: "iotbridge_listener_redelivered_total", dimensions: dimensions)
            self.accepted = Counter(label: "iotbridge_listener_settled_total", dimensions: dimensions + [("outcome", "accepted")])
            self.refused = Counter(label: "iotbridge_listener_settled_total", dimensions: dimensions + [("outcome", "refused")])
            self.abandoned = Counter(label: "iotbridge_listener_settled_total", dimensions: dimensions + [("outcome", "abandoned")])
            self.consumers = Gauge(label: "iotbridge_listener_consumers", dimensions: dimensions)
            self.waiting = Gauge(label: "iotbridge_listener_waiting", dimensions: dimensions)
            self.unsettled = Gauge(label: "iotbridge_listener_unsettled", dimensions: dimensions)
        }
    }

    let name: String
    let settings: ListenerSinkSettings
    let logger: Logger
    private let engine: AMQPEngine
    private let verifier: PlatformLoginVerifier
    private let window: SinkWindow
    private let locked = Mutex(State())
    private let listenerBox = Mutex<AMQPListener?>(nil)
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let metrics: [Route: RouteMetrics]
    /// The configured groups' routes in name order: every message is offered to each.
    private let groupRoutes: [Route]

    init(name: String, settings: ListenerSinkSettings, engine: AMQPEngine, logger: Logger) {
        self.name = name
        self.settings = settings
        self.engine = engine
        self.logger = logger
        self.verifier = settings.logins
        self.window = SinkWindow(capacity: settings.window)
        self.groupRoutes = settings.logins.consumerGroups.keys.sorted().map(Route.group)
        var metrics: [Route: RouteMetrics] = [:]
        for group in settings.logins.consumerGroups.keys {
            metrics[.group(group)] = RouteMetrics(sink: name, group: group)
        }
        if settings.migrationEvents {
            metrics[.events] = RouteMetrics(sink: name, group: ListenerReservedAddress.migrationEvents)
        }
        self.metrics = metrics
        self.locked.withLock { state in
            for group in settings.logins.consumerGroups.keys {
                state.groups[group] = ConsumerGroupDispatchCore(ackTimeout: settings.ackTimeout, maxOutstanding: settings.window)
            }
            if settings.migrationEvents {
                state.events = ConsumerGroupDispatchCore(ackTimeout: settings.ackTimeout, maxOutstanding: settings.window)
            }
        }
    }

    /// The sink the outbox delivers migration-status events to, when this listener serves them.
    var eventsLink: (any Sink)? {
        self.settings.migrationEvents ? ListenerEventsLink(listener: self) : nil
    }

    /// The bound port (for a configuration with port 0).
    var port: Int? { self.listenerBox.withLock { $0?.port } }

    // MARK: - Start

    func start() async throws {
        var configuration = AMQPListenerConfiguration(host: self.settings.host, port: self.settings.port, tls: self.settings.tls)
        configuration.containerID = "iotbridge-\(self.name)"
        configuration.allowInsecure = self.settings.allowInsecure
        configuration.limits.maxMessageSize = self.settings.maxMessageSize
        configuration.limits.maxLinksPerSession = self.settings.maxLinksPerSession
        // The group never has more than `window` sends outstanding per consumer, so a send never waits for the link.
        configuration.sendWindow = self.settings.window + 1
        // A group's clients may be many connections from one host (the Java sample opens up to 64).
        configuration.limits.maxConnectionsPerAddress = max(
            configuration.limits.maxConnectionsPerAddress,
            self.settings.maxConsumersPerGroup
        )
        let verifier = self.verifier
        let logger = self.logger
        let sinkName = self.name
        configuration.authenticator = AMQPAuthenticator { username, password in
            switch verifier.verify(username: username, password: password) {
            case .success(let login):
                logger.info("listener login", metadata: ["sink": "\(sinkName)", "client": "\(login)"])
                return true
            case .failure(let error):
                // The message names the clientId and why; never the password or a secret.
                logger.warning("listener login refused", metadata: ["sink": "\(sinkName)", "reason": "\(error.message)"])
                return false
            }
        }
        configuration.linkAdmission = AMQPLinkAdmission { [weak self] direction, address, peer in
            guard let self else {
                return AMQPCondition(name: "amqp:resource-limit-exceeded", description: "the sink is shutting down")
            }
            return self.admit(direction, address, peer)
        }
        let listener: AMQPListener
        do {
            listener = try await self.engine.listen(configuration)
        } catch let error as AMQPError {
            throw BridgeError(.sinkUnavailable, "sink \(self.name): cannot listen on \(self.settings.host):\(self.settings.port): \(error.message)")
        }
        self.listenerBox.withLock { $0 = listener }
        self.locked.withLock { $0.sinkState.phase = "holding" }
        self.updatePhase()
        self.logger.info(
            "listener sink listening",
            metadata: [
                "sink": "\(self.name)", "port": "\(listener.port)", "tls": "\(self.settings.tls != nil)",
                "groups": "\(self.settings.logins.consumerGroups.keys.sorted().joined(separator: ","))",
            ]
        )
        let accept = Task { await self.acceptLinks(listener) }
        let timer = Task { await self.ackTimer() }
        self.tasks.withLock { $0 = [accept, timer] }
    }

    /// Proactor thread: whether to serve a link (nil) or refuse it (the condition).
    private func admit(_ direction: AMQPLinkAdmission.Direction, _ address: String?, _ peer: AMQPPeer) -> AMQPCondition? {
        guard direction == .consuming else {
            return AMQPCondition(
                name: "amqp:not-allowed",
                description: "the bridge only sends, as the platform does: attach a receiver, not a sender"
            )
        }
        if address == ListenerReservedAddress.migrationEvents, !self.settings.migrationEvents {
            return AMQPCondition(
                name: "amqp:not-found",
                description: "'\(ListenerReservedAddress.migrationEvents)' is reserved for migration-status events, "
                    + "which this listener does not serve (its sink needs 'migrationEvents: true'); attach with any "
                    + "other address (or none) for the messages"
            )
        }
        guard let route = self.route(address: address, user: peer.user) else {
            return AMQPCondition(name: "amqp:unauthorized-access", description: "log in with a platform login or a configured user")
        }
        let limit = self.settings.maxConsumersPerGroup
        return self.locked.withLock { state -> AMQPCondition? in
            if state.stopped {
                return AMQPCondition(name: "amqp:resource-limit-exceeded", description: "the bridge is shutting down")
            }
            let count = state.admitted[route, default: 0]
            guard count < limit else {
                return AMQPCondition(
                    name: "amqp:resource-limit-exceeded",
                    description: "\(route) already has \(count) consumers, the most allowed (maxConsumersPerGroup)"
                )
            }
            state.admitted[route] = count + 1
            return nil
        }
    }

    /// The dispatch a verified login's link reads from: the events for the reserved address (on a listener that
    /// serves them), the login's consumer group for any other; nil for a login this listener does not know.
    private func route(address: String?, user: String?) -> Route? {
        guard let user, let group = self.verifier.consumerGroup(ofVerifiedUsername: user) else { return nil }
        if address == ListenerReservedAddress.migrationEvents, self.settings.migrationEvents { return .events }
        return .group(group)
    }

    private func acceptLinks(_ listener: AMQPListener) async {
        for await link in listener.links {
            guard case .consuming(let sender, let peer) = link else {
                // Refused at admission; a publishing link never gets here.
                continue
            }
            guard let route = self.route(address: sender.address, user: peer.user) else {
                sender.close()
                continue
            }
            let id = self.locked.withLock { state -> UInt64 in
                let id = state.nextConsumer
                state.nextConsumer += 1
                state.consumers[id] = Consumer(sender: sender, route: route, peer: peer)
                _ = state.dispatch(route) { $0.consumerAttached(id, maxMessageSize: sender.peerMaxMessageSize) }
                return id
            }
            self.logger.info(
                "listener consumer attached",
                metadata: [
                    "sink": "\(self.name)", "group": "\(route)", "consumer": "\(id)", "peer": "\(peer.remoteAddress)",
                    "address": "\(sender.address ?? "<none>")",
                    "max_message_size": "\(sender.peerMaxMessageSize.map(String.init) ?? "none")",
                ]
            )
            self.updatePhase()
            sender.observeCredit { [weak self] credit in
                self?.creditChanged(consumer: id, route: route, credit)
            }
            Task {
                await sender.waitClosed()
                self.detached(consumer: id, route: route)
            }
        }
    }

    private func creditChanged(consumer: UInt64, route: Route, _ credit: AMQPSenderCredit) {
        // Reported after every message the link takes, and mostly with nothing to do: no batch then.
        self.run { state in Self.batch(route, state.dispatch(route) { $0.creditChanged(consumer, credit, now: .now) }) }
    }

    private func detached(consumer: UInt64, route: Route) {
        self.run { state in
            state.consumers.removeValue(forKey: consumer)
            state.admitted[route, default: 1] -= 1
            return [(route, state.dispatch(route) { $0.consumerDetached(consumer, now: .now) } ?? [])]
        }
        self.logger.info("listener consumer detached", metadata: ["sink": "\(self.name)", "group": "\(route)", "consumer": "\(consumer)"])
        self.updatePhase()
    }

    // MARK: - Messages

    func send(_ message: SinkMessage, completion: @escaping @Sendable (SinkOutcome) -> Void) async throws {
        try await self.window.acquire()
        let bytes = Self.encoding(of: message, envelope: self.settings.envelope)
        let routes = self.groupRoutes
        self.run { state in
            let id = state.nextMessage
            state.nextMessage += 1
            state.sinkState.inFlight += 1
            state.pending[id] = Pending(bytes: bytes, completion: completion, remaining: routes.count)
            let now = ContinuousClock.now
            return routes.map { route in (route, state.dispatch(route) { $0.offer(id: id, size: bytes.count, now: now) } ?? []) }
        }
    }

    /// Offers one migration-status event to the `migration-events` receivers; `completion` gets `.confirmed` once
    /// one of them accepted it. Events are bounded by the outbox's batch, not by the message window.
    func sendEvent(_ message: SinkMessage, completion: @escaping @Sendable (SinkOutcome) -> Void) {
        let bytes = message.message.forwardedEncoding
        var accepted = false
        self.run { state in
            guard !state.stopped, state.events != nil else { return [] }
            accepted = true
            let id = state.nextMessage
            state.nextMessage += 1
            state.pending[id] = Pending(bytes: bytes, completion: completion, remaining: 1, isEvent: true)
            return [(.events, state.events!.offer(id: id, size: bytes.count, now: .now))]
        }
        if !accepted { completion(.abandoned) }
    }

    /// What a consumer receives: the message as the platform sends it (the received encoding, `topic`,
    /// `messageId` and `generateTime` unchanged, plus `iotInstanceId`), or a rule's output with those properties;
    /// with a legacy envelope, that envelope as the data section, with the same properties.
    static func encoding(of item: SinkMessage, envelope: LegacyEnvelope = .platform) -> [UInt8] {
        if let body = envelope.body(for: item) {
            return AMQPSink.ruleMessage(item.message, payload: body).encoded()
        }
        if let payload = item.rulePayload {
            return AMQPSink.ruleMessage(item.message, payload: payload).encoded()
        }
        if item.message.forwardedEncoding.isEmpty {
            // Not decodable as AMQP: the bytes as a data section, so that the consumer still gets them.
            return AMQPSink.ruleMessage(item.message, payload: item.message.payload).encoded()
        }
        return item.message.forwardedEncoding
    }

    // MARK: - Performing actions

    /// Runs `produce` under the lock and performs the actions it returns, and those they lead to, in order, under
    /// the same lock; then completes the messages that finished, outside it.
    private func run(_ produce: (inout State) -> [Batch]) {
        let finished = self.locked.withLock { state -> [Finished] in
            var work = produce(&state)
            var finished: [Finished] = []
            var index = 0
            // A send that cannot be handed over comes back at once, and its new actions join the work.
            while index < work.count {
                let (route, actions) = work[index]
                index += 1
                for action in actions {
                    switch action {
                    case .send(let consumer, let id, let deliveryCount, let attempt):
                        // Kept until every group settled the message, which none does before its last send.
                        guard let bytes = state.pending[id]?.bytes else { continue }
                        let metrics = self.metrics[route]
                        metrics?.sent.increment()
                        if deliveryCount > 0 { metrics?.redelivered.increment() }
                        let sender = state.consumers[consumer]?.sender
                        if let notSent = self.transmit(route: route, sender: sender, id: id, bytes: bytes, deliveryCount: deliveryCount, attempt: attempt) {
                            work.append((route, state.dispatch(route) { $0.outcome(of: id, attempt: attempt, notSent, now: .now) } ?? []))
                        }
                    case .settle(let id, let outcome):
                        switch outcome {
                        case .confirmed: self.metrics[route]?.accepted.increment()
                        case .refused: self.metrics[route]?.refused.increment()
                        case .abandoned: self.metrics[route]?.abandoned.increment()
                        }
                        if let done = self.settle(id, outcome, route: route, in: &state) { finished.append(done) }
                    case .drained(let consumer):
                        state.consumers[consumer]?.sender.drained()
                    }
                }
            }
            return finished
        }
        for message in finished {
            if message.releasesWindow { self.window.release() }
            message.completion(message.outcome)
        }
    }

    /// The route's actions as work for `run`; no array at all when there are none.
    private static func batch(_ route: Route, _ actions: [ConsumerGroupDispatchCore.Action]?) -> [Batch] {
        guard let actions, !actions.isEmpty else { return [] }
        return [(route, actions)]
    }

    /// Hands one send to its consumer's link (under the lock); returns why it did not leave, nil once it is queued.
    /// Its outcome comes back on the proactor thread.
    private func transmit(
        route: Route,
        sender: AMQPSender?,
        id: UInt64,
        bytes: [UInt8],
        deliveryCount: UInt32,
        attempt: UInt64
    ) -> ConsumerGroupDispatchCore.SendOutcome? {
        guard let sender else { return .notSent }
        var encoded = bytes
        if deliveryCount > 0, let view = try? AMQPEncodedMessage(bytes: bytes) {
            encoded = view.forwarded(deliveryCount: deliveryCount)
        }
        if let limit = sender.peerMaxMessageSize, encoded.count > limit {
            // The dispatch chose this consumer for the offered size; a redelivery's header made it larger.
            return .tooLarge(size: encoded.count)
        }
        do {
            try sender.enqueueNow(encoded: encoded) { [weak self] result in
                let outcome: ConsumerGroupDispatchCore.SendOutcome
                switch result {
                case .success(let disposition): outcome = .disposition(disposition)
                case .failure: outcome = .notSent
                }
                self?.run { state in Self.batch(route, state.dispatch(route) { $0.outcome(of: id, attempt: attempt, outcome, now: .now) }) }
            }
        } catch {
            // The link ended meanwhile (its detach is on its way), or its window is full, which the dispatch's
            // bound on outstanding sends rules out.
            return .notSent
        }
        return nil
    }

    /// One route is done with a message (under the lock); returns the message once every group is (an event: its
    /// one route).
    private func settle(_ id: UInt64, _ outcome: ConsumerGroupDispatchCore.Settlement, route: Route, in state: inout State) -> Finished? {
        guard var pending = state.pending[id] else { return nil }
        switch outcome {
        case .confirmed: break
        case .refused(let reason): pending.refusals.append("\(route): \(reason)")
        case .abandoned: pending.abandoned = true
        }
        pending.remaining -= 1
        guard pending.remaining <= 0 else {
            state.pending[id] = pending
            return nil
        }
        state.pending.removeValue(forKey: id)
        let result: SinkOutcome
        if pending.abandoned {
            result = .abandoned
        } else if !pending.refusals.isEmpty {
            result = .refused("sink \(self.name): \(pending.refusals.joined(separator: "; "))")
            if !pending.isEvent { state.sinkState.refused += 1 }
        } else {
            result = .confirmed
            if !pending.isEvent { state.sinkState.confirmed += 1 }
        }
        if !pending.isEvent { state.sinkState.inFlight -= 1 }
        return Finished(completion: pending.completion, outcome: result, releasesWindow: !pending.isEvent)
    }

    private func ackTimer() async {
        let period = min(.seconds(1), self.settings.ackTimeout / 4)
        while !Task.isCancelled {
            try? await Task.sleep(for: period)
            self.run { state in
                let now = ContinuousClock.now
                return state.routes.map { route in (route, state.dispatch(route) { $0.tick(now: now) } ?? []) }
            }
            self.updatePhase()
        }
    }

    /// flowing when every group has a consumer; holding (with a note per group that has none) otherwise.
    private func updatePhase() {
        self.locked.withLock { state in
            guard !state.stopped else { return }
            var notes: [String] = []
            for name in state.groups.keys.sorted() {
                let group = state.groups[name]!
                if group.consumerCount == 0 {
                    notes.append(
                        "consumer group \(name) has no consumer: \(group.waitingCount) messages held, unsettled upstream"
                    )
                } else {
                    notes.append(
                        "consumer group \(name): \(group.consumerCount) consumers, \(group.inFlightCount) unsettled, "
                            + "\(group.waitingCount) waiting for credit"
                    )
                }
            }
            if let events = state.events {
                notes.append(
                    "\(ListenerReservedAddress.migrationEvents): \(events.consumerCount) consumers, "
                        + "\(events.inFlightCount) unsettled, \(events.waitingCount) events waiting"
                )
            }
            state.sinkState.notes = notes
            state.sinkState.phase = state.groups.values.contains { $0.consumerCount == 0 } ? "holding" : "flowing"
            for route in state.routes {
                guard let metrics = self.metrics[route] else { continue }
                _ = state.dispatch(route) { dispatch in
                    metrics.consumers.record(dispatch.consumerCount)
                    metrics.waiting.record(dispatch.waitingCount)
                    metrics.unsettled.record(dispatch.inFlightCount)
                }
            }
        }
    }

    // MARK: - Stop

    func shutdown(deadline: Duration) async {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        // Stop dispatch: waiting messages stay unsettled upstream; those in flight may still be accepted.
        self.run { state in
            state.stopped = true
            state.sinkState.phase = "stopping"
            return state.routes.map { route in (route, state.dispatch(route) { $0.stop() } ?? []) }
        }
        while self.locked.withLock({ !$0.pending.isEmpty }), clock.now < end {
            try? await Task.sleep(for: .milliseconds(20))
        }
        self.run { state in
            state.routes.map { route in (route, state.dispatch(route) { $0.abandonInFlight() } ?? []) }
        }
        let senders = self.locked.withLock { $0.consumers.values.map(\.sender) }
        for sender in senders { sender.close() }
        let listener = self.listenerBox.withLock { $0 }
        await listener?.close()
        self.window.close()
        for task in self.tasks.withLock({ $0 }) { task.cancel() }
        self.locked.withLock { $0.sinkState.phase = "stopped" }
    }

    var state: SinkState { self.locked.withLock { $0.sinkState } }
}

/// The outbox's view of a listener's `migration-events` address: a sink whose sends go to the receivers attached
/// there. The listener's lifecycle belongs to the bridge, so starting and stopping this view does nothing.
final class ListenerEventsLink: Sink {
    let listener: ListenerSink

    init(listener: ListenerSink) {
        self.listener = listener
    }

    var name: String { "\(self.listener.name)/\(ListenerReservedAddress.migrationEvents)" }

    func start() async throws {}

    func send(_ message: SinkMessage, completion: @escaping @Sendable (SinkOutcome) -> Void) async throws {
        self.listener.sendEvent(message, completion: completion)
    }

    func shutdown(deadline: Duration) async {}

    var state: SinkState { SinkState(phase: "events") }
}
