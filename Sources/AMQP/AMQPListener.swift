//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Checks a SASL PLAIN login on the listener. It runs on the proactor thread, so it must be quick and must not
/// block (look the user up in memory; do not call a remote service).
public struct AMQPAuthenticator: Sendable {
    let check: @Sendable (_ username: String, _ password: String) -> Bool

    /// Wraps a check that returns true to allow the login.
    public init(_ check: @escaping @Sendable (_ username: String, _ password: String) -> Bool) {
        self.check = check
    }

    /// Allows exactly one user name and password.
    public static func fixed(username: String, password: String) -> AMQPAuthenticator {
        AMQPAuthenticator { $0 == username && $1 == password }
    }
}

/// How the listener accepts clients.
public struct AMQPListenerConfiguration: Sendable {
    /// The address to bind. Default: `127.0.0.1` (loopback only; use `0.0.0.0` to accept remote clients).
    public var host: String
    /// The port to bind; 0 picks a free one (read it back from `AMQPListener.port`). Default: 5672.
    public var port: Int
    /// TLS for `amqps`: a PEM certificate and key. Default: nil (plain TCP).
    public var tls: TLS?
    /// Checks SASL PLAIN logins. nil offers ANONYMOUS only. Default: nil.
    public var authenticator: AMQPAuthenticator?
    /// Also offer ANONYMOUS when an authenticator is set. Default: false.
    public var allowAnonymous: Bool
    /// The container id in our Open frame. Default: `iotbridge-listener`.
    public var containerID: String
    /// The idle timeout we announce. Default: 60 s.
    public var idleTimeout: Duration
    /// The credit window for links clients publish on. Default: 1000.
    public var credit: Int
    /// The send window for links clients consume from. Default: 1000.
    public var sendWindow: Int

    /// The listener's certificate.
    public struct TLS: Sendable {
        /// The PEM certificate (chain) file.
        public var certificateFile: String
        /// The PEM private key file.
        public var privateKeyFile: String
        /// The key's password, if it is encrypted. Never logged.
        public var privateKeyPassword: String?

        /// Creates TLS settings from PEM files.
        public init(certificateFile: String, privateKeyFile: String, privateKeyPassword: String? = nil) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.privateKeyPassword = privateKeyPassword
        }
    }

    /// Creates a configuration; see each property for its default.
    public init(host: String = "127.0.0.1", port: Int = 5672, authenticator: AMQPAuthenticator? = nil, tls: TLS? = nil) {
        self.host = host
        self.port = port
        self.authenticator = authenticator
        self.tls = tls
        self.allowAnonymous = false
        self.containerID = "iotbridge-listener"
        self.idleTimeout = .seconds(60)
        self.credit = 1000
        self.sendWindow = 1000
    }
}

/// Who is on the other end of an inbound link.
public struct AMQPPeer: Sendable, Hashable {
    /// The authenticated user (`anonymous` for ANONYMOUS).
    public var user: String?
    /// The client's container id.
    public var containerID: String
    /// The client's address, `host:port`.
    public var remoteAddress: String
}

/// A link a client attached to the listener.
public enum AMQPInboundLink: Sendable {
    /// The client publishes on it: we receive its messages (settle each to accept them).
    case publishing(AMQPReceiver, AMQPPeer)
    /// The client consumes from it: what we send goes to the client, outcome and all.
    case consuming(AMQPSender, AMQPPeer)
}

/// A listening AMQP endpoint: clients connect with their usual AMQP 1.0 code, log in with SASL PLAIN and
/// attach links in either direction, with the same credit and settlement rules as our client links.
public final class AMQPListener: Sendable {
    /// The configuration it was made with.
    public let configuration: AMQPListenerConfiguration
    let engine: AMQPEngine
    let id = ListenerID.next()
    let shared = ListenerShared()
    /// Links as clients attach them.
    public let links: AsyncStream<AMQPInboundLink>
    let continuation: AsyncStream<AMQPInboundLink>.Continuation

    init(engine: AMQPEngine, configuration: AMQPListenerConfiguration) {
        self.engine = engine
        self.configuration = configuration
        (self.links, self.continuation) = AsyncStream.makeStream(of: AMQPInboundLink.self)
    }

    /// The bound port (useful when the configuration asked for port 0).
    public var port: Int { self.shared.port }

    func start() async throws {
        let registration = ListenerDriver.Registration(
            id: self.id,
            configuration: self.configuration,
            shared: self.shared,
            links: self.continuation
        )
        if let error = self.engine.core.enqueue(.startListener(registration)) { throw error }
        try await self.shared.waitListening()
    }

    /// Stops accepting; connections already made stay open.
    public func close() async {
        if self.engine.core.submit(.closeListener(self.id)) {
            await self.shared.waitClosed()
        }
        self.continuation.finish()
    }
}
