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
                #expect(delivery.decodingError == nil)
                #expect(!delivery.isPresettled, "our sender sends unsettled")
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
            #expect(
                received.map(\.encoded) == [python, ProtonMessageCodec.encode(Self.message(1)), forwarded, ProtonMessageCodec.encode(Self.message(2)), large])
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

    @Test func undecodableTransfersAreTheApplicationsToSettle() async throws {
        try await Loopback.run { setup in
            // Credit 2: five deliveries only get through if settling the undecodable ones returns credit too.
            let (sender, receiver) = try await setup.consumingLink(credit: 2)
            let misordered = Enc.section(0x73, [0x45]) + Enc.section(0x70, [0x45]) + Enc.data([1])
            let transfers: [[UInt8]] = [[0x01], [], Array(EncodedMessageTests.full.prefix(50)), misordered, ProtonMessageCodec.encode(Self.message(1))]
            let outcomes = Collector<(Int, AMQPOutcome)>()
            for (index, bytes) in transfers.enumerated() {
                let completion: SendCompletion = { if case .success(let outcome) = $0 { outcomes.append((index, outcome)) } }
                // The public API refuses an empty message, so the empty transfer goes in through the engine.
                #expect(sender.engine.enqueue(.send(sender.connectionID, sender.linkID, .encoded(bytes), completion)) == nil)
            }
            // The application decides: a different disposition for each, to see that the library did not.
            let dispositions: [AMQPDisposition] = [
                .rejected(AMQPCondition(name: AMQPCondition.decodeError, description: "garbage")),
                .released,
                .rejected(nil),
                .modified(deliveryFailed: true, undeliverableHere: true),
                .accepted,
            ]
            let received = try await withTimeout(.seconds(10), "5 deliveries through credit 2") {
                var received: [AMQPDelivery] = []
                for try await delivery in receiver.deliveries {
                    delivery.settle(dispositions[received.count])
                    received.append(delivery)
                    if received.count == transfers.count { break }
                }
                return received
            }
            #expect(received.map(\.encoded) == transfers)
            for delivery in received.prefix(4) {
                #expect(delivery.decodingError?.code == .protocolViolation)
                #expect(delivery.message == AMQPMessage(), "an undecodable delivery carries no made-up message")
            }
            #expect(received[1].decodingError?.message.contains("0 bytes") == true)
            #expect(received[2].decodingError?.message.contains("at byte") == true)
            #expect(received[3].decodingError?.message.contains("header section follows the properties section") == true)
            #expect(received[4].decodingError == nil)
            #expect(received[4].message == Self.message(1))
            try await waitUntil("every outcome arrived") { outcomes.count == transfers.count }
            let byIndex = Dictionary(outcomes.all, uniquingKeysWith: { first, _ in first })
            #expect(byIndex[0] == .rejected(AMQPCondition(name: AMQPCondition.decodeError, description: "garbage")))
            #expect(byIndex[1] == .released)
            #expect(byIndex[2] == .rejected(nil))
            #expect(byIndex[3] == .modified(deliveryFailed: true, undeliverableHere: true))
            #expect(byIndex[4] == .accepted)
        }
    }

    @Test func aReceiverThatDoesNotDecodeStillChecksEveryEncoding() async throws {
        try await Loopback.run { setup in
            let receiver = try await setup.connection.openReceiver(address: "raw", credit: 10, decodesMessages: false)
            guard case .consuming(let sender, _) = try await setup.listener.nextLink() else {
                throw LoopbackError("expected a consuming link")
            }
            let valid = ProtonMessageCodec.encode(Self.message(1))
            let misordered = Enc.section(0x73, [0x45]) + Enc.section(0x70, [0x45]) + Enc.data([1])
            for bytes in [valid, misordered] {
                #expect(sender.engine.enqueue(.send(sender.connectionID, sender.linkID, .encoded(bytes), { _ in })) == nil)
            }
            let received = try await withTimeout(.seconds(10), "2 deliveries") {
                var received: [AMQPDelivery] = []
                for try await delivery in receiver.deliveries {
                    delivery.accept()
                    received.append(delivery)
                    if received.count == 2 { break }
                }
                return received
            }
            #expect(received.map(\.encoded) == [valid, misordered])
            #expect(received[0].decodingError == nil)
            #expect(received[0].message == AMQPMessage(), "not decoded: the application reads `encoded`")
            #expect(received[1].decodingError?.message.contains("header section follows the properties section") == true)
            #expect(received[0].encodedMessage?.sections == (try AMQPEncodedMessage(bytes: valid)).sections, "the check's sections come along")
            #expect(received[0].encodedMessage?.bytes == valid)
            #expect(received[1].encodedMessage == nil)
        }
    }

    // MARK: - Batches

    @Test func nextBatchTakesEverythingBufferedAtOnceAndWaitsOnlyWhenNothingIs() async throws {
        try await Loopback.run { setup in
            let (sender, receiver) = try await setup.consumingLink(credit: 50)
            var iterator = receiver.deliveries.makeAsyncIterator()
            // Nothing buffered: nextBatch waits until something arrives. (An iterator holds no more than the batch
            // it is in, so one made in the task stands in for ours while ours has none.)
            let deliveries = receiver.deliveries
            let waiting = Task {
                var iterator = deliveries.makeAsyncIterator()
                return try await iterator.nextBatch()
            }
            try await Task.sleep(for: .milliseconds(200))
            try await sender.enqueue(Self.message(0)) { _ in }
            let first = try await withTimeout(.seconds(10), "the waiting nextBatch returns") { try await waiting.value }
            #expect(first.map(\.message) == [Self.message(0)])
            receiver.settle(first)

            // Twenty arrive while nobody reads (several proactor batches): one call takes them all, in order.
            for index in 1...20 { try await sender.enqueue(Self.message(index)) { _ in } }
            try await waitUntil("20 deliveries buffered") { receiver.shared.bufferedCount == 20 }
            let twenty = try await iterator.nextBatch()
            #expect(twenty.map(\.message) == (1...20).map(Self.message))
            receiver.settle(twenty)

            // Mixed with next(): nextBatch returns the rest of the batch next() started on.
            for index in 21...25 { try await sender.enqueue(Self.message(index)) { _ in } }
            try await waitUntil("5 deliveries buffered") { receiver.shared.bufferedCount == 5 }
            let single = try await iterator.next()
            #expect(single?.message == Self.message(21))
            #expect(iterator.hasBufferedDeliveries)
            let rest = try await iterator.nextBatch()
            #expect(rest.map(\.message) == (22...25).map(Self.message))
            #expect(!iterator.hasBufferedDeliveries)
            receiver.settle(rest + [single].compactMap { $0 })

            // The end of the link: an empty batch, and next() agrees.
            receiver.close()
            let last = try await withTimeout(.seconds(10), "the link ends") {
                var iterator = deliveries.makeAsyncIterator()
                return try await iterator.nextBatch()
            }
            #expect(last.isEmpty)
            #expect(try await iterator.next() == nil)
        }
    }

    @Test func nextBatchThrowsWhenThePeerDetachesTheLink() async throws {
        try await Loopback.run { setup in
            let (sender, receiver) = try await setup.consumingLink()
            var iterator = receiver.deliveries.makeAsyncIterator()
            sender.close()
            let error = await #expect(throws: AMQPError.self) { try await iterator.nextBatch() }
            #expect(error?.code == .linkDetached)
        }
    }

    // MARK: - Credit control

    @Test func stopCreditLetsOnlyTheCreditAlreadyGrantedThroughUntilResumed() async throws {
        try await Loopback.run { setup in
            let (sender, receiver) = try await setup.consumingLink(credit: 5)
            let held = Collector<AMQPDelivery>()
            let consumer = Task {
                for try await delivery in receiver.deliveries { held.append(delivery) }
            }
            defer { consumer.cancel() }
            for index in 1...2 { try await sender.enqueue(Self.message(index)) { _ in } }
            try await waitUntil("2 deliveries arrived") { held.count == 2 }
            // Stop, then settle: the settlements return no credit, but the 3 credits the peer still holds stand.
            receiver.stopCredit()
            receiver.settle(held.all)
            for index in 3...12 { try await sender.enqueue(Self.message(index)) { _ in } }
            try await waitUntil("the 3 credits granted before the stop were used") { held.count == 5 }
            receiver.settle(Array(held.all[2...]))
            // Nothing signals that a delivery did NOT arrive: a quiet period long enough for the 7 queued messages
            // to cross loopback many times over if credit allowed it.
            try await Task.sleep(for: .milliseconds(500))
            #expect(held.count == 5)
            // Resume: the window (nothing is unsettled) at once, then settling tops up as usual.
            receiver.resumeCredit()
            try await waitUntil("a window's worth after resuming") { held.count == 10 }
            receiver.settle(Array(held.all[5...]))
            try await waitUntil("the rest after settling") { held.count == 12 }
            receiver.settle(Array(held.all[10...]))
            #expect(held.all.map(\.message) == (1...12).map(Self.message))
        }
    }
}
