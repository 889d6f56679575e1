//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import AMQP
import Crypto
import Foundation
public import StateStore

/// One message of the merged stream: the platform's fields, where it came from, and its encodings.
///
/// `forwardedEncoding` is what AMQP sinks send: the received bytes with delivery-annotations dropped (they are
/// hop-by-hop) and the `iotInstanceId` application property set; every other section is passed byte for byte,
/// so types and annotations survive the bridge unchanged.
///
/// A class, not a struct: a message is built once and then passed through several tables and closures, and a
/// copy of a reference is one retain where a copy of these ten fields was ten.
public final class BridgeMessage: Sendable {
    /// The upstream it came from (its configured name).
    public let upstream: String
    /// The `iotInstanceId` the bridge adds: the upstream's instance id, or its name.
    public let instanceLabel: String
    /// The `topic` application property, when it is text.
    public let topic: String?
    /// The messageId as text (the `messageId` application property, else the AMQP message-id).
    public let messageId: String?
    /// The `generateTime` application property (ms since the epoch), when it is a number.
    public let generateTime: Int64?
    /// The payload: the data section's bytes (the platform delivers payloads this way), else the body's bytes.
    public let payload: [UInt8]
    /// The bytes AMQP sinks send.
    public let forwardedEncoding: [UInt8]
    /// The bytes as received, kept for the dead letter so a replay sends exactly what arrived.
    public let receivedEncoding: [UInt8]
    /// The de-duplication claim; nil when the message has no messageId (it passes through, counted).
    public let claimKey: ClaimKey?
    /// Why the message cannot be delivered (undecodable, too large, a topic that is not UTF-8, …); nil if fine.
    public let defect: String?
    /// The application properties when they were given rather than received (the bridge's own events).
    private let givenProperties: [String: AMQPValue]?

    /// Every application property, decoded from `receivedEncoding` on each call: only the JSON envelope and rule
    /// outputs need them, so relaying a message never decodes them. Read it once per use.
    public var properties: [String: AMQPValue] {
        if let given = self.givenProperties { return given }
        return (try? AMQPMessage(decoding: self.receivedEncoding))?.applicationProperties ?? [:]
    }

    /// Creates a message from its parts (the bridge's own events, which need no scan of their encoding).
    convenience init(
        upstream: String,
        instanceLabel: String,
        topic: String?,
        messageId: String?,
        generateTime: Int64?,
        properties: [String: AMQPValue],
        payload: [UInt8],
        forwardedEncoding: [UInt8],
        receivedEncoding: [UInt8],
        claimKey: ClaimKey?,
        defect: String?
    ) {
        self.init(
            upstream: upstream,
            instanceLabel: instanceLabel,
            topic: topic,
            messageId: messageId,
            generateTime: generateTime,
            givenProperties: properties,
            payload: payload,
            forwardedEncoding: forwardedEncoding,
            receivedEncoding: receivedEncoding,
            claimKey: claimKey,
            defect: defect
        )
    }

    private init(
        upstream: String,
        instanceLabel: String,
        topic: String?,
        messageId: String?,
        generateTime: Int64?,
        givenProperties: [String: AMQPValue]?,
        payload: [UInt8],
        forwardedEncoding: [UInt8],
        receivedEncoding: [UInt8],
        claimKey: ClaimKey?,
        defect: String?
    ) {
        self.upstream = upstream
        self.instanceLabel = instanceLabel
        self.topic = topic
        self.messageId = messageId
        self.generateTime = generateTime
        self.givenProperties = givenProperties
        self.payload = payload
        self.forwardedEncoding = forwardedEncoding
        self.receivedEncoding = receivedEncoding
        self.claimKey = claimKey
        self.defect = defect
    }
}

extension ClaimKey {
    /// The de-duplication key of a message: 16 bytes of SHA-256 over the id's type name and canonical bytes
    /// (the string "42" is not the ulong 42), and 8 bytes of SHA-256 over the topic and the body.
    init(idType: String, idBytes: [UInt8], topic: [UInt8], body: ArraySlice<UInt8>) {
        // Hashed from the buffers in place: this runs once per relayed message.
        var separator: UInt8 = 0
        var hasher = SHA256()
        var type = idType
        type.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: &separator) { hasher.update(bufferPointer: $0) }
        idBytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        var content = SHA256()
        topic.withUnsafeBytes { content.update(bufferPointer: $0) }
        withUnsafeBytes(of: &separator) { content.update(bufferPointer: $0) }
        body.withUnsafeBytes { content.update(bufferPointer: $0) }
        self.init(
            key: Array(hasher.finalize().prefix(16)),
            contentDigest: content.finalize().withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: Int64.self) }
        )
    }
}

extension BridgeMessage {
    /// Builds the message of one upstream delivery (the bridge opens its receivers without decoding: everything
    /// is read from the encoding). Never throws: whatever is wrong with the delivery is put in `defect`, so it goes
    /// to the dead letter with its bytes instead of being lost or settled silently.
    public convenience init(delivery: AMQPDelivery, upstream: String, instanceLabel: String, maxMessageSize: Int) {
        self.init(
            encoded: delivery.encoded,
            // The receiver's check already split the encoding into its sections.
            view: delivery.encodedMessage,
            decodingError: delivery.decodingError,
            upstream: upstream,
            instanceLabel: instanceLabel,
            maxMessageSize: maxMessageSize
        )
    }
}

extension BridgeMessage {
    /// Builds the message of an encoding, received (`decodingError` is what the library found wrong with it) or
    /// kept in a dead letter.
    public convenience init(
        encoded: [UInt8],
        decodingError: AMQPError?,
        upstream: String,
        instanceLabel: String,
        maxMessageSize: Int
    ) {
        self.init(
            encoded: encoded,
            view: nil,
            decodingError: decodingError,
            upstream: upstream,
            instanceLabel: instanceLabel,
            maxMessageSize: maxMessageSize
        )
    }

    /// `view`: the encoding already split into sections, nil to split it here.
    private convenience init(
        encoded: [UInt8],
        view: AMQPEncodedMessage?,
        decodingError: AMQPError?,
        upstream: String,
        instanceLabel: String,
        maxMessageSize: Int
    ) {
        let fields = Self.read(
            encoded,
            view: view,
            decodingError: decodingError,
            instanceLabel: instanceLabel,
            maxMessageSize: maxMessageSize
        )
        self.init(
            upstream: upstream,
            instanceLabel: instanceLabel,
            topic: fields.topic,
            messageId: fields.messageId,
            generateTime: fields.generateTime,
            givenProperties: nil,
            payload: fields.payload,
            forwardedEncoding: fields.forwardedEncoding,
            receivedEncoding: encoded,
            claimKey: fields.claimKey,
            defect: fields.defect
        )
    }

    /// A received message's fields, read by ``read(_:view:decodingError:instanceLabel:maxMessageSize:)``.
    private struct ReceivedFields {
        var topic: String?
        var messageId: String?
        var generateTime: Int64?
        var payload: [UInt8] = []
        var forwardedEncoding: [UInt8] = []
        var claimKey: ClaimKey?
        var defect: String?
    }

    /// Reads the fields of an encoding from the encoding itself (`AMQPEncodedMessage`), without decoding it.
    private static func read(
        _ encoded: [UInt8],
        view given: AMQPEncodedMessage?,
        decodingError: AMQPError?,
        instanceLabel: String,
        maxMessageSize: Int
    ) -> ReceivedFields {
        var fields = ReceivedFields()
        if let error = decodingError {
            fields.defect = "undecodable AMQP message: \(error.message)"
            return fields
        }
        let view: AMQPEncodedMessage
        if let given {
            view = given
        } else {
            do {
                view = try AMQPEncodedMessage(bytes: encoded)
            } catch {
                fields.defect = "undecodable AMQP message: \(error.message)"
                return fields
            }
        }
        // The key and the names come first, so that even a defective message is claimed (its duplicates are
        // dropped, not dead-lettered twice) and its dead-letter record says which message it was.
        let topicValue = view.applicationProperty("topic")
        fields.topic = topicValue?.stringValue
        fields.generateTime = view.applicationProperty("generateTime")?.int64Value
        if let id = view.applicationProperty("messageId") ?? view.messageID {
            switch id.typeName {
            case "string", "symbol":
                fields.messageId = id.stringValue
            default:
                // Rare (the platform's ids are strings): the decoded value's text, as before the view existed.
                let decoded = try? AMQPMessage(decoding: encoded)
                fields.messageId = decoded?.applicationProperties["messageId"]?.description ?? decoded?.messageID?.description
            }
            fields.claimKey = ClaimKey(
                idType: id.typeName,
                idBytes: id.canonicalBytes,
                topic: topicValue?.canonicalBytes ?? [],
                body: view.body
            )
        }
        if view.bytes.count > maxMessageSize {
            fields.defect = "message of \(view.bytes.count) bytes exceeds limits.maxMessageSize (\(maxMessageSize))"
            return fields
        }
        if let topicValue, !topicValue.isValidUTF8 {
            fields.defect = "the topic property is not valid UTF-8"
            return fields
        }
        fields.payload = view.dataBody ?? Array(view.body)
        fields.forwardedEncoding = view.forwarded(settingApplicationProperty: "iotInstanceId", to: instanceLabel)
        return fields
    }
}
