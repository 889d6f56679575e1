//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Foundation
import Synchronization

/// `iotbridge amqp demo`: a self-contained round trip through an embedded broker.
struct AMQPDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Round-trip platform-shaped messages through an embedded loopback broker; needs nothing else.",
        discussion: """
            Starts the in-memory broker on a free loopback port, publishes --count property-post messages the \
            way the IoT platform delivers them (data-section body; topic, messageId and generateTime \
            application properties) with SASL PLAIN, consumes them with a credit window, accepts each, and \
            prints the first few as JSON lines plus a summary with the rate and any message that went missing.
            """
    )

    @Option(help: "How many messages to round-trip.")
    var count: Int = 10_000

    @Option(help: "The receiver's credit window.")
    var credit: Int = 1000

    @Option(help: "How many received messages to print as JSON lines.")
    var show: Int = 3

    @OptionGroup var logging: LogOptions

    func validate() throws {
        if self.count < 1 { throw ValidationError("--count must be at least 1") }
        if self.credit < 1 { throw ValidationError("--credit must be at least 1") }
    }

    func run() async throws {
        let logger = try self.logging.makeLogger(label: "iotbridge.demo")
        let engine = AMQPEngine(logger: logger)
        let password = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var listenerConfiguration = AMQPListenerConfiguration(host: "127.0.0.1", port: 0)
        listenerConfiguration.authenticator = .fixed(username: "demo", password: password)
        let listener = try await engine.listen(listenerConfiguration)
        let broker = AMQPMemoryBroker(logger: logger)
        let endpoint = AMQPEndpoint(host: "127.0.0.1", port: listener.port, address: "demo/telemetry")
        let login = AMQPConnectionConfiguration.Authentication.plain(username: "demo", password: password)
        // Straight to the file descriptor, like the JSON lines, so the lines come out in order.
        FileHandle.standardOutput.write(Data("embedded broker on amqp://127.0.0.1:\(listener.port), address demo/telemetry\n".utf8))

        let count = self.count
        let credit = self.credit
        let show = self.show
        let started = ContinuousClock.now
        let result = try await withThrowingTaskGroup(of: DemoResult?.self) { group in
            group.addTask {
                await broker.serve(listener)
                return nil
            }
            group.addTask {
                try await Self.publish(count: count, engine: engine, endpoint: endpoint, login: login)
                return nil
            }
            group.addTask {
                try await Self.consume(count: count, credit: credit, show: show, engine: engine, endpoint: endpoint, login: login)
            }
            var result: DemoResult?
            while let next = try await group.next() {
                if let next {
                    result = next
                    // The consumer has everything: stop the embedded broker.
                    group.cancelAll()
                }
            }
            return result!
        }
        let elapsed = AMQPSendCommand.seconds(since: started)
        await listener.close()
        await engine.shutdown()
        FileHandle.standardOutput.write(
            Data(
                ("{\"published\":\(count),\"received\":\(result.received),\"missing\":\(result.missing),"
                    + "\"duplicates\":\(result.duplicates),\"seconds\":\(String(format: "%.3f", elapsed)),"
                    + "\"messagesPerSecond\":\(Int(Double(result.received) / max(elapsed, 0.000_001)))}\n").utf8))
        if result.missing > 0 { throw ExitCode(1) }
    }

    struct DemoResult: Sendable {
        var received: Int
        var missing: Int
        var duplicates: Int
    }

    private static func publish(
        count: Int,
        engine: AMQPEngine,
        endpoint: AMQPEndpoint,
        login: AMQPConnectionConfiguration.Authentication
    ) async throws {
        let connection = engine.makeConnection(AMQPConnectionConfiguration(endpoint: endpoint, authentication: login))
        try await connection.open()
        let sender = try await connection.openSender(address: endpoint.address)
        let tally = OutcomeTally(expected: count)
        for index in 0..<count {
            let device = "sensor-\(index % 50)"
            let payload = "{\"deviceName\":\"\(device)\",\"items\":{\"Temperature\":{\"value\":\(20 + index % 25),\"time\":\(1_700_000_000_000 + index)}}}"
            let message = AMQPMessage(
                body: .data(Array(payload.utf8)),
                applicationProperties: [
                    "topic": .string("/a1demo/\(device)/thing/event/property/post"),
                    "messageId": .string(String(1_000_000 + index)),
                    "generateTime": .long(1_700_000_000_000 + Int64(index)),
                ]
            )
            try await sender.enqueue(message) { tally.record($0) }
        }
        await tally.waitForAll()
        await connection.close()
    }

    private static func consume(
        count: Int,
        credit: Int,
        show: Int,
        engine: AMQPEngine,
        endpoint: AMQPEndpoint,
        login: AMQPConnectionConfiguration.Authentication
    ) async throws -> DemoResult {
        let connection = engine.makeConnection(AMQPConnectionConfiguration(endpoint: endpoint, authentication: login))
        try await connection.open()
        let receiver = try await connection.openReceiver(address: endpoint.address, credit: credit)
        var seen = Set<Int>()
        var duplicates = 0
        var output = JSONLineOutput()
        for try await delivery in receiver.deliveries {
            if let error = delivery.decodingError {
                // The demo's own publisher never sends one; anything else on its queue is rejected, not counted.
                delivery.reject(AMQPCondition(name: AMQPCondition.decodeError, description: error.message))
                continue
            }
            if let id = delivery.message.applicationProperties["messageId"]?.int64Value {
                if !seen.insert(Int(id)).inserted { duplicates += 1 }
            }
            if seen.count <= show {
                output.append(delivery.message)
                try? output.flush()  // The demo's sample lines are informative; the count is what it checks.
            }
            delivery.accept()
            if seen.count >= count { break }
        }
        await connection.close()
        let missing = (0..<count).filter { !seen.contains(1_000_000 + $0) }.count
        return DemoResult(received: seen.count, missing: missing, duplicates: duplicates)
    }
}
