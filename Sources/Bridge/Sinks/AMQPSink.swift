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
/// messageId — never zero times. A link the broker detaches (RabbitMQ does on shutdown, before it closes the
/// connection) is attached again with backoff; the messages it held are sent again on the new link.
final class AMQPSink: Sink {
    private struct Counters {
        var state = SinkState(phase: "connecting")
    }

    let name: String
    let settings: AMQPSinkSettings
    let logger: Logger
    private let engine: AMQPEngine
    private let counters = Mutex(Counters())
    private let link = Mutex<LinkState>(LinkState())

    private struct LinkState {
        var connection: AMQPConnection?
        var sender: AMQPSender?
        /// The attach under way after the sender failed; every retry waits for it.
        var reattach: Task<AMQPSender, any Error>?
        var stopped = false
    }

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
            let sender = try await self.openSender(on: connection)
            self.link.withLock {
                $0.connection = connection
                $0.sender = sender
            }
            self.counters.withLock { $0.state.phase = "flowing" }
        } catch let error as AMQPError {
            await connection.close()
            throw BridgeError(.sinkUnavailable, "sink \(self.name): \(error.message)")
        }
    }

    private func openSender(on connection: AMQPConnection) async throws -> AMQPSender {
        try await connection.openSender(
            address: self.settings.endpoint.address,
            window: self.settings.window,
            durable: self.settings.durable
        )
    }

    /// The live sender, or the one being attached after `failed` failed.
    private func sender(replacing failed: AMQPSender? = nil) async throws -> AMQPSender {
        enum Pick {
            case ready(AMQPSender)
            case waiting(Task<AMQPSender, any Error>)
        }
        let pick: Pick = try self.link.withLock { link in
            if link.stopped { throw BridgeError(.shuttingDown, "sink \(self.name) is shutting down") }
            if let sender = link.sender, sender !== failed { return .ready(sender) }
            if let reattach = link.reattach { return .waiting(reattach) }
            guard let connection = link.connection else { throw BridgeError(.shuttingDown, "sink \(self.name) is not connected") }
            link.sender = nil
            let task = Task { () async throws -> AMQPSender in
                var attempt = 0
                while true {
                    attempt += 1
                    if self.link.withLock({ $0.stopped }) { throw BridgeError(.shuttingDown, "sink \(self.name) is shutting down") }
                    do {
                        let sender = try await self.openSender(on: connection)
                        self.link.withLock {
                            $0.sender = sender
                            $0.reattach = nil
                        }
                        self.logger.info("sink link attached again", metadata: ["sink": "\(self.name)", "attempts": "\(attempt)"])
                        self.counters.withLock { $0.state.phase = "flowing" }
                        return sender
                    } catch {
                        self.counters.withLock {
                            $0.state.phase = "retrying"
                            $0.state.lastError = (error as? AMQPError)?.message ?? "\(error)"
                        }
                        let delay = connection.configuration.reconnect.delay(forAttempt: attempt, random: Double.random(in: 0..<1))
                        try await Task.sleep(for: delay)
                    }
                }
            }
            link.reattach = task
            return .waiting(task)
        }
        switch pick {
        case .ready(let sender): return sender
        case .waiting(let task): return try await task.value
        }
    }

    func send(_ message: SinkMessage, completion: @escaping @Sendable (SinkOutcome) -> Void) async throws {
        let sender = try await self.sender()
        self.counters.withLock { $0.state.inFlight += 1 }
        do {
            try await self.transmit(message, sender: sender, attempt: 1, completion: completion)
        } catch {
            // The link failed before taking the message: the retry path attaches a new one.
            self.retry(message, sender: sender, attempt: 1, problem: "\(error)", completion: completion)
        }
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
                // Not sent (the link or connection closed under it): again, on a new link if need be.
                self.retry(item, sender: sender, attempt: attempt, problem: error.message, completion: completion)
            }
        }
        if let reason = item.deadLetterReason {
            try await sender.enqueue(encoded: Self.deadLetterEncoding(item, reason: reason), onOutcome: onOutcome)
        } else if let body = self.settings.envelope.body(for: item) {
            try await sender.enqueue(Self.ruleMessage(item.message, payload: body), onOutcome: onOutcome)
        } else if let payload = item.rulePayload {
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
        // Off the proactor thread: waiting for a window slot or a new link must never block it.
        Task {
            try? await Task.sleep(for: .milliseconds(min(2000, 50 * attempt)))
            var failed = sender
            while true {
                do {
                    let current = try await self.sender(replacing: failed)
                    do {
                        try await self.transmit(item, sender: current, attempt: attempt, completion: completion)
                        return
                    } catch {
                        failed = current
                    }
                } catch {
                    // Shutting down: the message stays unsettled upstream and is redelivered.
                    self.finish(.abandoned, completion)
                    return
                }
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

    /// A dead letter on an AMQP address: the message as forwarded plus `deadLetterReason` (and `deadLetterSink`),
    /// or, for a message that cannot be forwarded (undecodable), a new message whose data section holds the bytes
    /// as received.
    static func deadLetterEncoding(_ item: SinkMessage, reason: String) -> [UInt8] {
        let message = item.message
        if !message.forwardedEncoding.isEmpty, var view = try? AMQPEncodedMessage(bytes: message.forwardedEncoding) {
            var bytes = view.forwarded(settingApplicationProperty: "deadLetterReason", to: reason)
            if let sink = item.refusedBy, let next = try? AMQPEncodedMessage(bytes: bytes) {
                view = next
                bytes = view.forwarded(settingApplicationProperty: "deadLetterSink", to: sink)
            }
            return bytes
        }
        var properties: [String: AMQPValue] = [
            "deadLetterReason": .string(reason),
            "iotInstanceId": .string(message.instanceLabel),
            "upstream": .string(message.upstream),
        ]
        if let id = message.messageId { properties["messageId"] = .string(id) }
        return AMQPMessage(body: .data(message.receivedEncoding), applicationProperties: properties, durable: true).encoded()
    }

    /// A rule's output as a message: the payload as a data section, the original's platform properties.
    static func ruleMessage(_ message: BridgeMessage, payload: [UInt8]) -> AMQPMessage {
        var properties: [String: AMQPValue] = ["iotInstanceId": .string(message.instanceLabel)]
        let received = message.properties  // decoded on each call
        for key in ["topic", "messageId", "generateTime"] {
            if let value = received[key] { properties[key] = value }
        }
        return AMQPMessage(body: .data(payload), applicationProperties: properties, durable: true)
    }

    func shutdown(deadline: Duration) async {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        while self.counters.withLock({ $0.state.inFlight }) > 0, clock.now < end {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let (connection, sender, reattach) = self.link.withLock { link in
            link.stopped = true
            defer {
                link.sender = nil
                link.connection = nil
            }
            return (link.connection, link.sender, link.reattach)
        }
        reattach?.cancel()
        // Messages still in flight are reported unsettled by the link close and end as abandoned.
        sender?.close()
        await connection?.close()
        self.counters.withLock { $0.state.phase = "stopped" }
    }

    var state: SinkState { self.counters.withLock { $0.state } }
}
