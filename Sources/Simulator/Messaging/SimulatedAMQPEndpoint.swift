//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import IoTPlatform
import Logging
import Synchronization

/// A simulated instance's AMQP 1.0 endpoint, behaving as the platform documents its server-side subscription
/// (reference §1): TLS (or plain TCP when asked), SASL PLAIN with aksign / ststoken logins checked against the
/// configured AccessKeys and the instance's consumer groups (a bad signature or an unknown group fails the login:
/// the client sees `amqp:unauthorized-access`), exactly one receiver link per connection and no sender links,
/// the receiver attached within the attach timeout, the idle-time-out range enforced at Open, and each consumer
/// group a queue with at-least-once delivery (`ConsumerGroupQueues`).
///
/// The link source address is ignored, as on the platform (the official samples use none, `default`,
/// `/queue-name` and null alike).
public final class SimulatedAMQPEndpoint: Sendable {
    private struct Consumer {
        var sender: AMQPSender
        var group: String
    }

    private struct State {
        var queues: ConsumerGroupQueues
        /// nil until the instance names its groups: every login fails.
        var verifier: PlatformLoginVerifier?
        var consumers: [UInt64: Consumer] = [:]
        var nextConsumer: UInt64 = 1
        var stopped = false
    }

    /// The instance this endpoint belongs to, for logs.
    public let instanceName: String
    /// The settings it was made with.
    public let settings: SimulatedAMQPSettings
    private let engine: AMQPEngine
    private let logger: Logger
    private let locked: Mutex<State>
    private let listenerBox = Mutex<AMQPListener?>(nil)
    private let tlsBox = Mutex<AMQPListenerConfiguration.TLS?>(nil)
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let actions: AsyncStream<[ConsumerGroupQueues.Action]>
    private let actionContinuation: AsyncStream<[ConsumerGroupQueues.Action]>.Continuation

    /// Creates an endpoint; `start(certificateDirectory:)` listens.
    public init(instanceName: String, settings: SimulatedAMQPSettings, engine: AMQPEngine, logger: Logger) {
        self.instanceName = instanceName
        self.settings = settings
        self.engine = engine
        self.logger = logger
        let queues = ConsumerGroupQueues(ackTimeout: settings.ackTimeout, retention: settings.retention)
        self.locked = Mutex(State(queues: queues, verifier: nil))
        (self.actions, self.actionContinuation) = AsyncStream.makeStream(of: [ConsumerGroupQueues.Action].self)
    }

    /// The bound port, nil before `start`.
    public var port: Int? { self.listenerBox.withLock { $0?.port } }

    /// Whether clients must use TLS.
    public var usesTLS: Bool {
        if case .plain = self.settings.transport { return false }
        return true
    }

    /// The certificate clients should trust (the self-signed one made at start, or the given one); nil for plain TCP.
    public var certificateFile: String? { self.tlsBox.withLock { $0?.certificateFile } }

    /// `amqps://host:port` (or `amqp://`), for people and tests.
    public var url: String {
        let host = self.settings.host == "0.0.0.0" ? "127.0.0.1" : self.settings.host
        return "\(self.usesTLS ? "amqps" : "amqp")://\(host):\(self.port ?? self.settings.port)"
    }

    /// Counters of one consumer group, nil if it does not exist.
    public func counters(of group: String) -> ConsumerGroupQueues.GroupCounters? {
        self.locked.withLock { $0.queues.counters(of: group) }
    }

    /// What the listener refused and accepted.
    public var listenerStatistics: AMQPListenerStatistics? { self.listenerBox.withLock { $0?.statistics } }

    // MARK: - Consumer groups

    /// The instance's consumer groups now: logins to any other group fail; each of these exists as a queue.
    /// Called when the control plane changes (a group created through the OpenAPI can be logged in to from then).
    public func setConsumerGroups(_ ids: Set<String>) {
        let keys = self.settings.accessKeys
        let groups = ids.sorted().map { PlatformLoginVerifier.ConsumerGroup(id: $0, accessKeys: keys) }
        guard let verifier = try? PlatformLoginVerifier(consumerGroups: groups) else { return }
        self.locked.withLock { state in
            state.verifier = verifier
            for id in ids { state.queues.ensureGroup(id) }
        }
    }

    /// Routes `message` to `groups`; each delivers it at least once to one of its consumers.
    public func publish(_ message: SimulatedMessage, to groups: [String]) {
        guard !groups.isEmpty else { return }
        let actions = self.locked.withLock { state -> [ConsumerGroupQueues.Action] in
            guard !state.stopped else { return [] }
            return state.queues.publish(message, to: groups, now: .now)
        }
        self.submit(actions)
    }

    // MARK: - Start

    /// Listens; a self-signed certificate is made in `certificateDirectory` when the transport asks for one.
    public func start(certificateDirectory: String) async throws(SimulatorError) {
        var tls: AMQPListenerConfiguration.TLS?
        switch self.settings.transport {
        case .selfSignedTLS: tls = try SelfSignedCertificate.make(in: certificateDirectory)
        case .tls(let given): tls = given
        case .plain: tls = nil
        }
        self.tlsBox.withLock { $0 = tls }
        var configuration = AMQPListenerConfiguration(host: self.settings.host, port: self.settings.port, tls: tls)
        configuration.containerID = "iotbridge-sim-\(self.instanceName)"
        configuration.allowInsecure = tls == nil
        configuration.limits.maxLinksPerConnection = 1
        configuration.limits.attachTimeout = self.settings.attachTimeout
        configuration.limits.idleTimeoutRange = self.settings.idleTimeoutRange
        configuration.limits.maxConnectionsPerAddress = self.settings.maxConnectionsPerAddress
        configuration.limits.maxConnections = max(configuration.limits.maxConnections, self.settings.maxConnectionsPerAddress)
        configuration.sendWindow = 1001
        let logger = self.logger
        let name = self.instanceName
        configuration.authenticator = AMQPAuthenticator { [weak self] username, password in
            guard let self else { return false }
            guard let verifier = self.locked.withLock({ $0.verifier }) else { return false }
            switch verifier.verify(username: username, password: password) {
            case .success(let login):
                logger.info("sim amqp login", metadata: ["instance": "\(name)", "client": "\(login)"])
                return true
            case .failure(let error):
                // Names the clientId and why; never the password or a secret.
                logger.notice("sim amqp login refused", metadata: ["instance": "\(name)", "reason": "\(error.message)"])
                return false
            }
        }
        configuration.linkAdmission = AMQPLinkAdmission { [weak self] direction, _, peer in
            guard direction == .consuming else {
                return AMQPCondition(
                    name: "amqp:not-allowed",
                    description: "the platform only pushes: attach a receiver link, sender links are not supported"
                )
            }
            guard let self, let user = peer.user else {
                return AMQPCondition(name: AMQPCondition.unauthorizedAccess, description: "log in with an aksign or ststoken login")
            }
            return self.locked.withLock { state -> AMQPCondition? in
                if state.stopped {
                    return AMQPCondition(name: AMQPCondition.resourceLimitExceeded, description: "the instance is shutting down")
                }
                guard let verifier = state.verifier, let group = verifier.consumerGroup(ofVerifiedUsername: user),
                    verifier.consumerGroups[group] != nil
                else {
                    return AMQPCondition(name: AMQPCondition.unauthorizedAccess, description: "the consumer group no longer exists")
                }
                return nil
            }
        }
        let listener: AMQPListener
        do {
            listener = try await self.engine.listen(configuration)
        } catch {
            throw SimulatorError(
                .endpointUnavailable,
                "instance \(self.instanceName): cannot listen on \(self.settings.host):\(self.settings.port): \(error)"
            )
        }
        self.listenerBox.withLock { $0 = listener }
        let accept = Task { await self.acceptLinks(listener) }
        let perform = Task { await self.performActions() }
        let timer = Task { await self.ackTimer() }
        self.tasks.withLock { $0 = [accept, perform, timer] }
    }

    private func acceptLinks(_ listener: AMQPListener) async {
        for await link in listener.links {
            guard case .consuming(let sender, let peer) = link else { continue }
            let group = self.locked.withLock { $0.verifier?.consumerGroup(ofVerifiedUsername: peer.user ?? "") }
            guard let group else {
                sender.close()
                continue
            }
            let id = self.locked.withLock { state -> UInt64 in
                let id = state.nextConsumer
                state.nextConsumer += 1
                state.consumers[id] = Consumer(sender: sender, group: group)
                state.queues.consumerAttached(group: group, id)
                return id
            }
            self.logger.info(
                "sim amqp consumer attached",
                metadata: ["instance": "\(self.instanceName)", "group": "\(group)", "consumer": "\(id)", "peer": "\(peer.remoteAddress)"]
            )
            sender.observeCredit { [weak self] credit in
                guard let self else { return }
                self.submit(self.locked.withLock { $0.queues.creditChanged(group: group, id, credit, now: .now) })
            }
            Task {
                await sender.waitClosed()
                let actions = self.locked.withLock { state in
                    state.consumers.removeValue(forKey: id)
                    return state.queues.consumerDetached(group: group, id, now: .now)
                }
                self.logger.info("sim amqp consumer detached", metadata: ["instance": "\(self.instanceName)", "group": "\(group)", "consumer": "\(id)"])
                self.submit(actions)
            }
        }
    }

    private func submit(_ actions: [ConsumerGroupQueues.Action]) {
        guard !actions.isEmpty else { return }
        self.actionContinuation.yield(actions)
    }

    /// Performs actions in the order the queues produced them, on one task: a send reaches its link before a later
    /// `drained` for the same link.
    private func performActions() async {
        for await batch in self.actions {
            for action in batch {
                switch action {
                case .send(let group, let consumer, let id, let message, let deliveryCount, let attempt):
                    await self.transmit(group: group, consumer: consumer, id: id, message: message, deliveryCount: deliveryCount, attempt: attempt)
                case .drained(_, let consumer):
                    self.locked.withLock { $0.consumers[consumer]?.sender }?.drained()
                }
            }
        }
    }

    private func transmit(group: String, consumer: UInt64, id: UInt64, message: SimulatedMessage, deliveryCount: UInt32, attempt: UInt64) async {
        let report: @Sendable (ConsumerGroupDispatch<SimulatedMessage>.SendOutcome) -> Void = { [weak self] outcome in
            guard let self else { return }
            self.submit(self.locked.withLock { $0.queues.outcome(group: group, id: id, attempt: attempt, outcome, now: .now) })
        }
        guard let sender = self.locked.withLock({ $0.consumers[consumer]?.sender }) else {
            report(.notSent)
            return
        }
        do {
            try await sender.enqueue(message.amqpMessage(deliveryCount: deliveryCount)) { result in
                switch result {
                case .success(let outcome): report(.disposition(outcome))
                case .failure: report(.notSent)
                }
            }
        } catch {
            report(.notSent)
        }
    }

    private func ackTimer() async {
        let period = min(.seconds(1), self.settings.ackTimeout / 4)
        while !Task.isCancelled {
            try? await Task.sleep(for: period)
            self.submit(self.locked.withLock { $0.queues.tick(now: .now) })
        }
    }

    // MARK: - Stop

    /// Closes every consumer link and the listener; messages not accepted stay in the queues (and are gone with
    /// the process: the simulator keeps nothing on disk).
    public func shutdown() async {
        let senders = self.locked.withLock { state -> [AMQPSender] in
            state.stopped = true
            return state.consumers.values.map(\.sender)
        }
        for sender in senders { sender.close() }
        let listener = self.listenerBox.withLock { $0 }
        await listener?.close()
        self.actionContinuation.finish()
        for task in self.tasks.withLock({ $0 }) { task.cancel() }
    }
}
