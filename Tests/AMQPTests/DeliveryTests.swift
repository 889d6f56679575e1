//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// What a delivery carries, seen through our client and our own listener on loopback.
@Suite(.timeLimit(.minutes(1)))
struct DeliveryTests {
    static func message(_ index: Int) -> AMQPMessage {
        AMQPMessage(
            body: .data(Array("{\"n\":\(index)}".utf8)),
            applicationProperties: ["topic": .string("/p/d/\(index)"), "generateTime": .long(1_700_000_000_000 + Int64(index))],
            messageID: .string("id-\(index)"),
            durable: index % 2 == 0
        )
    }

    @Test func aDeliveryCarriesTheTransferBytesExactlyAsTheyWereSent() async throws {
        try await Loopback.run { setup in
            let (sender, receiver) = try await setup.publishingLink()
            let messages = (1...5).map(Self.message)
            let outcomes = Collector<AMQPOutcome>()
            for message in messages {
                try await sender.enqueue(message) { if case .success(let outcome) = $0 { outcomes.append(outcome) } }
            }
            let deliveries = try await receiver.take(messages.count)
            for (delivery, message) in zip(deliveries, messages) {
                // Proton encodes the same way when sending and in `encode`, so the bytes are predictable.
                #expect(delivery.encoded == ProtonMessageCodec.encode(message))
                #expect(delivery.message == message)
                delivery.accept()
            }
            try await waitUntil("every outcome arrived") { outcomes.count == messages.count }
            #expect(outcomes.all.allSatisfy { $0 == .accepted })
        }
    }
}
