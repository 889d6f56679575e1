//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import Synchronization
import Testing

@testable import AMQP

/// Our client and our own listener in one process, on a free loopback port: enough to see what a delivery
/// carries and how credit moves without any external peer (the integration suites cover real brokers).
enum Loopback {
    static let user = "amqp-tests"
    static let password = "loopback-9c41"

    /// Quiet unless `IOTBRIDGE_TEST_LOG_LEVEL` asks for more (e.g. `debug` when a test fails).
    static var logger: Logger {
        var logger = Logger(label: "iotbridge.amqp-tests")
        let level = ProcessInfo.processInfo.environment["IOTBRIDGE_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .critical
        return logger
    }

    /// One engine with a listener and a client connected to it.
    struct Setup: Sendable {
        let engine: AMQPEngine
        let listener: AMQPListener
        let connection: AMQPConnection

        /// A link the client sends on: the client's sender and the listener's receiver.
        func publishingLink(address: String = "in", window: Int = 100) async throws -> (AMQPSender, AMQPReceiver) {
            let sender = try await self.connection.openSender(address: address, window: window)
            guard case .publishing(let receiver, _) = try await self.listener.nextLink() else {
                throw LoopbackError("expected a publishing link")
            }
            return (sender, receiver)
        }

        /// A link the client receives on: the listener's sender and the client's receiver.
        func consumingLink(address: String = "out", credit: Int = 100) async throws -> (AMQPSender, AMQPReceiver) {
            let receiver = try await self.connection.openReceiver(address: address, credit: credit)
            guard case .consuming(let sender, _) = try await self.listener.nextLink() else {
                throw LoopbackError("expected a consuming link")
            }
            return (sender, receiver)
        }
    }

    /// Runs `body` with a fresh engine, listener and client connection, and always shuts the engine down.
    static func run(_ body: (Setup) async throws -> Void) async throws {
        let engine = AMQPEngine(logger: Self.logger)
        do {
            var listenerConfiguration = AMQPListenerConfiguration(host: "127.0.0.1", port: 0)
            listenerConfiguration.authenticator = .fixed(username: Self.user, password: Self.password)
            // Some tests send a 1 MiB body, which the default max message size (1 MiB, sections included) refuses.
            listenerConfiguration.limits.maxMessageSize = 4 << 20
            let listener = try await engine.listen(listenerConfiguration)
            var configuration = AMQPConnectionConfiguration(
                endpoint: try AMQPEndpoint(url: "amqp://\(Self.user):\(Self.password)@127.0.0.1:\(listener.port)")
            )
            configuration.reconnect = .never
            configuration.connectTimeout = .seconds(10)
            let connection = engine.makeConnection(configuration)
            try await connection.open()
            try await body(Setup(engine: engine, listener: listener, connection: connection))
            await connection.close()
            await listener.close()
            await engine.shutdown()
        } catch {
            await engine.shutdown()
            throw error
        }
    }
}

/// A failure of the loopback plumbing itself (not of the behaviour under test).
struct LoopbackError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension AMQPListener {
    /// The next link a client attaches, or a failure after `timeout`.
    func nextLink(timeout: Duration = .seconds(10)) async throws -> AMQPInboundLink {
        let links = self.links
        return try await withTimeout(timeout, "a client attaches a link") {
            var iterator = links.makeAsyncIterator()
            guard let link = await iterator.next() else { throw LoopbackError("the listener closed") }
            return link
        }
    }
}

extension AMQPReceiver {
    /// The next `count` deliveries, or a failure after `timeout`.
    func take(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [AMQPDelivery] {
        let deliveries = self.deliveries
        return try await withTimeout(timeout, "\(count) deliveries arrive") {
            var taken: [AMQPDelivery] = []
            for try await delivery in deliveries {
                taken.append(delivery)
                if taken.count == count { break }
            }
            return taken
        }
    }
}

/// Races `body` against `timeout`, so a test waiting on an AMQP stream fails naming `what` instead of hanging.
func withTimeout<T: Sendable>(
    _ timeout: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw LoopbackError("timed out after \(timeout): \(what)")
        }
        return result
    }
}

/// Polls `condition` every 10 ms until it holds, or fails after `timeout`.
func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw LoopbackError("timed out after \(timeout): \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Collects values from several tasks or from callbacks on the proactor thread.
final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    init() {}

    func append(_ item: Element) { self.items.withLock { $0.append(item) } }

    var all: [Element] { self.items.withLock { $0 } }

    var count: Int { self.items.withLock { $0.count } }
}
