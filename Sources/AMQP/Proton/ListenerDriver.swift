//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Foundation
import Logging

/// A listener on the proactor thread: binds, accepts connections with our SASL PLAIN check and optional TLS,
/// and hands the links clients attach to the application.
final class ListenerDriver {
    /// What the caller hands over to start listening.
    struct Registration: Sendable {
        let id: ListenerID
        let configuration: AMQPListenerConfiguration
        let shared: ListenerShared
        let links: AsyncStream<AMQPInboundLink>.Continuation
    }

    let id: ListenerID
    let configuration: AMQPListenerConfiguration
    let shared: ListenerShared
    let links: AsyncStream<AMQPInboundLink>.Continuation
    unowned let state: ProactorState
    var listener: OpaquePointer?
    var sslDomain: OpaquePointer?
    let sasl: ProtonSASLServer

    init(registration: Registration, state: ProactorState) {
        self.id = registration.id
        self.configuration = registration.configuration
        self.shared = registration.shared
        self.links = registration.links
        self.state = state
        self.sasl = ProtonSASLServer(
            authenticator: registration.configuration.authenticator,
            allowAnonymous: registration.configuration.authenticator == nil || registration.configuration.allowAnonymous
        )
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
        guard let listener = pn_listener() else {
            self.fail(AMQPError(.transport, "out of memory"))
            return
        }
        self.listener = listener
        self.state.listeners[listener] = self
        var address = [CChar](repeating: 0, count: Int(PN_MAX_ADDR))
        _ = pn_proactor_addr(&address, address.count, self.configuration.host, String(self.configuration.port))
        pn_proactor_listen(self.state.proactor, listener, address, 64)
    }

    func close() {
        if let listener = self.listener { pn_listener_close(listener) } else { self.fail(nil) }
    }

    private func fail(_ error: AMQPError?) {
        self.shared.closed(error: error)
        self.links.finish()
        self.state.forget(listener: self.id)
    }

    func handle(_ event: OpaquePointer) {
        switch pn_event_type(event) {
        case PN_LISTENER_OPEN:
            var port = [CChar](repeating: 0, count: 32)
            if let listener = self.listener {
                _ = pn_netaddr_host_port(pn_listener_addr(listener), nil, 0, &port, port.count)
            }
            let bound = Int(ProtonListenerText.string(port)) ?? self.configuration.port
            self.state.logger.info("amqp listener open", metadata: ["amqp.listen": "\(self.configuration.host):\(bound)"])
            self.shared.listening(port: bound)
        case PN_LISTENER_ACCEPT:
            self.accept()
        case PN_LISTENER_CLOSE:
            var error: AMQPError?
            if let listener = self.listener, let condition = ProtonErrors.condition(pn_listener_condition(listener)) {
                error = AMQPError(
                    .transport,
                    "cannot listen on \(self.configuration.host):\(self.configuration.port): \(condition.description)",
                    condition: condition
                )
            }
            if let listener = self.listener { self.state.listeners.removeValue(forKey: listener) }
            self.listener = nil
            self.fail(error)
        default:
            break
        }
    }

    private func accept() {
        guard let listener = self.listener, let connection = pn_connection(), let transport = pn_transport() else { return }
        pn_transport_set_server(transport)  // Proton: before pn_sasl()
        // Proton announces half its local timeout in the Open frame, so twice the configured value goes in.
        pn_transport_set_idle_timeout(transport, pn_millis_t(ReconnectPolicy.seconds(self.configuration.idleTimeout) * 2000))
        self.sasl.install(on: transport, encrypted: self.sslDomain != nil)
        if let domain = self.sslDomain {
            pn_ssl_init(pn_ssl(transport), domain, nil)
        }
        pn_connection_set_container(connection, self.configuration.containerID)
        let driver = ServerConnectionDriver(listener: self, connection: connection, state: self.state)
        self.state.connections[connection] = driver
        self.state.serversByID[driver.id] = driver
        pn_listener_accept2(listener, connection, transport)
    }
}

/// A connection a client opened to our listener: accepts its session and hands each link it attaches to the
/// application. It ends with its transport; there is no reconnect on this side.
final class ServerConnectionDriver: ConnectionDriver {
    let listenerConfiguration: AMQPListenerConfiguration
    let inboundLinks: AsyncStream<AMQPInboundLink>.Continuation
    var peer = AMQPPeer(user: nil, containerID: "", remoteAddress: "")
    var isOpened = false

    init(listener: ListenerDriver, connection: OpaquePointer, state: ProactorState) {
        self.listenerConfiguration = listener.configuration
        self.inboundLinks = listener.links
        super.init(id: ConnectionID.next(), label: "client", state: state)
        self.connection = connection
    }

    override var isOpen: Bool { self.isOpened }

    override func remoteOpened() {
        guard let connection = self.connection else { return }
        pn_connection_open(connection)
        self.isOpened = true
        let transport = pn_connection_transport(connection)
        var remote = [CChar](repeating: 0, count: Int(PN_MAX_ADDR))
        if let transport { _ = pn_netaddr_str(pn_transport_remote_addr(transport), &remote, remote.count) }
        self.peer = AMQPPeer(
            user: transport.flatMap { pn_transport_get_user($0) }.map { String(cString: $0) },
            containerID: pn_connection_remote_container(connection).map { String(cString: $0) } ?? "",
            remoteAddress: ProtonListenerText.string(remote)
        )
        self.logger[metadataKey: "amqp.peer"] = "\(self.peer.remoteAddress)"
        self.logger.debug("amqp client connected", metadata: ["amqp.user": "\(self.peer.user ?? "")"])
    }

    override func remoteAttached(_ link: OpaquePointer) {
        let engine = self.state.engine!
        if pn_link_is_sender(link) {
            // The client attached a receiver: we send to it.
            let address = pn_terminus_get_address(pn_link_remote_source(link)).map { String(cString: $0) }
            let shared = SenderShared(capacity: self.listenerConfiguration.sendWindow)
            let driver = SenderLinkDriver(id: LinkID.next(), address: address, name: "", shared: shared, owner: self)
            self.links[driver.id] = driver
            self.register(link, for: driver)
            driver.adopt(link)
            let sender = AMQPSender(engine: engine, connectionID: self.id, linkID: driver.id, address: address, shared: shared)
            self.inboundLinks.yield(.consuming(sender, self.peer))
        } else {
            // The client attached a sender: it publishes to us.
            let address = pn_terminus_get_address(pn_link_remote_target(link)).map { String(cString: $0) }
            let shared = ReceiverShared(window: self.listenerConfiguration.credit)
            let driver = ReceiverLinkDriver(id: LinkID.next(), address: address, name: "", shared: shared, owner: self)
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

    override func closeRequested() {
        if let connection = self.connection { pn_connection_close(connection) }
    }

    override func transportClosed(condition: AMQPCondition?) {
        super.transportClosed(condition: condition)
        for driver in Array(self.links.values) { driver.connectionLost() }
        self.state.forget(server: self.id)
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
