//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Logging

/// A connection a client opened to our listener. It runs `ServerConnectionStateMachine`: the client must log in
/// (when the listener requires it) and open within the handshake timeout, or it is closed before it can begin a
/// session; sessions and links are counted against the listener's limits; each link it attaches is handed to
/// the application. It ends with its transport; there is no reconnect on this side.
///
/// Timers (handshake deadline, a delayed SASL verdict, the grace for a refused client to read our Close) fire in
/// the proactor's own batch, so what they do to the connection is parked in `deferred` and done on
/// `PN_CONNECTION_WAKE`, inside the connection's batch, as Proton requires.
final class ServerConnectionDriver: ConnectionDriver {
    let policy: ListenerPolicy
    let inboundLinks: AsyncStream<AMQPInboundLink>.Continuation
    weak var listener: ListenerDriver?
    var machine: ServerConnectionStateMachine
    var peer = AMQPPeer(user: nil, mechanism: nil, containerID: "", remoteAddress: "")
    /// The client's IP address without the port: the key of per-address limits and failed logins.
    var remoteHost = ""
    /// What admission decided at accept, to undo exactly that at close; nil until `accepted`.
    var admission: ConnectionAdmission.Decision?
    /// Work for the connection's own batch.
    var deferred: [() -> Void] = []
    var handshakeTimer: UInt64?
    var verdictTimer: UInt64?
    var closeTimer: UInt64?
    var attachTimer: UInt64?
    /// The session each link we accepted is on (for the per-session link count).
    var sessionOfLink: [OpaquePointer: Int] = [:]
    var isTransportClosed = false
    var isCountedClosed = false

    /// How long a client we refused (at Open) or asked to close has to read our Close before the transport is
    /// closed under it.
    static let closeGrace: Duration = .seconds(2)

    init(listener: ListenerDriver, connection: OpaquePointer, state: ProactorState) {
        self.policy = listener.policy
        self.inboundLinks = listener.links
        self.listener = listener
        self.machine = ServerConnectionStateMachine(policy: listener.policy.connectionPolicy)
        super.init(id: ConnectionID.next(), label: "client", state: state)
        self.connection = connection
    }

    override var isOpen: Bool { self.machine.state == .open }

    private var limits: AMQPListenerConfiguration.Limits { self.policy.configuration.limits }

    /// The socket is attached (right after `pn_listener_accept2`): start the handshake deadline. Admission waits
    /// for `PN_CONNECTION_BOUND`: only then does Proton know the transport's addresses.
    func accepted() {
        self.policy.shared.count {
            $0.connectionsAccepted += 1
            $0.connectionsOpen += 1
        }
        self.handshakeTimer = self.state.timers.schedule(after: self.limits.handshakeTimeout) { [weak self] in
            guard let self else { return }
            self.handshakeTimer = nil
            guard case .closeTransport = self.machine.handshakeTimerFired() else { return }
            self.policy.shared.count { $0.handshakeTimeouts += 1 }
            self.logger.info(
                "amqp client did not log in and open within the handshake timeout; closing",
                metadata: ["amqp.timeout_s": "\(ReconnectPolicy.seconds(self.limits.handshakeTimeout))"]
            )
            self.inOwnBatch { $0.closeTransport() }
        }
    }

    /// The transport is bound: admit the client or not by its address. Called on `PN_CONNECTION_BOUND`; the SASL
    /// verdict calls it too if it comes first, so that no login is ever judged without its address. (Proton
    /// 0.37 hands out the bound event before it reads a byte, even from a client that sends its sasl-init with
    /// its first bytes; nothing in its API promises that order.)
    private func admit(_ transport: OpaquePointer) {
        var host = [CChar](repeating: 0, count: Int(PN_MAX_ADDR))
        var port = [CChar](repeating: 0, count: 32)
        if let remote = pn_transport_remote_addr(transport) {
            _ = pn_netaddr_host_port(remote, &host, host.count, &port, port.count)
        }
        self.remoteHost = ProtonListenerText.string(host)
        let portText = ProtonListenerText.string(port)
        self.peer.remoteAddress = self.remoteHost.contains(":") ? "[\(self.remoteHost)]:\(portText)" : "\(self.remoteHost):\(portText)"
        self.logger[metadataKey: "amqp.peer"] = "\(self.peer.remoteAddress)"
        let decision = self.policy.admission.accepted(from: self.remoteHost)
        self.admission = decision
        switch decision {
        case .admit:
            break
        case .refuse(let condition):
            self.machine = ServerConnectionStateMachine(policy: self.policy.connectionPolicy, admissionRefusal: condition)
            self.policy.shared.count { $0.connectionsRefused += 1 }
            self.logger.info("amqp connection refused at its Open: a connection limit is reached", metadata: ["amqp.reason": "\(condition.description)"])
        case .drop(let reason):
            self.policy.shared.count { $0.connectionsRefused += 1 }
            self.logger.info("amqp connection dropped: a connection limit is reached and many refusals are pending", metadata: ["amqp.reason": "\(reason)"])
            // Closed in its own batch: this may run inside Proton's input processing.
            self.inOwnBatch { $0.closeTransport() }
        }
    }

    /// Runs `action` in the connection's next batch (woken for it).
    private func inOwnBatch(_ action: @escaping (ServerConnectionDriver) -> Void) {
        guard let connection = self.connection, !self.isTransportClosed else { return }
        self.deferred.append { [weak self] in
            guard let self else { return }
            action(self)
        }
        pn_connection_wake(connection)
    }

    /// Closes the transport at once, without an AMQP Close (the client is not at a stage where it could read one,
    /// or did not read the one we sent).
    private func closeTransport() {
        guard let connection = self.connection, let transport = pn_connection_transport(connection) else { return }
        pn_transport_close_tail(transport)
        pn_transport_close_head(transport)
    }

    override func handle(_ event: OpaquePointer) {
        if pn_event_type(event) == PN_CONNECTION_BOUND, self.admission == nil, let transport = pn_event_transport(event) {
            self.admit(transport)
        }
        if pn_event_type(event) == PN_CONNECTION_WAKE && !self.deferred.isEmpty {
            let actions = self.deferred
            self.deferred.removeAll()
            for action in actions { action() }
        }
        super.handle(event)
    }

    // MARK: - SASL

    /// The SASL verdict on the client's sasl-init, from inside Proton's input processing (only proactor timers
    /// and this connection's state may be touched here). A success is answered at once, a failure after the
    /// failed-login delay; and while the client's address has recent failures, a success waits just as long, so
    /// that the time to the answer does not tell a guessing client whether it guessed right.
    func saslVerdict(_ verdict: ProtonSASLServer.Verdict) {
        guard let connection = self.connection, let transport = pn_connection_transport(connection),
            let session = ProtonSASLSession.session(transport)
        else { return }
        if self.admission == nil { self.admit(transport) }
        if case .drop = self.admission {
            session.fail(transport)
            return
        }
        let now = pn_proactor_now_64()
        var delay: Int64 = 0
        var succeededAs: String?
        switch verdict {
        case .succeeded(let user, let mechanism):
            self.machine.loggedIn(user: user, mechanism: mechanism)
            self.peer.mechanism = mechanism
            succeededAs = user
            delay = self.delayForPriorFailures(now: now)
        case .refused(let user, let mechanism, let condition):
            self.machine.loginRefused(condition)
            self.peer.mechanism = mechanism
            succeededAs = user
            delay = self.delayForPriorFailures(now: now)
        case .failed(let user, let mechanism):
            self.machine.loginFailed()
            let (failures, wait) = self.policy.throttle.failed(from: self.remoteHost, now: now)
            delay = wait
            self.policy.shared.count { $0.loginsFailed += 1 }
            self.logger.info(
                "amqp login failed",
                metadata: [
                    "amqp.user": "\(user ?? "")",
                    "amqp.mechanism": "\(mechanism)",
                    "amqp.failures_from_address": "\(failures)",
                    "amqp.answer_delay_ms": "\(wait)",
                ]
            )
        }
        guard delay > 0 else {
            if let user = succeededAs { session.succeed(transport, user: user) } else { session.fail(transport) }
            return
        }
        self.verdictTimer = self.state.timers.schedule(after: .milliseconds(delay)) { [weak self] in
            guard let self else { return }
            self.verdictTimer = nil
            self.inOwnBatch { driver in
                guard let connection = driver.connection, let transport = pn_connection_transport(connection),
                    let session = ProtonSASLSession.session(transport)
                else { return }
                if let user = succeededAs { session.succeed(transport, user: user) } else { session.fail(transport) }
            }
        }
    }

    private func delayForPriorFailures(now: Int64) -> Int64 {
        let failures = self.policy.throttle.failures(from: self.remoteHost, now: now)
        guard failures > 0 else { return 0 }
        // As long as the next failure from this address would wait.
        return self.policy.throttle.delay(forFailure: failures + 1)
    }

    // MARK: - Connection

    override func remoteOpened() {
        guard let connection = self.connection else { return }
        self.peer.containerID = pn_connection_remote_container(connection).map { String(cString: $0) } ?? ""
        let idleTimeout = pn_connection_transport(connection).map { Int(pn_transport_get_remote_idle_timeout($0)) } ?? 0
        switch self.machine.remoteOpened(idleTimeout: idleTimeout) {
        case .open(let user):
            self.state.timers.cancel(self.handshakeTimer)
            self.handshakeTimer = nil
            pn_connection_open(connection)
            self.armAttachDeadline()
            self.peer.user = user
            self.logger.debug(
                "amqp client connected",
                metadata: ["amqp.user": "\(user ?? "")", "amqp.mechanism": "\(self.peer.mechanism ?? "")"]
            )
        case .refuse(let condition):
            self.state.timers.cancel(self.handshakeTimer)
            self.handshakeTimer = nil
            // AMQP needs our Open before our Close; the Close carries why.
            pn_connection_open(connection)
            _ = cqp_condition_set_text(pn_connection_condition(connection), condition.name, condition.description)
            pn_connection_close(connection)
            if condition.name == AMQPCondition.unauthorizedAccess {
                self.policy.shared.count { $0.loginsRefused += 1 }
                self.logger.info("amqp connection refused: not logged in", metadata: ["amqp.reason": "\(condition.description)"])
            }
            self.armCloseGrace()
        case .none:
            break
        }
    }

    /// Closes the connection if the client attaches no link within the attach timeout (when one is configured).
    private func armAttachDeadline() {
        guard let timeout = self.limits.attachTimeout else { return }
        self.attachTimer = self.state.timers.schedule(after: timeout) { [weak self] in
            guard let self else { return }
            self.attachTimer = nil
            guard case .close(let condition) = self.machine.attachTimerFired(after: timeout) else { return }
            self.logger.info("amqp client attached no link in time; closing", metadata: ["amqp.reason": "\(condition.description)"])
            self.inOwnBatch { driver in
                guard let connection = driver.connection else { return }
                _ = cqp_condition_set_text(pn_connection_condition(connection), condition.name, condition.description)
                pn_connection_close(connection)
                driver.armCloseGrace()
            }
        }
    }

    /// Closes the transport if the client has not answered our Close within the grace period.
    private func armCloseGrace() {
        self.state.timers.cancel(self.closeTimer)
        self.closeTimer = self.state.timers.schedule(after: Self.closeGrace) { [weak self] in
            guard let self else { return }
            self.closeTimer = nil
            self.inOwnBatch { $0.closeTransport() }
        }
    }

    override func closeRequested() {
        guard let connection = self.connection else { return }
        if self.machine.state == .handshaking {
            // Nothing to say Close to yet.
            self.closeTransport()
            return
        }
        pn_connection_close(connection)
        self.armCloseGrace()
    }

    // MARK: - Sessions and links

    private static func key(_ session: OpaquePointer) -> Int { Int(bitPattern: UnsafeRawPointer(session)) }

    override func remoteBegan(_ session: OpaquePointer) {
        switch self.machine.sessionBegan(Self.key(session)) {
        case .accept:
            pn_session_open(session)
            self.session = session
        case .refuse(let condition):
            pn_session_open(session)
            _ = cqp_condition_set_text(pn_session_condition(session), condition.name, condition.description)
            pn_session_close(session)
            self.policy.shared.count { $0.sessionsRefused += 1 }
            self.logger.info("amqp session refused", metadata: ["amqp.reason": "\(condition.description)"])
        case .ignore:
            break
        }
    }

    override func remoteEnded(_ session: OpaquePointer) {
        guard self.machine.state == .open else { return }
        self.machine.sessionEnded(Self.key(session))
        if session == self.session { self.session = nil }
        // Both ends are ended: free it (and whatever links it still has) now, not with the connection.
        for (link, key) in self.sessionOfLink where key == Self.key(session) {
            self.sessionOfLink.removeValue(forKey: link)
        }
        pn_session_free(session)
    }

    override func remoteDetached(_ link: OpaquePointer) {
        guard let session = self.sessionOfLink.removeValue(forKey: link) else { return }
        self.machine.linkDetached(on: session)
    }

    override func remoteAttached(_ link: OpaquePointer) {
        guard let session = pn_link_session(link) else { return }
        var decision = self.machine.linkAttached(on: Self.key(session))
        if case .accept = decision, let admission = self.policy.configuration.linkAdmission {
            let consuming = pn_link_is_sender(link)
            let terminus = consuming ? pn_link_remote_source(link) : pn_link_remote_target(link)
            let address = pn_terminus_get_address(terminus).map { String(cString: $0) }
            if let condition = admission.check(consuming ? .consuming : .publishing, address, self.peer) {
                // The state machine counted the link; it is detached at once, so it counts no more.
                self.machine.linkDetached(on: Self.key(session))
                decision = .refuse(condition)
            }
        }
        switch decision {
        case .accept:
            self.sessionOfLink[link] = Self.key(session)
            self.machine.linkServed()
            self.adopt(link)
        case .refuse(let condition):
            // An attach is refused by attaching with null termini and detaching at once with the reason.
            pn_terminus_set_type(pn_link_source(link), PN_UNSPECIFIED)
            pn_terminus_set_type(pn_link_target(link), PN_UNSPECIFIED)
            pn_link_open(link)
            _ = cqp_condition_set_text(pn_link_condition(link), condition.name, condition.description)
            pn_link_close(link)
            self.policy.shared.count { $0.linksRefused += 1 }
            self.logger.info("amqp link refused", metadata: ["amqp.reason": "\(condition.description)"])
        case .ignore:
            break
        }
    }

    /// Serves a link the client attached and hands it to the application.
    private func adopt(_ link: OpaquePointer) {
        let engine = self.state.engine!
        if pn_link_is_sender(link) {
            // The client attached a receiver: we send to it.
            let address = pn_terminus_get_address(pn_link_remote_source(link)).map { String(cString: $0) }
            let shared = SenderShared(capacity: self.policy.configuration.sendWindow)
            let driver = SenderLinkDriver(id: LinkID.next(), address: address, name: "", shared: shared, owner: self)
            self.links[driver.id] = driver
            self.register(link, for: driver)
            driver.adopt(link)
            // 0: the client set no max-message-size (AMQP 1.0 §2.7.3).
            let limit = pn_link_remote_max_message_size(link)
            let sender = AMQPSender(
                engine: engine,
                connectionID: self.id,
                linkID: driver.id,
                address: address,
                shared: shared,
                peerMaxMessageSize: limit > 0 ? Int(clamping: limit) : nil
            )
            self.inboundLinks.yield(.consuming(sender, self.peer))
        } else {
            // The client attached a sender: it publishes to us.
            let address = pn_terminus_get_address(pn_link_remote_target(link)).map { String(cString: $0) }
            let shared = ReceiverShared(window: self.policy.configuration.credit)
            let driver = ReceiverLinkDriver(id: LinkID.next(), address: address, name: "", shared: shared, owner: self)
            driver.maxMessageSize = self.limits.maxMessageSize
            self.links[driver.id] = driver
            self.register(link, for: driver)
            driver.adopt(link)
            let receiver = AMQPReceiver(
                engine: engine,
                connectionID: self.id,
                linkID: driver.id,
                address: address,
                shared: shared,
                origin: self.peer.remoteAddress
            )
            self.inboundLinks.yield(.publishing(receiver, self.peer))
        }
    }

    override func inboundDeliveryRefused(_ refusal: InboundRefusal, on driver: ReceiverLinkDriver) {
        let address = driver.address ?? ""
        switch refusal {
        case .messageTooLarge(let limit):
            self.policy.shared.count { $0.messagesTooLarge += 1 }
            self.logger.info(
                "amqp link detached: the client sent a message over the max message size",
                metadata: ["amqp.address": "\(address)", "amqp.max_message_size": "\(limit)"]
            )
        case .transferLimitExceeded(let window):
            self.policy.shared.count { $0.transferLimitsExceeded += 1 }
            self.logger.info(
                "amqp link detached: the client sent more than its credit",
                metadata: ["amqp.address": "\(address)", "amqp.credit": "\(window)"]
            )
        case .undecodable(let error):
            self.policy.shared.count { $0.undecodableMessages += 1 }
            self.logger.info(
                "amqp delivery rejected: not a valid AMQP message",
                metadata: ["amqp.address": "\(address)", "amqp.error": "\(error.message)"]
            )
        }
    }

    // MARK: - End

    override func transportClosed(condition: AMQPCondition?) {
        let wasHandshaking = self.machine.state == .handshaking
        super.transportClosed(condition: condition)
        self.isTransportClosed = true
        self.machine.transportClosed()
        for timer in [self.handshakeTimer, self.verdictTimer, self.closeTimer, self.attachTimer] { self.state.timers.cancel(timer) }
        self.attachTimer = nil
        self.handshakeTimer = nil
        self.verdictTimer = nil
        self.closeTimer = nil
        self.deferred.removeAll()
        self.sessionOfLink.removeAll()
        if let admission = self.admission {
            self.policy.admission.closed(from: self.remoteHost, decision: admission)
        }
        // Counted open from accept (admitted or not); the sentinel keeps a second close from counting twice.
        self.admission = .drop(reason: "closed")
        if !self.isCountedClosed {
            self.isCountedClosed = true
            self.policy.shared.count { $0.connectionsOpen -= 1 }
        }
        if let condition, Self.isProtocolError(condition) {
            self.policy.shared.count { $0.protocolErrors += 1 }
            self.logger.info(
                wasHandshaking ? "amqp client connection failed before it opened" : "amqp client connection failed",
                metadata: ["amqp.error": "\(condition.name)", "amqp.reason": "\(ProtonLogging.redacted(condition.description))"]
            )
        } else {
            self.logger.debug("amqp client disconnected", metadata: ["amqp.condition": "\(condition?.name ?? "")"])
        }
        for driver in Array(self.links.values) { driver.connectionLost() }
        self.state.forget(server: self.id)
        self.listener?.connectionClosed()
    }

    /// Whether a transport ended because the client broke the protocol (as opposed to a login refusal, a
    /// timeout we enforced, or a plain disconnect).
    static func isProtocolError(_ condition: AMQPCondition) -> Bool {
        condition.name == AMQPCondition.framingError || condition.name == AMQPCondition.decodeError
            || condition.name == "amqp:invalid-field" || condition.name == "amqp:not-allowed"
            || condition.name == "amqp:connection:policy-error" || condition.name == "amqp:session:window-violation"
            || condition.name == "amqp:internal-error"
    }
}
