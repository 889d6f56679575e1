//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Logging
import Synchronization
import Testing

/// Small pieces every AMQP integration suite needs.
enum AMQPTestSupport {
    /// A message shaped like the IoT platform's (reference §2.1): data-section body, application properties
    /// `topic`, `messageId` and `generateTime`, and the same id as AMQP message-id.
    static func platformMessage(
        id: String,
        body: String,
        topic: String = "/a1TestProduct/device1/user/update",
        generateTime: Int64 = Self.nowMilliseconds
    ) -> AMQPMessage {
        AMQPMessage(
            body: .data(Array(body.utf8)),
            applicationProperties: [
                "topic": .string(topic),
                "messageId": .string(id),
                "generateTime": .long(generateTime),
            ],
            messageID: .string(id)
        )
    }

    /// Now, in epoch milliseconds.
    static var nowMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A name no other test or earlier run uses (queues, addresses, message-id prefixes).
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A reconnect policy fast enough for tests: first retry after 50 ms, never more than 500 ms apart.
    static let fastReconnect = ReconnectPolicy(
        initialDelay: .milliseconds(50),
        maximumDelay: .milliseconds(500),
        multiplier: 2,
        jitter: 0.2
    )

    /// A configuration that fails on the first error instead of retrying (wrong password, refused port, …).
    static func failFast(_ url: String) throws -> AMQPConnectionConfiguration {
        var configuration = AMQPConnectionConfiguration(endpoint: try AMQPEndpoint(url: url))
        configuration.reconnect = .never
        configuration.connectTimeout = .seconds(10)
        return configuration
    }

    /// A logger that stays quiet unless `IOTBRIDGE_TEST_LOG_LEVEL` asks for more (e.g. `debug` when a test
    /// fails and its connection log is wanted).
    static var logger: Logger {
        var logger = Logger(label: "iotbridge.integration-tests")
        let level = ProcessInfo.processInfo.environment["IOTBRIDGE_TEST_LOG_LEVEL"].flatMap(
            Logger.Level.init(rawValue:)
        )
        logger.logLevel = level ?? .critical
        return logger
    }

    /// Runs `body` with a fresh engine and always shuts the engine down afterwards.
    static func withEngine<T>(_ body: (AMQPEngine) async throws -> T) async throws -> T {
        let engine = AMQPEngine(logger: Self.logger)
        do {
            let result = try await body(engine)
            await engine.shutdown()
            return result
        } catch {
            await engine.shutdown()
            throw error
        }
    }

    /// Runs `body` and returns the `AMQPError` it throws; records a test issue if it throws something else or
    /// nothing at all.
    static func expectAMQPError(
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async -> AMQPError? {
        do {
            try await body()
            Issue.record("\(what): expected an AMQPError, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as AMQPError {
            return error
        } catch {
            Issue.record("\(what): expected an AMQPError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }
}

/// Races `body` against `timeout`, so a test that waits on an AMQP stream fails with a message naming `what`
/// instead of hanging until the suite's time limit.
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
            throw IntegrationTestError("timed out after \(timeout): \(what)")
        }
        return result
    }
}

/// Collects values from several tasks or from callbacks on the proactor thread (outcomes, received messages).
final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    /// Creates an empty collector.
    init() {}

    /// Appends one value.
    func append(_ item: Element) {
        self.items.withLock { $0.append(item) }
    }

    /// A snapshot of everything collected so far.
    var all: [Element] { self.items.withLock { $0 } }

    /// How many values were collected.
    var count: Int { self.items.withLock { $0.count } }
}

extension AMQPMessage {
    /// The application property `name` as a string, if it is one.
    func string(_ name: String) -> String? { self.applicationProperties[name]?.stringValue }

    /// The message's platform id: the `messageId` application property.
    var platformID: String? { self.string("messageId") }
}

extension AMQPListener {
    /// The next link a client attaches, or a failure after `timeout`.
    func nextLink(timeout: Duration = .seconds(15)) async throws -> AMQPInboundLink {
        let links = self.links
        return try await withTimeout(timeout, "a client attaches a link") {
            var iterator = links.makeAsyncIterator()
            guard let link = await iterator.next() else { throw IntegrationTestError("the listener closed") }
            return link
        }
    }
}

/// A flag one task raises and another polls (e.g. "stop producing").
final class Flag: Sendable {
    private let value = Mutex(false)

    /// Creates a lowered flag.
    init() {}

    /// Raises it.
    func raise() { self.value.withLock { $0 = true } }

    /// Whether it was raised.
    var isRaised: Bool { self.value.withLock { $0 } }
}

extension AMQPConnection.State {
    /// Whether the connection is between two attempts, and the error the last attempt ended with.
    var reconnectError: AMQPError? {
        if case .reconnecting(let error) = self { return error }
        return nil
    }

    /// Whether the connection is open.
    var isOpen: Bool {
        if case .open = self { return true }
        return false
    }
}
