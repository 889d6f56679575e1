//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What a listener's connections share on the proactor thread: the configuration, who is admitted, failed logins
/// per remote address, and where refusals are counted. Connections keep it after their listener closed.
final class ListenerPolicy {
    let configuration: AMQPListenerConfiguration
    let shared: ListenerShared
    let sasl: ProtonSASLServer
    var admission: ConnectionAdmission
    var throttle: LoginThrottle
    let connectionPolicy: ServerConnectionStateMachine.Policy

    init(configuration: AMQPListenerConfiguration, shared: ListenerShared) {
        self.configuration = configuration
        self.shared = shared
        let limits = configuration.limits
        self.sasl = ProtonSASLServer(
            authenticator: configuration.authenticator,
            allowAnonymous: configuration.allowAnonymous,
            // Decided for real once the listener is bound (loopback-only or not).
            allowsInsecurePlain: configuration.allowInsecure
        )
        self.admission = ConnectionAdmission(
            maxConnections: limits.maxConnections,
            maxPerAddress: limits.maxConnectionsPerAddress
        )
        self.throttle = LoginThrottle(
            baseDelay: Int64(ReconnectPolicy.seconds(limits.failedLoginDelay) * 1000),
            maxDelay: Int64(ReconnectPolicy.seconds(limits.maxFailedLoginDelay) * 1000)
        )
        self.connectionPolicy = ServerConnectionStateMachine.Policy(
            requiresLogin: configuration.authenticator != nil,
            maxSessions: limits.maxSessionsPerConnection,
            maxLinksPerSession: limits.maxLinksPerSession,
            maxLinksPerConnection: limits.maxLinksPerConnection,
            idleTimeoutRange: limits.idleTimeoutRange.map { range in
                Self.milliseconds(range.lowerBound)...Self.milliseconds(range.upperBound)
            },
            requiresTimelyAttach: limits.attachTimeout != nil
        )
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// A listener on the proactor thread: binds, accepts connections with our SASL PLAIN check and optional TLS,
/// and hands the links clients attach to the application.
///
/// It also keeps the process from running out of file descriptors (see `DescriptorBudget`): when too few are
/// left it closes its listening socket, so new clients are refused at once, and listens again on the same port
/// once enough are free. Connections already open are served throughout.
final class ListenerDriver {
    /// What the caller hands over to start listening.
    struct Registration: Sendable {
        let id: ListenerID
        let configuration: AMQPListenerConfiguration
        let shared: ListenerShared
        let links: AsyncStream<AMQPInboundLink>.Continuation
    }

    /// Proton's accept backlog: it takes up to this many sockets before we see one, so they count against the
    /// descriptors kept free.
    static let backlog: Int32 = 64
    /// Descriptors kept free beyond the backlog, for everything else the process opens meanwhile.
    static let descriptorReserve = 16
    /// How often a paused listener checks whether descriptors were freed (closing connections also check).
    static let resumeCheckInterval: Duration = .seconds(1)

    let id: ListenerID
    let configuration: AMQPListenerConfiguration
    let shared: ListenerShared
    let links: AsyncStream<AMQPInboundLink>.Continuation
    unowned let state: ProactorState
    let policy: ListenerPolicy
    /// The live `pn_listener_t`; nil before the first bind, while paused, and once closed.
    var listener: OpaquePointer?
    /// Listeners closed to pause accepting: their `PN_LISTENER_CLOSE` is expected and ends nothing.
    var pausedListeners: Set<OpaquePointer> = []
    var sslDomain: OpaquePointer?
    /// The port bound the first time (a resumed listener binds it again).
    var boundPort: Int?
    var isClosing = false
    var budget: DescriptorBudget?
    /// Descriptors open at the last count, plus those accepted since (a count reads a directory, so it is not
    /// redone for every accept while far from the limit).
    var estimatedDescriptors = 0
    var acceptsSinceCount = 0
    var resumeTimer: UInt64?
    var logger: Logger

    init(registration: Registration, state: ProactorState) {
        self.id = registration.id
        self.configuration = registration.configuration
        self.shared = registration.shared
        self.links = registration.links
        self.state = state
        self.policy = ListenerPolicy(configuration: registration.configuration, shared: registration.shared)
        self.logger = state.logger
        self.logger[metadataKey: "amqp.listen"] = "\(registration.configuration.host):\(registration.configuration.port)"
        if let limit = ProtonDescriptors.limit() {
            self.budget = DescriptorBudget(limit: limit, headroom: Int(Self.backlog) + Self.descriptorReserve)
        }
    }

    deinit {
        if let domain = self.sslDomain { pn_ssl_domain_free(domain) }
    }

    func start() {
        if let tls = self.configuration.tls {
            guard let domain = pn_ssl_domain(PN_SSL_MODE_SERVER) else {
                self.fail(AMQPError(.invalidConfiguration, "this Proton build has no TLS support"))
                return
            }
            self.sslDomain = domain
            for file in [tls.certificateFile, tls.privateKeyFile] where !FileManager.default.isReadableFile(atPath: file) {
                self.fail(AMQPError(.invalidConfiguration, "cannot read the TLS file '\(file)'"))
                return
            }
            guard pn_ssl_domain_set_credentials(domain, tls.certificateFile, tls.privateKeyFile, tls.privateKeyPassword) == 0
            else {
                self.fail(AMQPError(.invalidConfiguration, "the TLS certificate '\(tls.certificateFile)' or its key is not usable"))
                return
            }
        }
        if let budget = self.budget, let inUse = ProtonDescriptors.inUse(), budget.isExhausted(inUse: inUse) {
            self.fail(
                AMQPError(
                    .invalidConfiguration,
                    "the process has \(inUse) of its \(budget.limit) file descriptors open, too few left to accept "
                        + "connections — raise the limit (ulimit -n)"
                )
            )
            return
        }
        self.listen(port: self.configuration.port)
    }

    /// Binds `port` (again, after a pause) with a new `pn_listener_t`.
    private func listen(port: Int) {
        guard let listener = pn_listener() else {
            self.fail(AMQPError(.transport, "out of memory"))
            return
        }
        self.listener = listener
        self.state.listeners[listener] = self
        // Proton copies the address into the listener; the buffer only has to live through the call.
        var address = [CChar](repeating: 0, count: Int(PN_MAX_ADDR))
        _ = pn_proactor_addr(&address, address.count, self.configuration.host, String(port))
        pn_proactor_listen(self.state.proactor, listener, address, Self.backlog)
    }

    func close() {
        self.isClosing = true
        self.state.timers.cancel(self.resumeTimer)
        self.resumeTimer = nil
        // The connections it accepted close with it: each says Close (and is cut after the close grace if the
        // client never answers), so that nothing keeps serving for a listener that is gone.
        var toWake: Set<OpaquePointer> = []
        for driver in self.state.serversByID.values {
            guard let server = driver as? ServerConnectionDriver, server.listener === self else { continue }
            server.enqueue(.closeConnection(server.id), wakeSet: &toWake)
        }
        for connection in toWake { pn_connection_wake(connection) }
        if let listener = self.listener {
            pn_listener_close(listener)
        } else {
            self.fail(nil)
        }
    }

    private func fail(_ error: AMQPError?) {
        self.state.timers.cancel(self.resumeTimer)
        self.resumeTimer = nil
        self.shared.closed(error: error)
        self.links.finish()
        self.state.forget(listener: self.id)
    }

    func handle(_ event: OpaquePointer) {
        guard let eventListener = pn_event_listener(event) else { return }
        switch pn_event_type(event) {
        case PN_LISTENER_OPEN:
            self.opened(eventListener)
        case PN_LISTENER_ACCEPT:
            if eventListener == self.listener { self.accept() }
        case PN_LISTENER_CLOSE:
            self.closed(eventListener)
        default:
            break
        }
    }

    private func opened(_ listener: OpaquePointer) {
        if let port = self.boundPort {
            self.logger.notice("amqp listener accepting again", metadata: ["amqp.port": "\(port)"])
            return
        }
        var port = [CChar](repeating: 0, count: 32)
        _ = pn_netaddr_host_port(pn_listener_addr(listener), nil, 0, &port, port.count)
        let bound = Int(ProtonListenerText.string(port)) ?? self.configuration.port
        self.boundPort = bound
        self.logger[metadataKey: "amqp.listen"] = "\(self.configuration.host):\(bound)"
        let loopbackOnly = Self.isLoopbackOnly(pn_listener_addr(listener))
        self.policy.sasl.allowsInsecurePlain = self.configuration.allowInsecure || loopbackOnly
        self.logger.info(
            "amqp listener open",
            metadata: [
                "amqp.listen": "\(self.configuration.host):\(bound)",
                "amqp.loopback_only": "\(loopbackOnly)",
                "amqp.tls": "\(self.sslDomain != nil)",
            ]
        )
        if self.configuration.authenticator != nil && self.sslDomain == nil && !self.policy.sasl.allowsInsecurePlain {
            self.logger.warning(
                "amqp listener accepts remote clients without TLS: PLAIN logins will be refused (configure TLS, or allow insecure logins explicitly)"
            )
        }
        self.shared.listening(port: bound)
    }

    private func closed(_ listener: OpaquePointer) {
        self.state.listeners.removeValue(forKey: listener)
        if self.pausedListeners.remove(listener) != nil {
            // A pause: its sockets (and any it had accepted and not handed over) are closed now.
            return
        }
        guard listener == self.listener else { return }
        self.listener = nil
        var error: AMQPError?
        if let condition = ProtonErrors.condition(pn_listener_condition(listener)) {
            error = AMQPError(
                .transport,
                "cannot listen on \(self.configuration.host):\(self.boundPort ?? self.configuration.port): \(condition.description)",
                condition: condition
            )
        }
        if !self.isClosing, let port = self.boundPort, let error {
            // Listening again after a pause failed (someone took the port?): keep serving and retry.
            self.logger.error("amqp listener could not listen again; retrying", metadata: ["amqp.error": "\(error)", "amqp.port": "\(port)"])
            self.budget?.markPaused()
            self.scheduleResumeCheck()
            return
        }
        self.fail(error)
    }

    private func accept() {
        guard let listener = self.listener, let connection = pn_connection(), let transport = pn_transport() else { return }
        let limits = self.configuration.limits
        pn_transport_set_server(transport)  // Proton: before pn_sasl()
        // Checked against every frame header, SASL and AMQP, before the frame is buffered; the input buffer never
        // grows beyond it.
        pn_transport_set_max_frame(transport, UInt32(limits.maxFrameSize))
        // channel-max is the highest channel number; Proton ends a connection that begins one above it.
        pn_transport_set_channel_max(transport, UInt16(limits.maxSessionsPerConnection - 1))
        // Proton announces half its local timeout in the Open frame, so twice the configured value goes in.
        pn_transport_set_idle_timeout(transport, pn_millis_t(ReconnectPolicy.seconds(self.configuration.idleTimeout) * 2000))
        if let domain = self.sslDomain {
            pn_ssl_init(pn_ssl(transport), domain, nil)
            // Our TLS domain refuses unencrypted AMQP; a plain SASL exchange is refused by its verdict.
            pn_transport_require_encryption(transport, true)
        }
        pn_connection_set_container(connection, self.configuration.containerID)
        let driver = ServerConnectionDriver(listener: self, connection: connection, state: self.state)
        self.policy.sasl.install(on: transport, for: driver)
        self.state.connections[connection] = driver
        self.state.serversByID[driver.id] = driver
        pn_listener_accept2(listener, connection, transport)
        driver.accepted()
        self.acceptsSinceCount += 1
        self.estimatedDescriptors += 1
        self.checkDescriptors()
    }

    /// Counts descriptors when close to the limit (or every backlog's worth of accepts) and pauses or resumes.
    func checkDescriptors(force: Bool = false) {
        guard var budget = self.budget, !self.isClosing else { return }
        let nearLimit = self.estimatedDescriptors + 4 * budget.headroom >= budget.limit
        guard force || budget.isPaused || nearLimit || self.acceptsSinceCount >= Int(Self.backlog) else { return }
        guard let inUse = ProtonDescriptors.inUse() else { return }
        self.estimatedDescriptors = inUse
        self.acceptsSinceCount = 0
        let action = budget.measured(inUse: inUse)
        self.budget = budget
        switch action {
        case .none:
            break
        case .pause:
            self.shared.count { $0.descriptorPauses += 1 }
            self.logger.warning(
                "amqp listener paused: the process is running out of file descriptors; new clients are refused until some are free (existing connections are served)",
                metadata: ["amqp.descriptors_in_use": "\(inUse)", "amqp.descriptor_limit": "\(budget.limit)"]
            )
            if let listener = self.listener {
                self.pausedListeners.insert(listener)
                self.listener = nil
                pn_listener_close(listener)
            }
            self.scheduleResumeCheck()
        case .resume:
            self.state.timers.cancel(self.resumeTimer)
            self.resumeTimer = nil
            self.logger.notice(
                "amqp listener resuming: file descriptors are free again",
                metadata: ["amqp.descriptors_in_use": "\(inUse)", "amqp.descriptor_limit": "\(budget.limit)"]
            )
            if self.listener == nil, let port = self.boundPort { self.listen(port: port) }
        }
    }

    /// A connection of this listener ended: its descriptor is (about to be) free.
    func connectionClosed() {
        self.estimatedDescriptors = max(0, self.estimatedDescriptors - 1)
        if self.budget?.isPaused == true { self.checkDescriptors() }
    }

    private func scheduleResumeCheck() {
        self.state.timers.cancel(self.resumeTimer)
        self.resumeTimer = self.state.timers.schedule(after: Self.resumeCheckInterval) { [weak self] in
            guard let self else { return }
            self.resumeTimer = nil
            guard !self.isClosing, self.budget?.isPaused == true else { return }
            self.checkDescriptors(force: true)
            if self.budget?.isPaused == true { self.scheduleResumeCheck() }
        }
    }

    /// Whether every address of the bound listener is a loopback address (127.0.0.0/8, ::1, or IPv4-mapped
    /// loopback): then no other machine can reach it, and PLAIN over plain TCP exposes nothing.
    static func isLoopbackOnly(_ first: OpaquePointer?) -> Bool {
        var address = first
        var sawAny = false
        while let current = address {
            guard let socketAddress = pn_netaddr_sockaddr(current) else { return false }
            sawAny = true
            switch Int32(socketAddress.pointee.sa_family) {
            case AF_INET:
                let isLoopback = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    UInt32(bigEndian: $0.pointee.sin_addr.s_addr) >> 24 == 127
                }
                if !isLoopback { return false }
            case AF_INET6:
                let isLoopback = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer -> Bool in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { bytes in
                        let loopback6 = bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1
                        let mapped =
                            bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
                            && bytes[12] == 127
                        return loopback6 || mapped
                    }
                }
                if !isLoopback { return false }
            default:
                return false
            }
            address = pn_netaddr_next(current)
        }
        return sawAny
    }
}

/// Text from fixed-size C buffers.
enum ProtonListenerText {
    /// The NUL-terminated prefix of `buffer` as UTF-8.
    static func string(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
