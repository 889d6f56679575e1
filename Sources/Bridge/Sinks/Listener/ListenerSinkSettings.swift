//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import IoTPlatform

/// A `listener` sink: the bridge serves the merged stream as an AMQP 1.0 endpoint, the way the platform serves a
/// consumer group, so a backend switches by changing the host it connects to.
public struct ListenerSinkSettings: Sendable {
    /// The address to bind, e.g. `0.0.0.0`.
    public var host: String
    /// The port to bind (5671 is the platform's); 0 picks a free one.
    public var port: Int
    /// The listener's certificate; required unless `allowInsecure`.
    public var tls: AMQPListenerConfiguration.TLS?
    /// Serve without TLS, and allow plain users' passwords over unencrypted TCP. Default: false.
    public var allowInsecure: Bool
    /// The groups backends log in to, and the credentials that open each. Each is its own subscription to the
    /// merged stream: every group gets every message.
    public var logins: PlatformLoginVerifier
    /// How long a consumer has to settle a message before it goes to another consumer of the group. Default: 30 s,
    /// the platform's.
    public var ackTimeout: Duration
    /// The largest message a client may send us (clients only consume, so this bounds what a misbehaving client
    /// can push). Default: 1 MiB.
    public var maxMessageSize: Int
    /// The most consumer links one group serves at once; the platform allows 128 clients per group. Default: 128.
    public var maxConsumersPerGroup: Int
    /// The most links one session may attach. Default: 16.
    public var maxLinksPerSession: Int
    /// Messages held by the sink at once (waiting for a consumer or unsettled by one); when it is full, upstream
    /// credit is withheld. Default: 1000.
    public var window: Int
    /// The body's form: the platform's or a legacy channel's (mns, http2). Default: platform.
    public var envelope: LegacyEnvelope = .platform
    /// Serve migration-status events to receivers that attach with the source address `migration-events` (any
    /// login of this listener may). Off by default: once on, the outbox waits for such a receiver to accept each
    /// event before it marks the event delivered, so turn it on only when a backend subscribes. Default: false.
    public var migrationEvents = false

    /// Creates settings; see each property for its default.
    public init(
        host: String,
        port: Int,
        tls: AMQPListenerConfiguration.TLS?,
        allowInsecure: Bool = false,
        logins: PlatformLoginVerifier,
        ackTimeout: Duration = .seconds(30),
        maxMessageSize: Int = 1_048_576,
        maxConsumersPerGroup: Int = 128,
        maxLinksPerSession: Int = 16,
        window: Int = 1000
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.allowInsecure = allowInsecure
        self.logins = logins
        self.ackTimeout = ackTimeout
        self.maxMessageSize = maxMessageSize
        self.maxConsumersPerGroup = maxConsumersPerGroup
        self.maxLinksPerSession = maxLinksPerSession
        self.window = window
    }
}

/// Source addresses with a meaning of their own on the listener; every other address (none, `default`,
/// `/queue-name`, `null`…) attaches to the login's consumer group, as on the platform.
public enum ListenerReservedAddress {
    /// Migration-status events, as CloudEvents (structured mode), on a listener with `migrationEvents: true`; on
    /// any other listener an attach to it is refused with a clear condition instead of getting the message stream.
    public static let migrationEvents = "migration-events"
}
