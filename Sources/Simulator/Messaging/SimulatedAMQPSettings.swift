//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import IoTPlatform

/// How a simulated instance's AMQP endpoint behaves. The defaults are the platform's documented ones (reference
/// §1.1, §1.8); tests shorten the timeouts.
public struct SimulatedAMQPSettings: Sendable {
    /// How the endpoint is secured.
    public enum Transport: Sendable {
        /// TLS with a self-signed certificate for `localhost` and `127.0.0.1`, made with `openssl` at start (the
        /// certificate file is printed, for clients to trust).
        case selfSignedTLS
        /// TLS with a given certificate.
        case tls(AMQPListenerConfiguration.TLS)
        /// Plain TCP (the platform has none; for clients that cannot do TLS in a rehearsal).
        case plain
    }

    /// The address to bind. Default: `127.0.0.1`.
    public var host: String
    /// The port to bind; 0 picks a free one. Default: 0.
    public var port: Int
    /// TLS or plain TCP. Default: a self-signed certificate.
    public var transport: Transport
    /// The AccessKeys whose aksign / ststoken logins open every consumer group of the instance.
    public var accessKeys: [PlatformLoginVerifier.AccessKey]
    /// How long a consumer has to accept a message before it is redelivered. Default: 30 s (the platform's).
    public var ackTimeout: Duration
    /// How long a client has, after its Open, to attach its receiver link. Default: 15 s (the platform's).
    public var attachTimeout: Duration
    /// The idle-time-out a client's Open must announce. Default: 30–300 s (the platform's).
    public var idleTimeoutRange: ClosedRange<Duration>
    /// What each consumer group keeps for absent consumers. Default: 1 day, 100,000 messages per group.
    public var retention: ConsumerGroupQueues.Retention
    /// The most connections from one address (the platform allows 128 clients per group). Default: 256.
    public var maxConnectionsPerAddress: Int

    /// Creates settings; see each property for its default.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        transport: Transport = .selfSignedTLS,
        accessKeys: [PlatformLoginVerifier.AccessKey],
        ackTimeout: Duration = .seconds(30),
        attachTimeout: Duration = .seconds(15),
        idleTimeoutRange: ClosedRange<Duration> = .seconds(30)...(.seconds(300)),
        retention: ConsumerGroupQueues.Retention = ConsumerGroupQueues.Retention(),
        maxConnectionsPerAddress: Int = 256
    ) {
        self.host = host
        self.port = port
        self.transport = transport
        self.accessKeys = accessKeys
        self.ackTimeout = ackTimeout
        self.attachTimeout = attachTimeout
        self.idleTimeoutRange = idleTimeoutRange
        self.retention = retention
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }
}
