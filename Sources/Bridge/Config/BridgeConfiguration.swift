//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import AMQP
public import PostgresStateStore

/// `bridge.yaml`, checked and with every `${ENV}` reference resolved. Read it with
/// ``BridgeConfigurationLoader``; every key and its default is documented in README.md.
public struct BridgeConfiguration: Sendable {
    /// The file it was read from.
    public var file: String
    /// The SQLite state file (de-dup claims). Created if missing; one bridge per file. With ``postgres``: that
    /// store's URL without the password, for messages.
    public var state: String
    /// The PostgreSQL state store that bridge replicas share (`state: postgres://…`); nil: the SQLite file.
    public var postgres: PostgresLocation?
    /// Whether claims are fsync'd to survive power loss (`full`) or only process crashes (`normal`).
    public var sync: SyncMode
    /// The de-duplication window.
    public var dedup: DedupSettings
    /// The consumers the stream comes from.
    public var upstreams: [UpstreamConfiguration]
    /// Where the merged stream goes.
    public var sinks: [SinkConfiguration]
    /// Where messages that cannot be delivered go, with the reason.
    public var deadLetter: SinkConfiguration
    /// Rule files or folders run over the merged stream; empty: every message goes to every sink.
    public var rules: [String]
    /// The HTTP server (metrics, /healthz, /status); nil: none.
    public var http: HTTPSettings?
    /// Migration-status events: recognition in the stream and the outbox's sinks.
    public var events = EventsSettings()
    /// How long a graceful shutdown may take to finish in-flight messages. Default: 10 s.
    public var shutdownDeadline: Duration
    /// Messages larger than this go to the dead letter. Default: 1 MiB (the platform's device messages are at
    /// most 256 KB).
    public var maxMessageSize: Int
    /// An upstream that is connected but delivered nothing for this long while another one flows is reported
    /// as stalled. Default: 60 s.
    public var stallAfter: Duration

    /// Whether claims must survive power loss.
    public enum SyncMode: String, Sendable, CaseIterable {
        /// Survives process crashes (SQLite WAL, synchronous=NORMAL). The default.
        case normal
        /// Survives power loss too (synchronous=FULL): every commit waits for fsync.
        case full
    }

    /// The de-duplication window: bounded by time and by count, on disk.
    public struct DedupSettings: Sendable {
        /// How long a messageId is remembered. Default: 1 h (the platform re-sends for up to 1 day after an
        /// absence; raise it if a bridge may be down for longer).
        public var window: Duration
        /// The most claims kept. Default: 10,000,000.
        public var maxEntries: Int
        /// How long a claim holds before another owner may take it over. Default: 60 s.
        public var lease: Duration
        /// How long a duplicate waits for its original (in flight on another upstream) before it is released
        /// back to its upstream to be redelivered later. Default: 30 s.
        public var duplicateWait: Duration
    }

    /// The HTTP server.
    public struct HTTPSettings: Sendable {
        /// The address to listen on.
        public var host: String
        /// The port (0: any free port).
        public var port: Int
    }
}

/// One upstream: a consumer group on an instance (or a queue on any AMQP 1.0 broker).
public struct UpstreamConfiguration: Sendable {
    /// Its name, used in logs, metrics and `iotInstanceId` when the instance id is empty.
    public var name: String
    /// Where to connect; `endpoint.address` is the source address (none for the platform).
    public var endpoint: AMQPEndpoint
    /// TLS settings.
    public var tls: AMQPConnectionConfiguration.TLS
    /// How to log in.
    public var auth: AuthConfiguration
    /// How many connections (each with one receiver link, the platform's rule). Default: 1.
    public var connections: Int
    /// The credit window (prefetch) of each receiver. Default: 200.
    public var credit: Int
    /// Whether the receiver asks for a durable source (RabbitMQ compares it with the queue's durability and
    /// refuses a mismatch). Default: true for plain and anonymous logins (a broker's durable queue), false for
    /// the platform's logins (its official samples set none).
    public var durable: Bool
    /// The value of the `iotInstanceId` application property the bridge adds: the instance id of an aksign
    /// or ststoken login, else the upstream's name.
    public var instanceLabel: String
    /// Connection attempts per minute, shared by every connection of this upstream and of any other upstream
    /// on the same host and consumer group (the platform allows 100 per consumer group; bridge replicas that
    /// share a group divide it). Default: 100.
    public var connectsPerMinute: Int

    /// What shares one connect budget: the platform counts attempts per consumer group (on one host); any
    /// other broker per upstream.
    public var connectBudgetKey: String {
        switch self.auth {
        case .aksign(let platform), .ststoken(let platform):
            return "\(self.endpoint.hostAndPort)|\(platform.consumerGroupId)"
        case .plain, .anonymous:
            return "upstream|\(self.name)"
        }
    }
}

/// One sink, or the dead letter.
public struct SinkConfiguration: Sendable {
    /// Its name; rules address `amqp` and `http` destinations to sinks by name.
    public var name: String
    /// What it is.
    public var kind: Kind
    /// An optional rate cap, enforced by withholding upstream credit, never by dropping.
    public var cap: RateCap?

    /// The kinds of sink.
    public enum Kind: Sendable {
        /// An AMQP 1.0 sender to a broker address.
        case amqp(AMQPSinkSettings)
        /// An HTTP POST per message.
        case webhook(WebhookSettings)
        /// JSON lines to a file, or "-" for standard output.
        case jsonl(path: String)
        /// The bridge as an AMQP endpoint serving consumer groups.
        case listener(ListenerSinkSettings)

        /// The kind's name as written in the file.
        public var name: String {
            switch self {
            case .amqp: "amqp"
            case .webhook: "webhook"
            case .jsonl: "jsonl"
            case .listener: "listener"
            }
        }
    }
}

/// An AMQP sink.
public struct AMQPSinkSettings: Sendable {
    /// The broker and the target address.
    public var endpoint: AMQPEndpoint
    /// TLS settings.
    public var tls: AMQPConnectionConfiguration.TLS
    /// How to log in.
    public var auth: AuthConfiguration
    /// Messages in flight (sent, outcome not yet known) at most. Default: 1000.
    public var window: Int
    /// How often a released or modified message is sent before it goes to the dead letter. Default: 5.
    public var maxAttempts: Int
    /// Whether the sender asks for a durable target (RabbitMQ then declares a missing `/queue/NAME` durable, and
    /// refuses a mismatch with an existing queue). Default: true.
    public var durable: Bool
    /// The body's form: the platform's (the received message as it is) or a legacy channel's. Default: platform.
    public var envelope: LegacyEnvelope = .platform
}

/// A webhook sink.
public struct WebhookSettings: Sendable {
    /// The URL to POST to.
    public var url: String
    /// What the request body is.
    public var format: Format
    /// How long one request may take. Default: 10 s.
    public var timeout: Duration
    /// Requests in flight at most. Default: 16.
    public var concurrency: Int
    /// Extra request headers (values may be `${ENV}` references).
    public var headers: [String: String]
    /// A legacy channel's body (mns, http2) instead of `format`'s. Default: platform (`format` decides).
    public var envelope: LegacyEnvelope = .platform
    /// The Content-Type of a raw body; nil: `application/octet-stream`. Event sinks set
    /// `application/cloudevents+json` (CloudEvents' HTTP binding, structured mode).
    public var rawContentType: String? = nil

    /// What the request body is.
    public enum Format: String, Sendable, CaseIterable {
        /// A JSON envelope: topic, messageId, generateTime, iotInstanceId, properties, payload.
        case envelope
        /// The payload as is; the properties as `X-IoT-…` headers.
        case raw
    }
}

/// A rate cap: messages/s and bytes/s, either optional.
public struct RateCap: Sendable {
    /// Messages per second at most.
    public var messagesPerSecond: Double?
    /// Payload bytes per second at most.
    public var bytesPerSecond: Double?
}

/// How a connection logs in.
public enum AuthConfiguration: Sendable {
    /// The platform's signature login.
    case aksign(PlatformAuth)
    /// The platform's STS token login.
    case ststoken(PlatformAuth)
    /// SASL PLAIN.
    case plain(user: String, password: Secret)
    /// SASL ANONYMOUS.
    case anonymous
}

extension AuthConfiguration {
    /// Whether this is one of the platform's logins.
    var isPlatform: Bool {
        switch self {
        case .aksign, .ststoken: return true
        case .plain, .anonymous: return false
        }
    }

    /// Whether this is the STS token login.
    var isSTS: Bool {
        if case .ststoken = self { return true }
        return false
    }
}

/// The platform's login settings (reference §1.3).
public struct PlatformAuth: Sendable {
    /// The AccessKey ID.
    public var accessKeyId: String
    /// The AccessKey secret.
    public var accessKeySecret: Secret
    /// The consumer group.
    public var consumerGroupId: String
    /// The instance ID; empty for a legacy public instance.
    public var iotInstanceId: String
    /// The signature method. Default: hmacsha1.
    public var signMethod: String
    /// The STS security token (ststoken only).
    public var securityToken: Secret?
    /// The clientId prefix; each connection adds `-N`. Default: `iotbridge-HOST-UPSTREAM`.
    public var clientIdPrefix: String?
    /// Where the consumer group id comes from when it is a migration's: resolved by
    /// ``BridgeConfiguration/resolvingPlanReferences()`` before the bridge starts.
    public var consumerGroupFromPlan: PlanReference?
}

/// `consumerGroupId: { fromPlan: plan.yaml, name: G1 }`: the ID the migration gave group `name` on the target.
public struct PlanReference: Sendable, Hashable {
    /// The plan file.
    public var plan: String
    /// The consumer group's name (its target name, or its source name).
    public var name: String
    /// Where the reference is written, `file:line:col`, for errors.
    public var location: String
}

/// A secret read from the environment: never printed.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The value.
    public let value: String
    /// Where it came from, e.g. `${IOT_SECRET}`, for messages.
    public let source: String

    /// Creates a secret.
    public init(value: String, source: String) {
        self.value = value
        self.source = source
    }

    /// `<secret from ${VAR}>`: never the value.
    public var description: String { "<secret from \(self.source)>" }
    /// Same as `description`.
    public var debugDescription: String { self.description }
    /// Hides the value from `dump()` and debuggers.
    public var customMirror: Mirror { Mirror(self, children: ["source": self.source]) }
}
