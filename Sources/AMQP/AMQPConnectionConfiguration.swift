//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How a client connection logs in, secures itself and recovers. Every default suits the IoT platform.
public struct AMQPConnectionConfiguration: Sendable {
    /// Where to connect.
    public var endpoint: AMQPEndpoint
    /// How to authenticate. Default: PLAIN when the endpoint URL carries a user, ANONYMOUS otherwise.
    public var authentication: Authentication
    /// TLS settings, used when `endpoint.useTLS` is true.
    public var tls: TLS
    /// The container id sent in the Open frame. Default: `iotbridge-` plus a random suffix.
    public var containerID: String
    /// The `idle-time-out` we announce in the Open frame: the peer must send a frame at least this often.
    /// Proton sends heartbeats so the peer's own timeout never expires, and drops the connection when nothing
    /// arrived for twice this value. The IoT platform requires 30–300 s. Default: 60 s.
    public var idleTimeout: Duration
    /// How long one connection attempt (TCP, TLS, SASL, Open) may take. Default: 15 s.
    public var connectTimeout: Duration
    /// How to reconnect after the connection is lost. Default: see `ReconnectPolicy`.
    public var reconnect: ReconnectPolicy
    /// Keep the IoT platform's rules: one receiver link per connection, no sender links, and the receiver
    /// attached right after Open (the platform closes connections without one after 15 s). Default: false.
    public var platformRules: Bool
    /// A name for logs and error messages, e.g. the platform clientId. Default: the endpoint's host:port.
    public var label: String
    /// Attempts this connection shares with others (the platform's 100 connects per minute per consumer
    /// group); an attempt beyond it waits. Default: nil (no shared limit; the backoff alone paces attempts).
    public var connectBudget: AMQPConnectBudget?

    /// How the client authenticates with SASL.
    public enum Authentication: Sendable {
        /// SASL ANONYMOUS (or no SASL layer at all when the server does not ask).
        case anonymous
        /// SASL PLAIN with a user name and a password. The password is never logged.
        case plain(username: String, password: String)
    }

    /// TLS settings for `amqps://`.
    public struct TLS: Sendable {
        /// Verify the server's certificate chain and that it names the host. Turning this off is only for tests
        /// against self-signed brokers. Default: true.
        public var verifyPeer: Bool
        /// A PEM file of CA certificates to trust instead of the system bundle. Default: nil (the system bundle,
        /// `/etc/ssl/certs/ca-certificates.crt`).
        public var caFile: String?
        /// The server name sent with SNI and checked against the certificate. Default: nil (the endpoint host).
        public var serverName: String?

        /// Creates TLS settings.
        public init(verifyPeer: Bool = true, caFile: String? = nil, serverName: String? = nil) {
            self.verifyPeer = verifyPeer
            self.caFile = caFile
            self.serverName = serverName
        }

        /// The CA bundle Debian and Ubuntu install with `ca-certificates`.
        public static let systemCABundle = "/etc/ssl/certs/ca-certificates.crt"
    }

    /// Creates a configuration for an endpoint; credentials in the endpoint URL select PLAIN.
    public init(endpoint: AMQPEndpoint, authentication: Authentication? = nil) {
        self.endpoint = endpoint
        if let authentication {
            self.authentication = authentication
        } else if let user = endpoint.user {
            self.authentication = .plain(username: user, password: endpoint.password ?? "")
        } else {
            self.authentication = .anonymous
        }
        self.tls = TLS()
        self.containerID = "iotbridge-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        self.idleTimeout = .seconds(60)
        self.connectTimeout = .seconds(15)
        self.reconnect = ReconnectPolicy()
        self.platformRules = false
        self.label = endpoint.hostAndPort
        self.connectBudget = nil
    }
}

/// When and how fast to reconnect: exponential backoff with jitter, capped.
public struct ReconnectPolicy: Sendable, Hashable {
    /// Whether to reconnect at all after a connection that was open is lost. Default: true.
    public var enabled: Bool
    /// The delay before the first retry. Default: 100 ms.
    public var initialDelay: Duration
    /// The longest delay between two attempts. Default: 30 s (the platform allows 100 connects per minute per
    /// consumer group, so a fleet of clients must not hammer it).
    public var maximumDelay: Duration
    /// The factor the delay grows by after each failed attempt. Default: 2.
    public var multiplier: Double
    /// How much of each delay is random: 0 means none, 0.5 means the delay is drawn from [50 %, 100 %] of the
    /// nominal value, so clients that lost the same broker do not come back in lockstep. Default: 0.5.
    public var jitter: Double
    /// Give up after this many consecutive failed attempts; nil retries forever. Default: nil.
    public var maximumAttempts: Int?
    /// Retry even when the very first attempt fails (true for services; the CLI sets it false to fail fast).
    /// Default: true.
    public var retryInitialConnect: Bool

    /// Creates a policy; see each property for its default.
    public init(
        enabled: Bool = true,
        initialDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.5,
        maximumAttempts: Int? = nil,
        retryInitialConnect: Bool = true
    ) {
        self.enabled = enabled
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.maximumAttempts = maximumAttempts
        self.retryInitialConnect = retryInitialConnect
    }

    /// A policy that never reconnects.
    public static let never = ReconnectPolicy(enabled: false, retryInitialConnect: false)

    /// The delay before attempt number `attempt` (1 = the first retry), given a random number in [0, 1).
    public func delay(forAttempt attempt: Int, random: Double) -> Duration {
        let exponent = Double(max(0, attempt - 1))
        let initial = Self.seconds(self.initialDelay)
        let nominal = min(Self.seconds(self.maximumDelay), initial * pow2(self.multiplier, exponent))
        let jittered = nominal * (1 - self.jitter * random)
        return .nanoseconds(Int64(jittered * 1_000_000_000))
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// `base` raised to `exponent` without Foundation, saturating instead of overflowing.
private func pow2(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 && result < 1e12 {
        result *= base
        remaining -= 1
    }
    return result
}

extension AMQPConnectionConfiguration.Authentication: CustomStringConvertible, CustomReflectable {
    /// The mechanism and user name; a password shows as `***`.
    public var description: String {
        switch self {
        case .anonymous: return "anonymous"
        case .plain(let username, _): return "plain(username: \(username), password: ***)"
        }
    }

    /// What `dump()` and debuggers show: the password redacted.
    public var customMirror: Mirror {
        switch self {
        case .anonymous:
            return Mirror(self, children: [:], displayStyle: .enum)
        case .plain(let username, _):
            return Mirror(self, children: ["username": username, "password": "***"], displayStyle: .enum)
        }
    }
}

extension AMQPConnectionConfiguration: CustomStringConvertible, CustomReflectable {
    /// The settings, with the endpoint's URL and the login without any password.
    public var description: String {
        "AMQPConnectionConfiguration(endpoint: \(self.endpoint), authentication: \(self.authentication), "
            + "containerID: \(self.containerID), idleTimeout: \(self.idleTimeout), connectTimeout: \(self.connectTimeout), "
            + "platformRules: \(self.platformRules), label: \(self.label), "
            + "connectBudget: \(self.connectBudget.map { "\($0)" } ?? "none"))"
    }

    /// What `dump()` and debuggers show: no password anywhere.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "endpoint": self.endpoint,
                "authentication": self.authentication,
                "tls": self.tls,
                "containerID": self.containerID,
                "idleTimeout": self.idleTimeout,
                "connectTimeout": self.connectTimeout,
                "reconnect": self.reconnect,
                "platformRules": self.platformRules,
                "label": self.label,
                "connectBudget": self.connectBudget.map { "\($0)" } ?? "none",
            ]
        )
    }
}
