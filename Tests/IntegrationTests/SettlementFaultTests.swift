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
    /// The issue's "no delivery is reported settled that the broker did not settle", checked against an independent
    /// peer we can look inside: `peer_server.py` receives our stream and is SIGKILLed in the middle of it, then
    /// started again on the same port while our sender keeps going.
    ///
    /// Why the peer's output is the ground truth: its `on_message` prints the message as a JSON line and flushes
    /// (`peerlib.emit`) BEFORE it calls `self.accept(delivery)`, and it is built with `auto_accept=False`, so no
    /// accepted disposition can leave the peer for a message that is not already in its output file. A SIGKILL loses
    /// nothing already printed. Hence: every message our sender reports `.accepted` must appear in the union of the
    /// two incarnations' printed messages; a printed message whose disposition died with the peer must be reported
    /// `.unsettled`, never `.accepted`.
    @Suite(
        "Faults: kill the receiving peer mid-stream; settled means the peer settled",
        .serialized,
        .timeLimit(.minutes(2)),
        .enabled(if: TestEnvironment.hasPythonPeers, "needs IOTBRIDGE_PYTHON and IOTBRIDGE_PEERS (scripts/test.sh)")
    )
    struct SettlementFaultTests {
        @Test("every .accepted message was printed (settled) by a peer; messages in flight at the kill are .unsettled")
        func acceptedImpliesSettledByThePeer() async throws {
            let directory = try TemporaryDirectory("settlement")
            defer { directory.remove() }
            let (firstPeer, port) = try await PythonPeers.startServer(["--port", "0"], in: directory)
            defer { firstPeer.stop() }
            let total = 5000
            let killAfter = 300

            let secondPeer: ManagedProcess = try await AMQPTestSupport.withEngine { engine in
                var configuration = AMQPConnectionConfiguration(endpoint: AMQPEndpoint(host: "127.0.0.1", port: port))
                configuration.reconnect = AMQPTestSupport.fastReconnect
                configuration.connectTimeout = .seconds(2)
                let connection = engine.makeConnection(configuration)
                try await connection.open()
                // A window of 100 keeps many messages transmitted and awaiting their disposition at any moment.
                let sender = try await connection.openSender(address: "settlement", window: 100)
                let prefix = AMQPTestSupport.uniqueName("settle")
                let results = Collector<(id: String, result: Result<AMQPOutcome, AMQPError>)>()
                let producer = Task {
                    for index in 1...total {
                        let id = "\(prefix)-\(index)"
                        try await sender.enqueue(AMQPTestSupport.platformMessage(id: id, body: "reading \(index)")) {
                            results.append((id, $0))
                        }
                    }
                }
                defer { producer.cancel() }

                try await waitUntil("the first peer printed \(killAfter) messages", timeout: .seconds(30)) {
                    firstPeer.countLines(containing: "\"event\":\"message\"") >= killAfter
                }
                firstPeer.send(SIGKILL)
                try await firstPeer.waitForExit(timeout: .seconds(10))
                #expect(results.count < total, "the kill must land mid-stream")
                try await waitUntil("our connection notices and retries", timeout: .seconds(10)) {
                    connection.state.reconnectError != nil
                }
                let (secondPeer, secondPort) = try await PythonPeers.startServer(
                    ["--port", String(port)],
                    in: directory
                )
                #expect(secondPort == port)
                do {
                    try await waitUntil("our connection reopened", timeout: .seconds(15)) { connection.openCount == 2 }
                    try await withTimeout(.seconds(60), "the producer enqueued all \(total)") {
                        try await producer.value
                    }
                    try await waitUntil("every message has its outcome", timeout: .seconds(30)) {
                        results.count == total
                    }
                } catch {
                    secondPeer.stop()
                    throw error
                }
                await connection.close()
                // Every outcome is final, and the peer flushed each printed line: its output is complete now. (It has
                // no goals, so it would serve on; SIGTERM, then SIGKILL if it lingers.)
                secondPeer.stop(grace: .seconds(5))
                Self.check(results.all, firstPeer: firstPeer, secondPeer: secondPeer, total: total)
                return secondPeer
            }
            secondPeer.stop()
        }

        /// The assertions, over the sender's outcomes and the two peers' printed messages.
        static func check(
            _ results: [(id: String, result: Result<AMQPOutcome, AMQPError>)],
            firstPeer: ManagedProcess,
            secondPeer: ManagedProcess,
            total: Int
        ) {
            let printedByFirst = Set(firstPeer.events("message").compactMap { $0["messageId"]?.string })
            let printedBySecond = Set(secondPeer.events("message").compactMap { $0["messageId"]?.string })
            let printed = printedByFirst.union(printedBySecond)
            var outcomes: [String: AMQPOutcome] = [:]
            for (id, result) in results {
                switch result {
                case .success(let outcome):
                    #expect(outcomes[id] == nil, "\(id) has two outcomes")
                    outcomes[id] = outcome
                case .failure(let error):
                    Issue.record("\(id) failed instead of having an outcome: \(error)")
                }
            }
            #expect(outcomes.count == total)
            let accepted = Set(outcomes.filter { $0.value == .accepted }.keys)
            let unsettled = Set(outcomes.filter { $0.value == .unsettled }.keys)

            // The property under test: nothing reported accepted that no peer settled.
            let acceptedButNeverSettled = accepted.subtracting(printed)
            #expect(
                acceptedButNeverSettled.isEmpty,
                "accepted but never printed by a peer: \(acceptedButNeverSettled.sorted())"
            )
            // A message the first peer printed whose accept died with it is unsettled: not accepted, not anything else.
            for id in printedByFirst.subtracting(accepted) {
                #expect(
                    outcomes[id] == .unsettled,
                    "\(id) was printed by the killed peer; outcome \(String(describing: outcomes[id]))"
                )
            }
            // Only the kill can leave a message without a disposition, and with a full window it did.
            #expect(outcomes.values.allSatisfy { $0 == .accepted || $0 == .unsettled })
            #expect(!unsettled.isEmpty, "a window of transmitted messages was in flight at the kill")
            // Traffic resumed: the second peer took the rest of the stream, and we never resent an unsettled message
            // on our own (the application decides that).
            #expect(printedBySecond.count + printedByFirst.count >= accepted.count)
            #expect(!printedBySecond.isEmpty)
            #expect(printedBySecond.isSubset(of: accepted), "the second peer accepted everything it printed")
            #expect(printedByFirst.isDisjoint(with: printedBySecond), "nothing was sent twice")
            #expect(unsettled.isDisjoint(with: printedBySecond))
        }
    }
}
