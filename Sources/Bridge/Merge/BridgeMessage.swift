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
public struct BridgeMessage: Sendable {
    /// The upstream it came from (its configured name).
    public var upstream: String
    /// The `iotInstanceId` the bridge adds: the upstream's instance id, or its name.
    public var instanceLabel: String
    /// The `topic` application property, when it is text.
    public var topic: String?
    /// The messageId as text (the `messageId` application property, else the AMQP message-id).
    public var messageId: String?
    /// The `generateTime` application property (ms since the epoch), when it is a number.
    public var generateTime: Int64?
    /// Every application property, decoded.
    public var properties: [String: AMQPValue]
    /// The payload: the data section's bytes (the platform delivers payloads this way), else the body's bytes.
    public var payload: [UInt8]
    /// The bytes AMQP sinks send.
    public var forwardedEncoding: [UInt8]
    /// The bytes as received, kept for the dead letter so a replay sends exactly what arrived.
    public var receivedEncoding: [UInt8]
    /// The de-duplication claim; nil when the message has no messageId (it passes through, counted).
    public var claimKey: ClaimKey?
    /// Why the message cannot be delivered (undecodable, too large, a topic that is not UTF-8, …); nil if fine.
    public var defect: String?
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
    /// Builds the message of one upstream delivery. Never throws: whatever is wrong with the delivery is put in
    /// `defect`, so it goes to the dead letter with its bytes instead of being lost or settled silently.
    public init(delivery: AMQPDelivery, upstream: String, instanceLabel: String, maxMessageSize: Int) {
        self.init(
            encoded: delivery.encoded,
            decoded: delivery.decodingError == nil ? delivery.message : nil,
            decodingError: delivery.decodingError,
            upstream: upstream,
            instanceLabel: instanceLabel,
            maxMessageSize: maxMessageSize
        )
    }

    /// Builds the message of an encoding: received (`decoded` is what the library decoded) or kept in a dead
    /// letter (`decoded` nil: it is decoded here).
    public init(
        encoded: [UInt8],
        decoded: AMQPMessage?,
        decodingError: AMQPError?,
        upstream: String,
        instanceLabel: String,
        maxMessageSize: Int
    ) {
        self.upstream = upstream
        self.instanceLabel = instanceLabel
        self.receivedEncoding = encoded
        var decodingError = decodingError
        var message = decoded ?? AMQPMessage()
        if decoded == nil, decodingError == nil {
            do {
                message = try AMQPMessage(decoding: encoded)
            } catch {
                decodingError = error
            }
        }
        self.properties = message.applicationProperties
        self.topic = nil
        self.messageId = nil
        self.generateTime = nil
        self.payload = []
        self.forwardedEncoding = []
        self.claimKey = nil
        self.defect = nil
        if let error = decodingError {
            self.defect = "undecodable AMQP message: \(error.message)"
            return
        }
        let view: AMQPEncodedMessage
        do {
            view = try AMQPEncodedMessage(bytes: encoded)
        } catch {
            self.defect = "undecodable AMQP message: \(error.message)"
            return
        }
        // The key and the names come first, so that even a defective message is claimed (its duplicates are
        // dropped, not dead-lettered twice) and its dead-letter record says which message it was.
        let topicValue = view.applicationProperty("topic")
        self.topic = topicValue?.stringValue
        self.generateTime = self.properties["generateTime"]?.int64Value
        if let id = view.applicationProperty("messageId") ?? view.messageID {
            switch id.typeName {
            case "string", "symbol": self.messageId = id.stringValue
            default: self.messageId = self.properties["messageId"]?.description ?? message.messageID?.description
            }
            self.claimKey = ClaimKey(
                idType: id.typeName,
                idBytes: id.canonicalBytes,
                topic: topicValue?.canonicalBytes ?? [],
                body: view.body
            )
        }
        if view.bytes.count > maxMessageSize {
            self.defect = "message of \(view.bytes.count) bytes exceeds limits.maxMessageSize (\(maxMessageSize))"
            return
        }
        if let topicValue, !topicValue.isValidUTF8 {
            self.defect = "the topic property is not valid UTF-8"
            return
        }
        self.payload = view.dataBody ?? Array(view.body)
        self.forwardedEncoding = view.forwarded(settingApplicationProperty: "iotInstanceId", to: instanceLabel)
    }
}
