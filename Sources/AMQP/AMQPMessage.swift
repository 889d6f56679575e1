//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An AMQP 1.0 message: the header, properties and application-properties sections this project uses, and the
/// body.
///
/// The model is deliberately small. What a received message carries beyond it (other header and properties
/// fields, annotations, a footer, non-data bodies, property values of other types) is never dropped silently:
/// `unrepresented` names each part, and `AMQPDelivery.encoded` has the message exactly as it arrived, which is
/// what to forward (`AMQPSender.send(encoded:)`) when a message must pass through unchanged.
public struct AMQPMessage: Sendable, Hashable {
    /// The body section.
    public enum Body: Sendable, Hashable {
        /// No body section.
        case none
        /// A `data` section: raw bytes. The IoT platform delivers payloads this way.
        case data([UInt8])
        /// An `amqp-value` section holding a string.
        case string(String)
        /// An `amqp-value` section holding binary.
        case binary([UInt8])
        /// Any other body (`amqp-sequence`, an `amqp-value` map, …), named by its type.
        case unsupported(String)

        /// The body's bytes: data and binary as-is, a string as UTF-8.
        public var bytes: [UInt8] {
            switch self {
            case .data(let b), .binary(let b): return b
            case .string(let s): return Array(s.utf8)
            case .none, .unsupported: return []
            }
        }
    }

    /// A message id or correlation id: AMQP allows four types.
    public enum MessageID: Sendable, Hashable, CustomStringConvertible {
        /// A string id.
        case string(String)
        /// A ulong id.
        case ulong(UInt64)
        /// A uuid id (16 bytes).
        case uuid([UInt8])
        /// A binary id.
        case binary([UInt8])

        public var description: String {
            switch self {
            case .string(let s): return s
            case .ulong(let v): return String(v)
            case .uuid(let b), .binary(let b):
                return b.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            }
        }
    }

    /// Header `durable`. Default: false.
    public var durable: Bool
    /// Header `delivery-count`: how many earlier deliveries of this message failed. Default: 0.
    public var deliveryCount: UInt32
    /// Properties `message-id`.
    public var messageID: MessageID?
    /// Properties `correlation-id`.
    public var correlationID: MessageID?
    /// Properties `subject`.
    public var subject: String?
    /// Properties `content-type`.
    public var contentType: String?
    /// Properties `creation-time`, milliseconds since the Unix epoch.
    public var creationTime: Int64?
    /// The application-properties section. The platform puts `topic`, `messageId` and `generateTime` here.
    public var applicationProperties: [String: AMQPValue]
    /// The body.
    public var body: Body
    /// What the received message carried that this model cannot hold, one entry per part, e.g. `header.ttl`,
    /// `message-annotations`, `application-properties["tags"] (list)`, `body (amqp-sequence)`, `footer`. Empty
    /// for a message built here, and for a received message the model holds completely. Sending this value
    /// sends the message without those parts; forward `AMQPDelivery.encoded` to keep them.
    public var unrepresented: [String]

    /// Creates a message; every part is optional.
    public init(
        body: Body = .none,
        applicationProperties: [String: AMQPValue] = [:],
        messageID: MessageID? = nil,
        correlationID: MessageID? = nil,
        subject: String? = nil,
        contentType: String? = nil,
        creationTime: Int64? = nil,
        durable: Bool = false,
        deliveryCount: UInt32 = 0
    ) {
        self.body = body
        self.applicationProperties = applicationProperties
        self.messageID = messageID
        self.correlationID = correlationID
        self.subject = subject
        self.contentType = contentType
        self.creationTime = creationTime
        self.durable = durable
        self.deliveryCount = deliveryCount
        self.unrepresented = []
    }

    /// The parts that would be sent as something else: a body or an application property held as
    /// `.unsupported` (a placeholder naming a type the model does not hold) would go out as null or not at all.
    /// `AMQPSender` refuses to send such a message.
    var unencodable: [String] {
        var parts: [String] = []
        if case .unsupported(let type) = self.body { parts.append("body (\(type))") }
        for key in self.applicationProperties.keys.sorted() {
            if case .unsupported(let type) = self.applicationProperties[key] {
                parts.append("application-properties[\"\(key)\"] (\(type))")
            }
        }
        return parts
    }
}

extension AMQPMessage {
    /// Decodes a message from its AMQP encoding (for instance one kept in a dead letter). The structure is
    /// checked first (``AMQPEncodedMessage``): Proton alone accepts almost any bytes.
    public init(decoding bytes: [UInt8]) throws(AMQPError) {
        _ = try AMQPEncodedMessage(bytes: bytes)
        self = try ProtonMessageCodec.decode(bytes)
    }
}

extension AMQPMessage {
    /// The AMQP encoding of the message, as Proton writes it (what `AMQPSender.send` transmits).
    public func encoded() -> [UInt8] {
        ProtonMessageCodec.encode(self)
    }
}
