//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Foundation
import Logging

/// A client connection on the proactor thread: runs `ConnectionStateMachine` against Proton, makes a new
/// transport for each attempt and re-attaches every link after a reconnect.
final class ClientConnectionDriver: ConnectionDriver {
    /// What the caller hands over to start a connection.
    struct Registration: Sendable {
        let id: ConnectionID
        let configuration: AMQPConnectionConfiguration
        let shared: ConnectionShared
    }

    let configuration: AMQPConnectionConfiguration
    let shared: ConnectionShared
    var machine: ConnectionStateMachine
    var connectTimer: UInt64?
    var reconnectTimer: UInt64?
    var transportCondition: AMQPCondition?
    var opened = false
    var sslDomain: OpaquePointer?

    init(registration: Registration, state: ProactorState) {
        self.configuration = registration.configuration
        self.shared = registration.shared
        self.machine = ConnectionStateMachine(policy: registration.configuration.reconnect)
        super.init(id: registration.id, label: registration.configuration.label, state: state)
    }

    deinit {
        if let domain = self.sslDomain { pn_ssl_domain_free(domain) }
    }

    override var isOpen: Bool { self.opened }

    /// Who logs in, for error messages: the platform's clientId (the part of its user name before the first
    /// `|`; the rest holds no secret either), a PLAIN user, or anonymous. Never the password.
    var principal: String {
        switch self.configuration.authentication {
        case .anonymous:
            return "anonymous"
        case .plain(let username, _):
            if self.configuration.platformRules, let clientId = username.split(separator: "|").first {
                return "clientId \(clientId)"
            }
            return "user \(username)"
        }
    }

    func start() {
        self.perform(self.machine.start())
    }

    override func refuseAttach(_ driver: LinkDriver) -> AMQPError? {
        guard self.configuration.platformRules else { return nil }
        if driver is SenderLinkDriver {
            return AMQPError(.invalidConfiguration, "the IoT platform does not accept sender links; it only pushes to receivers")
        }
        if self.links.values.contains(where: { $0 is ReceiverLinkDriver }) {
            return AMQPError(
                .invalidConfiguration,
                "the IoT platform allows one receiver link per connection — open another connection for more throughput"
            )
        }
        return nil
    }

    override func closeRequested() {
        self.perform(self.machine.close())
    }

    override func sessionEnded() {
        guard let connection = self.connection, self.opened else {
            self.session = nil
            return
        }
        let session = pn_session(connection)
        pn_session_open(session)
        self.session = session
    }

    override func remoteOpened() {
        // Proton reads every frame that arrived before handing out events: a server that refuses a connection
        // sends Open and Close together, and the Close is already here. Then the connection never was open; the
        // Close's condition becomes the error (a listener says why: not logged in, a limit reached).
        if let connection = self.connection, pn_connection_state(connection) & PN_REMOTE_CLOSED != 0 { return }
        self.perform(self.machine.opened())
    }

    override func transportError(_ condition: AMQPCondition?) {
        self.transportCondition = condition
    }

    override func transportClosed(condition: AMQPCondition?) {
        super.transportClosed(condition: condition)
        self.opened = false
        self.state.timers.cancel(self.connectTimer)
        self.connectTimer = nil
        for link in self.links.values { link.connectionLost() }
        let error = ProtonErrors.connectionError(
            transport: self.transportCondition ?? condition,
            remote: self.remoteCondition,
            label: self.principal,
            endpoint: self.configuration.endpoint.hostAndPort,
            isPlatform: self.configuration.platformRules,
            mechanism: { if case .anonymous = self.configuration.authentication { "ANONYMOUS" } else { "PLAIN" } }()
        )
        self.remoteCondition = nil
        self.transportCondition = nil
        var finalError = self.pendingTimeoutError ?? error
        if var tlsError = finalError, tlsError.code == .tlsVerification, self.checksNameAgainstIPAddress {
            tlsError.message +=
                " (the endpoint is an IP address: Proton checks the certificate's DNS names and CN, "
                + "not IP subjectAltNames — connect by a DNS name the certificate carries, or set the server name to one)"
            finalError = tlsError
        }
        self.pendingTimeoutError = nil
        self.lastError = finalError
        self.perform(self.machine.transportClosed(error: finalError))
    }

    /// Set when our connect timer closed the transport, so the reported error says "timed out".
    var pendingTimeoutError: AMQPError?

    private func perform(_ action: ConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .connect:
            if let budget = self.configuration.connectBudget, let wait = budget.take() {
                self.perform(self.machine.connectDeferred(for: wait))
            } else {
                self.connect()
            }
        case .reportOpened:
            self.opened = true
            self.state.timers.cancel(self.connectTimer)
            self.connectTimer = nil
            self.logger.info("amqp connection open", metadata: ["amqp.endpoint": "\(self.configuration.endpoint.hostAndPort)"])
            self.shared.opened()
            if let session = self.session {
                for driver in self.links.values {
                    self.register(driver.attach(session: session), for: driver)
                }
            }
        case .scheduleReconnect(let delay):
            if case .closed = self.shared.status {
            } else {
                let lastError = self.lastFailure
                self.shared.reconnecting(after: lastError)
                self.logger.info(
                    "amqp connection lost; reconnecting",
                    metadata: ["amqp.delay_ms": "\(Int(ReconnectPolicy.seconds(delay) * 1000))", "amqp.error": "\(lastError)"]
                )
            }
            self.armReconnectTimer(after: delay)
        case .deferConnect(let delay):
            self.logger.warning(
                "amqp connect budget used up; waiting before the next attempt",
                metadata: [
                    "amqp.delay_ms": "\(Int(ReconnectPolicy.seconds(delay) * 1000))",
                    "amqp.budget": "\(self.configuration.connectBudget.map { "\($0)" } ?? "none")",
                ]
            )
            self.armReconnectTimer(after: delay)
        case .closeTransport:
            if let connection = self.connection {
                for driver in self.links.values { if let link = driver.link { pn_link_close(link) } }
                pn_connection_close(connection)
                // If the peer never answers our Close, end the transport ourselves after a grace period.
                let transportToClose = connection
                _ = self.state.timers.schedule(after: .seconds(2)) { [weak self] in
                    guard let self, self.connection == transportToClose, let transport = pn_connection_transport(transportToClose)
                    else { return }
                    pn_transport_close_tail(transport)
                    pn_transport_close_head(transport)
                    pn_connection_wake(transportToClose)
                }
            }
        case .finish(let error):
            self.state.timers.cancel(self.reconnectTimer)
            self.state.timers.cancel(self.connectTimer)
            if let error {
                self.logger.debug("amqp connection failed", metadata: ["amqp.error": "\(error)"])
            } else {
                self.logger.debug("amqp connection closed")
            }
            for driver in Array(self.links.values) {
                driver.finish(error: error ?? AMQPError(.closed, "the connection was closed"))
            }
            self.shared.finished(error: error)
            self.state.forget(client: self.id)
        }
    }

    private func armReconnectTimer(after delay: Duration) {
        self.reconnectTimer = self.state.timers.schedule(after: delay) { [weak self] in
            guard let self else { return }
            self.reconnectTimer = nil
            if self.state.isShuttingDown {
                self.perform(self.machine.close())
            } else {
                self.perform(self.machine.reconnectTimerFired())
            }
        }
    }

    private var lastError: AMQPError?
    private var lastFailure: AMQPError {
        self.lastError ?? AMQPError(.transport, "connection lost")
    }

    private func connect() {
        let configuration = self.configuration
        guard let connection = pn_connection(), let transport = pn_transport() else {
            self.perform(self.machine.transportClosed(error: AMQPError(.transport, "out of memory")))
            return
        }
        pn_connection_set_container(connection, configuration.containerID)
        pn_connection_set_hostname(connection, configuration.endpoint.host)
        let sasl = pn_sasl(transport)
        switch configuration.authentication {
        case .anonymous:
            pn_sasl_allowed_mechs(sasl, "ANONYMOUS")
        case .plain(let username, let password):
            pn_connection_set_user(connection, username)
            pn_connection_set_password(connection, password)
            pn_sasl_allowed_mechs(sasl, "PLAIN")
            // PLAIN over plain TCP is the caller's explicit choice (amqp://); over TLS it is encrypted anyway.
            pn_sasl_set_allow_insecure_mechs(sasl, true)
        }
        // Proton announces half its local timeout in the Open frame, so twice the configured value goes in.
        pn_transport_set_idle_timeout(transport, pn_millis_t(ReconnectPolicy.seconds(configuration.idleTimeout) * 2000))
        if configuration.endpoint.useTLS {
            do throws(AMQPError) {
                try self.configureTLS(transport)
            } catch {
                pn_transport_free(transport)
                pn_connection_free(connection)
                self.machine = ConnectionStateMachine(policy: .never)
                _ = self.machine.start()
                self.perform(self.machine.transportClosed(error: error))
                return
            }
        }
        pn_connection_open(connection)
        let session = pn_session(connection)
        pn_session_open(session)
        self.connection = connection
        self.session = session
        self.state.connections[connection] = self
        var address = [CChar](repeating: 0, count: Int(PN_MAX_ADDR))
        _ = pn_proactor_addr(&address, address.count, configuration.endpoint.host, String(configuration.endpoint.port))
        self.logger.debug("amqp connecting", metadata: ["amqp.endpoint": "\(configuration.endpoint.hostAndPort)"])
        pn_proactor_connect2(self.state.proactor, connection, transport, address)
        self.connectTimer = self.state.timers.schedule(after: configuration.connectTimeout) { [weak self] in
            guard let self else { return }
            self.connectTimer = nil
            self.pendingTimeoutError = AMQPError(
                .timeout,
                "no AMQP connection to \(configuration.endpoint.hostAndPort) within "
                    + "\(Int(ReconnectPolicy.seconds(configuration.connectTimeout))) s — check the host, the port and firewalls"
            )
            if case .closeTransport = self.machine.connectTimedOut(), let connection = self.connection,
                let transport = pn_connection_transport(connection)
            {
                pn_transport_close_tail(transport)
                pn_transport_close_head(transport)
                pn_connection_wake(connection)
            }
        }
    }

    /// Whether TLS has to match the certificate against an IP address (no server name configured and the host is
    /// an IPv4 or IPv6 literal), which Proton can only do through a DNS name or CN spelling the address.
    private var checksNameAgainstIPAddress: Bool {
        guard self.configuration.tls.serverName == nil else { return false }
        let host = self.configuration.endpoint.host
        let isIPv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0 == "." || $0.isNumber }
        return isIPv4 || host.contains(":")
    }

    private func configureTLS(_ transport: OpaquePointer) throws(AMQPError) {
        let tls = self.configuration.tls
        if self.sslDomain == nil {
            guard let domain = pn_ssl_domain(PN_SSL_MODE_CLIENT) else {
                throw AMQPError(.invalidConfiguration, "this Proton build has no TLS support")
            }
            self.sslDomain = domain
            let caFile = tls.caFile ?? AMQPConnectionConfiguration.TLS.systemCABundle
            if tls.verifyPeer {
                guard FileManager.default.isReadableFile(atPath: caFile) else {
                    throw AMQPError(.invalidConfiguration, "cannot read the CA file '\(caFile)' — pass --ca-file with a PEM bundle")
                }
                guard pn_ssl_domain_set_trusted_ca_db(domain, caFile) == 0 else {
                    throw AMQPError(.invalidConfiguration, "'\(caFile)' is not a usable PEM CA bundle")
                }
                // Proton 0.37 matches the name against DNS subjectAltNames and the CN only, never against IP
                // subjectAltNames. Verifying the chain alone for IP literals would let any certificate of a trusted
                // CA impersonate the server, so the name is always checked; the error explains the IP case.
                pn_ssl_domain_set_peer_authentication(domain, PN_SSL_VERIFY_PEER_NAME, nil)
            } else {
                pn_ssl_domain_set_peer_authentication(domain, PN_SSL_ANONYMOUS_PEER, nil)
            }
        }
        guard let ssl = pn_ssl(transport), pn_ssl_init(ssl, self.sslDomain, nil) == 0 else {
            throw AMQPError(.invalidConfiguration, "TLS could not be set up for \(self.configuration.endpoint.hostAndPort)")
        }
        // SNI and the name the certificate must carry.
        pn_ssl_set_peer_hostname(ssl, tls.serverName ?? self.configuration.endpoint.host)
    }
}
