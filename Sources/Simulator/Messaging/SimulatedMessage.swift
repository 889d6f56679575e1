//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP

/// A message as the platform forwards it to a consumer group (reference §2.1): the payload as an AMQP data
/// section, and the application properties `topic`, `messageId` and `generateTime` (epoch ms, a long).
public struct SimulatedMessage: Sendable, Hashable {
    /// The forwarding topic, e.g. `/a1b2/device-001/user/update`.
    public var topic: String
    /// The platform's message ID: the same on every delivery and, during data synchronisation, on both instances.
    public var messageId: String
    /// When the message was generated, epoch milliseconds.
    public var generateTime: Int64
    /// The body bytes.
    public var payload: [UInt8]

    /// Creates a message.
    public init(topic: String, messageId: String, generateTime: Int64, payload: [UInt8]) {
        self.topic = topic
        self.messageId = messageId
        self.generateTime = generateTime
        self.payload = payload
    }

    /// The AMQP message a consumer receives; `deliveryCount` is the header's (AMQP 1.0 §3.2.1), 0 on the first
    /// delivery. The standard `message-id` carries the messageId too, as the Node sample reads it from there.
    public func amqpMessage(deliveryCount: UInt32 = 0) -> AMQPMessage {
        AMQPMessage(
            body: .data(self.payload),
            applicationProperties: [
                "topic": .string(self.topic),
                "messageId": .string(self.messageId),
                "generateTime": .long(self.generateTime),
            ],
            messageID: .string(self.messageId),
            durable: true,
            deliveryCount: deliveryCount
        )
    }
}
