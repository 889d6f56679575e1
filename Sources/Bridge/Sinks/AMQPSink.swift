//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Logging
import Synchronization

/// Sends each message to a broker address over AMQP 1.0: the received bytes as they are (plus `iotInstanceId`),
/// or a rule's output as a new message carrying the original's `topic`, `messageId` and `generateTime`.
///
/// Confirmed means the broker's `accepted`. `rejected` refuses the message (→ dead letter). `released` and
/// `modified` are retried up to `maxAttempts`, then refused. A message whose outcome was lost with the
/// connection (`unsettled`) is sent again after the reconnect: the broker may then hold it twice, with the same
/// messageId — never zero times.
final class AMQPSink: Sink {
    private struct Counters {
        var state = SinkState(phase: "connecting")
    }

    let name: String
    let settings: AMQPSinkSettings
    let logger: Logger
    private let engine: AMQPEngine
    private let counters = Mutex(Counters())
    private let link = Mutex<(connection: AMQPConnection?, sender: AMQPSender?)>((nil, nil))

    init(name: String, settings: AMQPSinkSettings, engine: AMQPEngine, logger: Logger) {
        self.name = name
        self.settings = settings
        self.engine = engine
        self.logger = logger
    }

    func start() async throws {
        var configuration = AMQPConnectionConfiguration(endpoint: self.settings.endpoint)
        configuration.tls = self.settings.tls
        configuration.label = "sink \(self.name)"
        configuration.reconnect.retryInitialConnect = false
        configuration.reconnect.maximumDelay = .seconds(5)
        switch self.settings.auth {
        case .plain(let user, let password):
            configuration.authentication = .plain(username: user, password: password.value)
        case .anonymous:
            configuration.authentication = .anonymous
        case .aksign, .ststoken:
            throw BridgeError(.configuration, "sink \(self.name): an amqp sink logs in with plain or anonymous, not a platform login")
        }
        let connection = self.engine.makeConnection(configuration)
        do {
            try await connection.open()
            let sender = try await connection.openSender(address: self.settings.endpoint.address, window: self.settings.window)
            self.link.withLock { $0 = (connection, sender) }
            self.counters.withLock { $0.state.phase = "flowing" }
        } catch let error as AMQPError {
            await connection.close()
            throw BridgeError(.sinkUnavailable, "sink \(self.name): \(error.message)")
        }
    }

    func send(_ message: SinkMessage, completion: @escaping @Sendable (SinkOutcome) -> Void) async throws {
        guard let sender = self.link.withLock({ $0.sender }) else {
            throw BridgeError(.shuttingDown, "sink \(self.name) is not connected")
        }
        self.counters.withLock { $0.state.inFlight += 1 }
        try await self.transmit(message, sender: sender, attempt: 1, completion: completion)
    }

    private func transmit(
        _ item: SinkMessage,
        sender: AMQPSender,
        attempt: Int,
        completion: @escaping @Sendable (SinkOutcome) -> Void
    ) async throws {
        let onOutcome: @Sendable (Result<AMQPOutcome, AMQPError>) -> Void = { result in
            switch result {
            case .success(.accepted):
                self.finish(.confirmed, completion)
            case .success(.rejected(let condition)):
                let reason = condition.map { "\($0.name)\($0.description.isEmpty ? "" : ": \($0.description)")" } ?? "rejected"
                self.finish(.refused("sink \(self.name): the broker rejected the message (\(reason))"), completion)
            case .success(.released), .success(.modified):
                if attempt >= self.settings.maxAttempts {
                    self.finish(
                        .refused("sink \(self.name): the broker released the message \(attempt) times (maxAttempts)"),
                        completion
                    )
                } else {
                    self.retry(item, sender: sender, attempt: attempt + 1, problem: "released", completion: completion)
                }
            case .success(.unsettled):
                // The outcome was lost with the connection: send again (the same attempt number).
                self.retry(item, sender: sender, attempt: attempt, problem: "connection lost before the outcome", completion: completion)
            case .failure(let error):
                if error.code == .closed {
                    self.finish(.abandoned, completion)
                } else {
                    self.retry(item, sender: sender, attempt: attempt, problem: error.message, completion: completion)
                }
            }
        }
        if let payload = item.rulePayload {
            try await sender.enqueue(Self.ruleMessage(item.message, payload: payload), onOutcome: onOutcome)
        } else {
            try await sender.enqueue(encoded: item.message.forwardedEncoding, onOutcome: onOutcome)
        }
    }

    private func retry(
        _ item: SinkMessage,
        sender: AMQPSender,
        attempt: Int,
        problem: String,
        completion: @escaping @Sendable (SinkOutcome) -> Void
    ) {
        self.counters.withLock {
            $0.state.retries += 1
            $0.state.lastError = problem
        }
        // Off the proactor thread: waiting for a window slot must never block it.
        Task {
            try? await Task.sleep(for: .milliseconds(min(2000, 50 * attempt)))
            do {
                try await self.transmit(item, sender: sender, attempt: attempt, completion: completion)
            } catch {
                self.finish(.abandoned, completion)
            }
        }
    }

    private func finish(_ outcome: SinkOutcome, _ completion: @Sendable (SinkOutcome) -> Void) {
        self.counters.withLock { counters in
            counters.state.inFlight -= 1
            switch outcome {
            case .confirmed: counters.state.confirmed += 1
            case .refused: counters.state.refused += 1
            case .abandoned: break
            }
        }
        completion(outcome)
    }

    /// A rule's output as a message: the payload as a data section, the original's platform properties.
    static func ruleMessage(_ message: BridgeMessage, payload: [UInt8]) -> AMQPMessage {
        var properties: [String: AMQPValue] = ["iotInstanceId": .string(message.instanceLabel)]
        for key in ["topic", "messageId", "generateTime"] {
            if let value = message.properties[key] { properties[key] = value }
        }
        return AMQPMessage(body: .data(payload), applicationProperties: properties, durable: true)
    }

    func shutdown(deadline: Duration) async {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        while self.counters.withLock({ $0.state.inFlight }) > 0, clock.now < end {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let (connection, sender) = self.link.withLock { link in
            defer { link = (nil, nil) }
            return link
        }
        // Messages still in flight are reported unsettled by the link close and end as abandoned.
        sender?.close()
        await connection?.close()
        self.counters.withLock { $0.state.phase = "stopped" }
    }

    var state: SinkState { self.counters.withLock { $0.state } }
}
