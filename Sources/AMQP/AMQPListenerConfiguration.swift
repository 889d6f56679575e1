//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How the listener accepts clients. Every default is safe for a listener other machines can reach: logins are
/// mandatory once an authenticator is set, PLAIN needs TLS unless the listener is loopback-only, and every
/// resource a client can make the process hold is bounded (see `Limits`).
public struct AMQPListenerConfiguration: Sendable {
    /// The address to bind. Default: `127.0.0.1` (loopback only; use `0.0.0.0` to accept remote clients).
    public var host: String
    /// The port to bind; 0 picks a free one (read it back from `AMQPListener.port`). Default: 5672.
    public var port: Int
    /// TLS for `amqps`: a PEM certificate and key. A TLS listener refuses clients that do not start TLS.
    /// Default: nil (plain TCP).
    public var tls: TLS?
    /// Checks SASL PLAIN logins. When set, logging in is mandatory: a client that skips SASL (sends the plain
    /// AMQP header) or fails it is closed with `amqp:unauthorized-access` before it can begin a session. nil
    /// offers ANONYMOUS only and lets clients skip SASL. Default: nil.
    public var authenticator: AMQPAuthenticator?
    /// Also offer ANONYMOUS when an authenticator is set. Default: false.
    public var allowAnonymous: Bool
    /// Allow SASL PLAIN over unencrypted TCP on a listener that is not bound to loopback addresses only. PLAIN
    /// sends the password in clear, so by default such a login is refused at Open with
    /// `amqp:unauthorized-access` and a description that says to use TLS. A loopback-only listener (the default
    /// host) always allows it. Default: false.
    public var allowInsecure: Bool
    /// The container id in our Open frame. Default: `iotbridge-listener`.
    public var containerID: String
    /// The idle timeout we announce. Default: 60 s.
    public var idleTimeout: Duration
    /// The credit window for links clients publish on: at most this many messages (each at most
    /// `limits.maxMessageSize`) wait unsettled per link. A client that sends more than its credit has its link
    /// detached with `amqp:link:transfer-limit-exceeded`. Default: 1000.
    public var credit: Int
    /// The send window for links clients consume from. Default: 1000.
    public var sendWindow: Int
    /// What one client, and all of them together, may make the listener hold. Default: see `Limits`.
    public var limits: Limits
    /// Decides, per link a logged-in client attaches, whether to serve it; a refused link is detached at once with
    /// the condition it returns. Default: nil (every link within the limits is served).
    public var linkAdmission: AMQPLinkAdmission?

    /// The bounds on what clients can make the listener hold. Each breach is refused with the AMQP condition
    /// the specification names for it, logged, and counted in `AMQPListener.statistics`; every other client is
    /// served as before.
    public struct Limits: Sendable, Hashable {
        /// The largest frame a client may send, SASL and AMQP alike; announced in our Open (`max-frame-size`).
        /// Proton checks each frame header against it before buffering the frame, so a header announcing more
        /// ends the connection (`amqp:connection:framing-error`) with at most this many bytes read. At least 512
        /// (AMQP's minimum). Default: 65,536.
        public var maxFrameSize: Int
        /// The largest message a client may publish; announced on each link it publishes on
        /// (`max-message-size`). A larger one is rejected as soon as more than this many bytes of it arrived,
        /// and the link is detached with `amqp:link:message-size-exceeded`. Default: 1,048,576 (1 MiB).
        public var maxMessageSize: Int
        /// The most connections at once. One more is told `amqp:resource-limit-exceeded` at Open and closed.
        /// Default: 1000.
        public var maxConnections: Int
        /// The most connections at once from one remote address (IP address, any port). Default: 100.
        public var maxConnectionsPerAddress: Int
        /// The most sessions at once on one connection; announced as `channel-max`. One more is ended with
        /// `amqp:resource-limit-exceeded`. At most 65,536. Default: 16.
        public var maxSessionsPerConnection: Int
        /// The most links attached at once on one session. One more is detached with
        /// `amqp:resource-limit-exceeded`. Default: 64.
        public var maxLinksPerSession: Int
        /// How long a client has from TCP accept to our Open (TLS, SASL and its Open frame). A connection that
        /// has not opened by then is closed without a word. Default: 10 s.
        public var handshakeTimeout: Duration
        /// How long to wait before telling a client its login failed: the first failure from a remote address
        /// waits this long, each further one from the same address twice as long as the one before, up to
        /// `maxFailedLoginDelay`. The wait is a timer; nothing blocks. 0 disables it. Default: 1 s.
        public var failedLoginDelay: Duration
        /// The longest wait before a failed login is answered. Default: 5 s.
        public var maxFailedLoginDelay: Duration
        /// The most links attached at once on one connection, over all its sessions; one more is detached with
        /// `amqp:resource-limit-exceeded`. The platform allows exactly one receiver link per connection (reference
        /// §1.1). nil: only `maxLinksPerSession` applies. Default: nil.
        public var maxLinksPerConnection: Int?
        /// How long a client has, from our Open, to attach its first link; a connection that has not is closed
        /// with `amqp:resource-limit-exceeded`. The platform allows 15 s (reference §1.1). nil: no deadline.
        /// Default: nil.
        public var attachTimeout: Duration?
        /// The idle-time-out a client's Open must announce; any other (or none) is refused at Open with
        /// `amqp:invalid-field`. The platform's range is 30–300 s (reference §1.8). nil: any. Default: nil.
        public var idleTimeoutRange: ClosedRange<Duration>?

        /// Creates limits; see each property for its default.
        public init(
            maxFrameSize: Int = 65_536,
            maxMessageSize: Int = 1_048_576,
            maxConnections: Int = 1000,
            maxConnectionsPerAddress: Int = 100,
            maxSessionsPerConnection: Int = 16,
            maxLinksPerSession: Int = 64,
            handshakeTimeout: Duration = .seconds(10),
            failedLoginDelay: Duration = .seconds(1),
            maxFailedLoginDelay: Duration = .seconds(5),
            maxLinksPerConnection: Int? = nil,
            attachTimeout: Duration? = nil,
            idleTimeoutRange: ClosedRange<Duration>? = nil
        ) {
            self.maxLinksPerConnection = maxLinksPerConnection
            self.attachTimeout = attachTimeout
            self.idleTimeoutRange = idleTimeoutRange
            self.maxFrameSize = maxFrameSize
            self.maxMessageSize = maxMessageSize
            self.maxConnections = maxConnections
            self.maxConnectionsPerAddress = maxConnectionsPerAddress
            self.maxSessionsPerConnection = maxSessionsPerConnection
            self.maxLinksPerSession = maxLinksPerSession
            self.handshakeTimeout = handshakeTimeout
            self.failedLoginDelay = failedLoginDelay
            self.maxFailedLoginDelay = maxFailedLoginDelay
        }

        /// Throws `invalidConfiguration` naming the first limit that cannot work.
        public func validate() throws(AMQPError) {
            func require(_ condition: Bool, _ message: String) throws(AMQPError) {
                if !condition { throw AMQPError(.invalidConfiguration, message) }
            }
            try require(
                (512...Int(UInt32.max)).contains(self.maxFrameSize),
                "max frame size \(self.maxFrameSize) is out of range: AMQP allows 512 to 4,294,967,295 bytes"
            )
            try require(self.maxMessageSize >= 1, "max message size must be at least 1 byte")
            try require(self.maxConnections >= 1, "max connections must be at least 1")
            try require(self.maxConnectionsPerAddress >= 1, "max connections per address must be at least 1")
            try require(
                (1...65_536).contains(self.maxSessionsPerConnection),
                "max sessions per connection must be between 1 and 65,536 (AMQP's channel-max)"
            )
            try require(self.maxLinksPerSession >= 1, "max links per session must be at least 1")
            try require(self.handshakeTimeout > .zero, "the handshake timeout must be positive")
            try require(self.failedLoginDelay >= .zero, "the failed-login delay cannot be negative")
            try require((self.maxLinksPerConnection ?? 1) >= 1, "max links per connection must be at least 1")
            try require((self.attachTimeout ?? .seconds(1)) > .zero, "the attach timeout must be positive")
            try require(
                (self.idleTimeoutRange?.lowerBound ?? .zero) >= .zero,
                "the idle timeout range cannot start below zero"
            )
            try require(
                self.maxFailedLoginDelay >= self.failedLoginDelay,
                "the longest failed-login delay must be at least the failed-login delay"
            )
        }
    }

    /// The listener's certificate.
    public struct TLS: Sendable, CustomStringConvertible, CustomReflectable {
        /// The PEM certificate (chain) file.
        public var certificateFile: String
        /// The PEM private key file.
        public var privateKeyFile: String
        /// The key's password, if it is encrypted. Never logged, printed or dumped.
        public var privateKeyPassword: String?

        /// Creates TLS settings from PEM files.
        public init(certificateFile: String, privateKeyFile: String, privateKeyPassword: String? = nil) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.privateKeyPassword = privateKeyPassword
        }

        /// The files, with the key password (if any) shown as `***`.
        public var description: String {
            "TLS(certificateFile: \(self.certificateFile), privateKeyFile: \(self.privateKeyFile)"
                + (self.privateKeyPassword == nil ? ")" : ", privateKeyPassword: ***)")
        }

        /// What `dump()` and debuggers show: the key password redacted.
        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "certificateFile": self.certificateFile,
                    "privateKeyFile": self.privateKeyFile,
                    "privateKeyPassword": self.privateKeyPassword == nil ? "nil" : "***",
                ]
            )
        }
    }

    /// Creates a configuration; see each property for its default.
    public init(host: String = "127.0.0.1", port: Int = 5672, authenticator: AMQPAuthenticator? = nil, tls: TLS? = nil) {
        self.host = host
        self.port = port
        self.authenticator = authenticator
        self.tls = tls
        self.allowAnonymous = false
        self.allowInsecure = false
        self.containerID = "iotbridge-listener"
        self.idleTimeout = .seconds(60)
        self.credit = 1000
        self.sendWindow = 1000
        self.limits = Limits()
    }

    /// Throws `invalidConfiguration` naming the first setting that cannot work.
    public func validate() throws(AMQPError) {
        guard (0...65_535).contains(self.port) else {
            throw AMQPError(.invalidConfiguration, "port \(self.port) is out of range: use 0 (any free port) to 65535")
        }
        guard self.credit >= 1, self.sendWindow >= 1 else {
            throw AMQPError(.invalidConfiguration, "the listener's credit and send window must be at least 1")
        }
        try self.limits.validate()
    }
}

extension AMQPListenerConfiguration: CustomStringConvertible, CustomReflectable {
    /// The settings, without the TLS key password (the authenticator is a function and shows as configured).
    public var description: String {
        "AMQPListenerConfiguration(host: \(self.host), port: \(self.port), tls: \(self.tls.map { "\($0)" } ?? "nil"), "
            + "authenticator: \(self.authenticator == nil ? "nil" : "configured"), allowAnonymous: \(self.allowAnonymous), "
            + "allowInsecure: \(self.allowInsecure), limits: \(self.limits))"
    }

    /// What `dump()` and debuggers show: no password anywhere.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": self.host,
                "port": self.port,
                "tls": self.tls as Any,
                "authenticator": self.authenticator == nil ? "nil" : "configured",
                "allowAnonymous": self.allowAnonymous,
                "allowInsecure": self.allowInsecure,
                "containerID": self.containerID,
                "idleTimeout": self.idleTimeout,
                "credit": self.credit,
                "sendWindow": self.sendWindow,
                "limits": self.limits,
            ]
        )
    }
}
