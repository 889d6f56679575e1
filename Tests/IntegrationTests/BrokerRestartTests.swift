//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension IntegrationSuites {
    /// The "Done when: the kill-the-broker test passes", part 1: Proton's C example broker is SIGKILLed in
    /// the middle of a stream and started again on the same port. A sender pushing the stream and a receiver draining
    /// it (two connections) must both notice, retry with backoff while the port is dead, reconnect, re-attach their
    /// links and carry on.
    @Suite(
        "Faults: kill the Proton example broker mid-stream and restart it",
        .serialized,
        .timeLimit(.minutes(2)),
        .enabled(if: TestEnvironment.protonBroker != nil, "needs IOTBRIDGE_PROTON_BROKER (scripts/test.sh)")
    )
    struct BrokerRestartTests {
        @Test("sender and receiver reconnect with backoff and traffic resumes after the restart")
        func senderAndReceiverSurviveABrokerRestart() async throws {
            let directory = try TemporaryDirectory("broker-restart")
            defer { directory.remove() }
            let broker = try await ProtonBroker(in: directory)
            defer { broker.stop() }

            try await AMQPTestSupport.withEngine { engine in
                var configuration = AMQPConnectionConfiguration(
                    endpoint: AMQPEndpoint(host: "127.0.0.1", port: broker.port)
                )
                configuration.reconnect = AMQPTestSupport.fastReconnect
                configuration.connectTimeout = .seconds(2)
                let sendingConnection = engine.makeConnection(configuration)
                let receivingConnection = engine.makeConnection(configuration)
                try await sendingConnection.open()
                try await receivingConnection.open()
                let address = AMQPTestSupport.uniqueName("stream")
                let receiver = try await receivingConnection.openReceiver(address: address, credit: 20)
                let sender = try await sendingConnection.openSender(address: address, window: 20)

                let received = Collector<String>()
                let consumer = Task {
                    for try await delivery in receiver.deliveries {
                        received.append(delivery.message.platformID ?? "")
                        delivery.accept()
                    }
                }
                defer { consumer.cancel() }
                let stop = Flag()
                let outcomes = Collector<(index: Int, outcome: AMQPOutcome)>()
                let producer = Task {
                    var index = 0
                    while !stop.isRaised {
                        index += 1
                        let message = AMQPTestSupport.platformMessage(
                            id: "\(address)-\(index)",
                            body: "reading \(index)"
                        )
                        outcomes.append((index, try await sender.send(message)))
                        // A paced stream rather than a flood, so the kill lands in the middle of it.
                        try await Task.sleep(for: .milliseconds(2))
                    }
                    return index
                }

                try await waitUntil("50 messages went through the first broker", timeout: .seconds(20)) {
                    received.count >= 50
                }
                try await broker.kill()
                // Both connections notice the loss and keep retrying against the dead port: a failed retry leaves
                // them reconnecting after "connection refused".
                try await waitUntil("both connections retry against the dead port", timeout: .seconds(10)) {
                    sendingConnection.state.reconnectError?.code == .connectionRefused
                        && receivingConnection.state.reconnectError?.code == .connectionRefused
                }
                #expect(sendingConnection.openCount == 1)
                #expect(receivingConnection.openCount == 1)
                let receivedBeforeRestart = received.count

                try await broker.restart()
                try await waitUntil("both connections reopened", timeout: .seconds(15)) {
                    sendingConnection.openCount == 2 && receivingConnection.openCount == 2
                }
                // The message in flight when the reopen was noticed may still belong to the old broker; count from
                // the one after it.
                let firstIndexAfterReopen = (outcomes.all.last?.index ?? 0) + 1
                try await waitUntil("50 more messages went through the restarted broker", timeout: .seconds(20)) {
                    outcomes.count >= firstIndexAfterReopen + 50 && received.count >= receivedBeforeRestart + 50
                }
                stop.raise()
                let lastIndex = try await withTimeout(.seconds(10), "the producer stops") { try await producer.value }

                // Every message sent after the reconnect was accepted by the new broker and reached the receiver.
                let afterReopen = outcomes.all.filter { $0.index > firstIndexAfterReopen }
                #expect(afterReopen.count >= 49)
                #expect(
                    afterReopen.allSatisfy { $0.outcome == .accepted },
                    "\(afterReopen.filter { $0.outcome != .accepted })"
                )
                let expectedIDs = Set(afterReopen.map { "\(address)-\($0.index)" })
                try await waitUntil(
                    "the receiver got every message accepted after the reconnect",
                    timeout: .seconds(10)
                ) {
                    expectedIDs.isSubset(of: Set(received.all))
                }
                // Around the kill a message may be lost with the broker's memory, but it is then reported unsettled,
                // never as accepted by a broker that did not take it.
                #expect(outcomes.all.allSatisfy { $0.outcome == .accepted || $0.outcome == .unsettled })
                #expect(outcomes.count == lastIndex)
                // One reconnect each, no flapping.
                #expect(sendingConnection.openCount == 2)
                #expect(receivingConnection.openCount == 2)
                #expect(sendingConnection.state.isOpen && receivingConnection.state.isOpen)
                await sendingConnection.close()
                await receivingConnection.close()
            }
        }

        @Test("settling a delivery from before a reconnect is counted stale; the re-attached link works")
        func settlementsAcrossAReconnectAreStale() async throws {
            let directory = try TemporaryDirectory("broker-stale")
            defer { directory.remove() }
            let broker = try await ProtonBroker(in: directory)
            defer { broker.stop() }

            try await AMQPTestSupport.withEngine { engine in
                var configuration = AMQPConnectionConfiguration(
                    endpoint: AMQPEndpoint(host: "127.0.0.1", port: broker.port)
                )
                configuration.reconnect = AMQPTestSupport.fastReconnect
                configuration.connectTimeout = .seconds(2)
                let connection = engine.makeConnection(configuration)
                try await connection.open()
                let address = AMQPTestSupport.uniqueName("stale")
                let receiver = try await connection.openReceiver(address: address, credit: 5)
                let sender = try await connection.openSender(address: address)
                for index in 1...3 {
                    let message = AMQPTestSupport.platformMessage(id: "\(address)-\(index)", body: "held \(index)")
                    #expect(try await sender.send(message) == .accepted)
                }
                let held = Collector<AMQPDelivery>()
                let consumer = Task {
                    for try await delivery in receiver.deliveries { held.append(delivery) }
                }
                defer { consumer.cancel() }
                try await waitUntil("3 deliveries are held unsettled") { held.count == 3 }

                try await broker.kill()
                try await broker.restart()
                try await waitUntil("the connection reopened", timeout: .seconds(15)) { connection.openCount == 2 }
                #expect(receiver.staleSettlements == 0)
                for delivery in held.all { delivery.accept() }
                try await waitUntil("the 3 settlements are counted stale") { receiver.staleSettlements == 3 }

                // The re-attached receiver works: a message sent now arrives and can be settled normally.
                let fresh = AMQPTestSupport.platformMessage(id: "\(address)-fresh", body: "after the restart")
                #expect(try await sender.send(fresh) == .accepted)
                try await waitUntil("the fresh message arrives") { held.count == 4 }
                #expect(held.all[3].message == fresh)
                held.all[3].accept()
                await connection.close()
                #expect(receiver.staleSettlements == 3)
            }
        }
    }
}
