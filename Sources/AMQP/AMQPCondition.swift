//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An AMQP error condition as it travels in Close, Detach and Disposition frames, e.g.
/// `amqp:unauthorized-access` with a description.
public struct AMQPCondition: Sendable, Hashable, CustomStringConvertible {
    /// The symbolic condition name, such as `amqp:not-found`.
    public var name: String
    /// The human-readable description the peer supplied (may be empty).
    public var description: String

    /// Creates a condition from its name and description.
    public init(name: String, description: String = "") {
        self.name = name
        self.description = description
    }

    /// `amqp:unauthorized-access`: the SASL login or the link was refused.
    public static let unauthorizedAccess = "amqp:unauthorized-access"
    /// `amqp:resource-limit-exceeded`: Proton uses it for an expired idle timeout; the listener for its
    /// connection, session and link limits.
    public static let resourceLimitExceeded = "amqp:resource-limit-exceeded"
    /// `amqp:link:message-size-exceeded`: a message was larger than the link's max message size.
    public static let messageSizeExceeded = "amqp:link:message-size-exceeded"
    /// `amqp:link:transfer-limit-exceeded`: the sender sent more transfers than its credit allowed.
    public static let transferLimitExceeded = "amqp:link:transfer-limit-exceeded"
    /// `amqp:connection:framing-error`: a frame could not be read (malformed, or over the max frame size).
    public static let framingError = "amqp:connection:framing-error"
    /// `amqp:not-found`: the address does not exist.
    public static let notFound = "amqp:not-found"
    /// `amqp:decode-error`: the message could not be decoded (reject an `AMQPDelivery.decodingError` with it).
    public static let decodeError = "amqp:decode-error"
    /// `amqp:connection:forced`: the peer closed the connection on purpose.
    public static let connectionForced = "amqp:connection:forced"
}
