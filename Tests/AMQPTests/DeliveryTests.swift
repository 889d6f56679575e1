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

    @Test func encodedBytesAreSentAsTheyAreBetweenMessagesInOrder() async throws {
        try await Loopback.run { setup in
            let (sender, receiver) = try await setup.publishingLink()
            // Python's encoding (every section, map32 properties, a footer) and a forwarded copy of it: bytes no
            // Proton encode of an AMQPMessage would produce.
            let python = EncodedMessageTests.full
            let forwarded = try AMQPEncodedMessage(bytes: python).forwarded(settingApplicationProperty: "via", to: "loopback")
            // A 1 MiB data body, carried in many transfer frames.
            let large = Enc.section(0x75, [0xb0] + Enc.uint32(1 << 20) + (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let outcomes = Collector<AMQPOutcome>()
            let consumer = Task {
                var received: [AMQPDelivery] = []
                for try await delivery in receiver.deliveries {
                    received.append(delivery)
                    delivery.accept()
                    if received.count == 5 { break }
                }
                return received
            }
            #expect(try await sender.send(encoded: python) == .accepted)
            try await sender.enqueue(Self.message(1)) { if case .success(let outcome) = $0 { outcomes.append(outcome) } }
            try await sender.enqueue(encoded: forwarded) { if case .success(let outcome) = $0 { outcomes.append(outcome) } }
            try await sender.enqueue(Self.message(2)) { if case .success(let outcome) = $0 { outcomes.append(outcome) } }
            #expect(try await sender.send(encoded: large) == .accepted)
            let received = try await withTimeout(.seconds(10), "5 deliveries") { try await consumer.value }
            #expect(received.map(\.encoded) == [python, ProtonMessageCodec.encode(Self.message(1)), forwarded, ProtonMessageCodec.encode(Self.message(2)), large])
            #expect(received[0].message == (try ProtonMessageCodec.decode(python)))
            #expect(received[2].message.applicationProperties["via"] == .string("loopback"))
            #expect(received[4].message.body.bytes.count == 1 << 20)
            try await waitUntil("every outcome arrived") { outcomes.count == 3 }
            #expect(outcomes.all.allSatisfy { $0 == .accepted })
        }
    }

    @Test func anEmptyEncodedMessageIsRefusedBeforeItIsQueued() async throws {
        try await Loopback.run { setup in
            let (sender, _) = try await setup.publishingLink()
            let error = await #expect(throws: AMQPError.self) { try await sender.send(encoded: []) }
            #expect(error?.code == .protocolViolation)
            await #expect(throws: AMQPError.self) { try await sender.enqueue(encoded: []) { _ in } }
            #expect(sender.inFlight == 0, "no window slot was taken")
        }
    }
}
