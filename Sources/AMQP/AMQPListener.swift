//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Checks a SASL PLAIN login on the listener. It runs on the proactor thread, so it must be quick and must not
/// block (look the user up in memory; do not call a remote service). Compare secrets with
/// `AMQPAuthenticator.constantTimeEquals`, so the time a check takes says nothing about how much of a guess was
/// right.
public struct AMQPAuthenticator: Sendable, CustomStringConvertible, CustomReflectable {
    let check: @Sendable (_ username: String, _ password: String) -> Bool

    /// Wraps a check that returns true to allow the login.
    public init(_ check: @escaping @Sendable (_ username: String, _ password: String) -> Bool) {
        self.check = check
    }

    /// Allows exactly one user name and password, compared in constant time.
    public static func fixed(username: String, password: String) -> AMQPAuthenticator {
        let expectedUser = Array(username.utf8)
        let expectedPassword = Array(password.utf8)
        return AMQPAuthenticator { user, given in
            // Both comparisons always run: `&&` would skip the password for a wrong user name.
            let userMatches = Self.constantTimeEquals(Array(user.utf8), expectedUser)
            let passwordMatches = Self.constantTimeEquals(Array(given.utf8), expectedPassword)
            return userMatches && passwordMatches
        }
    }

    /// Whether `given` equals `expected`, taking the same time for every `given` of a length and for every
    /// difference: each byte of both is visited once and the differences are OR-ed together, with no early exit.
    /// Only the lengths can be learned from timing.
    public static func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt64(truncatingIfNeeded: given.count ^ expected.count)
        let count = max(given.count, expected.count)
        for index in 0..<count {
            let a = index < given.count ? given[index] : 0
            let b = index < expected.count ? expected[index] : 0xff
            difference |= UInt64(a ^ b)
        }
        return difference == 0
    }

    /// Never shows what the check compares against.
    public var description: String { "AMQPAuthenticator(<check>)" }

    /// What `dump()` and debuggers show: nothing of the check's captured secrets.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// Who is on the other end of an inbound link.
public struct AMQPPeer: Sendable, Hashable {
    /// The user the client logged in as with SASL (`anonymous` for ANONYMOUS); nil only when the listener
    /// requires no login and the client did not log in. When the listener has an authenticator, a link only
    /// reaches the application after a successful login, so this can be used for access decisions.
    public var user: String?
    /// The SASL mechanism the client logged in with (`PLAIN`, `ANONYMOUS`), nil without a login.
    public var mechanism: String?
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

    /// What the listener refused and why, counted since it started.
    public var statistics: AMQPListenerStatistics { self.shared.statistics }

    func start() async throws {
        try self.configuration.validate()
        let registration = ListenerDriver.Registration(
            id: self.id,
            configuration: self.configuration,
            shared: self.shared,
            links: self.continuation
        )
        if let error = self.engine.core.enqueue(.startListener(registration)) { throw error }
        try await self.shared.waitListening()
    }

    /// Stops accepting and closes the connections it accepted: each is told Close and cut after the close grace
    /// if the client never answers; their links end (messages in flight on them are reported `.unsettled`).
    public func close() async {
        if self.engine.core.submit(.closeListener(self.id)) {
            await self.shared.waitClosed()
        }
        self.continuation.finish()
    }
}

/// What a listener accepted and refused since it started. Every refusal is also logged (at info level, the
/// descriptor pauses at warning), with the client's address.
public struct AMQPListenerStatistics: Sendable, Hashable {
    /// TCP connections accepted.
    public var connectionsAccepted = 0
    /// Connections not closed yet (admitted or being refused).
    public var connectionsOpen = 0
    /// Connections refused for a connection limit (told `amqp:resource-limit-exceeded`, or dropped without a word
    /// when too many refusals were in progress).
    public var connectionsRefused = 0
    /// Logins that failed (wrong user name or password); each was answered only after the failed-login delay.
    public var loginsFailed = 0
    /// Connections refused at Open with `amqp:unauthorized-access`: no login although one is required (SASL
    /// skipped), or PLAIN over unencrypted TCP on a listener that is not loopback-only.
    public var loginsRefused = 0
    /// Connections closed because they had not opened within the handshake timeout.
    public var handshakeTimeouts = 0
    /// Connections that ended with a protocol or framing error (garbage, a frame over the max frame size, …).
    public var protocolErrors = 0
    /// Times the listener stopped accepting because the process was running out of file descriptors.
    public var descriptorPauses = 0
    /// Sessions refused for the session limit.
    public var sessionsRefused = 0
    /// Links refused for the link limit.
    public var linksRefused = 0
    /// Links detached because a message exceeded the max message size.
    public var messagesTooLarge = 0
    /// Links detached because the client sent more transfers than its credit allowed.
    public var transferLimitsExceeded = 0
    /// Transfers rejected with `amqp:decode-error` because they were not a valid AMQP message.
    public var undecodableMessages = 0

    /// Creates statistics with every count zero.
    public init() {}
}
