//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import AMQP
import Events
import Foundation
public import Logging
public import ServiceLifecycle
import StateStore

/// The outbox delivery loop of `iotbridge run`: publishes migration-status events to the `events.sinks` at least
/// once, in outbox order (so in sequence order per migration), and marks them delivered once every sink confirmed.
///
/// Ordering is kept by sending one batch at a time and waiting for all its confirmations before the next; a webhook
/// event sink therefore sends one request at a time. An event a sink refuses (a 4xx) is retried with backoff and
/// logged, never skipped: skipping would leave a gap in the sequence the subscribers rely on. A crash after a
/// publish and before the mark sends the batch again; subscribers de-duplicate by the event's `id`.
public final class OutboxDelivery: Service, Sendable {
    let sinks: [any Sink]
    let outbox: any EventOutbox
    let logger: Logger
    let batchSize: Int
    let idleInterval: Duration

    /// Builds the sinks of `settings` (nothing connects before `run`); `links` are sinks that already exist, such
    /// as a listener's `migration-events` address (``Bridge/eventLinks``), delivered to after those of `settings`.
    public init(
        settings: EventsSettings,
        outbox: any EventOutbox,
        engine: AMQPEngine,
        logger: Logger,
        links: [any Sink] = [],
        batchSize: Int = 500,
        idleInterval: Duration = .milliseconds(200)
    ) {
        self.sinks =
            settings.sinks.map { configuration in
                var configuration = configuration
                if case .webhook(var webhook) = configuration.kind {
                    // One request at a time keeps the order; the body is the event (structured mode).
                    webhook.concurrency = 1
                    webhook.format = .raw
                    webhook.rawContentType = "application/cloudevents+json; charset=utf-8"
                    configuration.kind = .webhook(webhook)
                }
                if case .jsonl(let path) = configuration.kind {
                    // One event per line: the event itself, not the bridge's message envelope.
                    return JSONLinesSink(
                        name: configuration.name,
                        path: path,
                        logger: logger,
                        format: { $0.payload + [0x0A] }
                    )
                }
                return Bridge.makeSink(configuration, engine: engine, logger: logger, deadLetter: false)
            } + links
        self.outbox = outbox
        self.logger = logger
        self.batchSize = batchSize
        self.idleInterval = idleInterval
    }

    /// Publishes until graceful shutdown; the batch in hand finishes first (its sinks get their shutdown deadline).
    public func run() async throws {
        guard !self.sinks.isEmpty else { return }
        for sink in self.sinks { try await sink.start() }
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    let delivered = try await self.deliverOnce()
                    failures = 0
                    if delivered == 0 { try? await Task.sleep(for: self.idleInterval) }
                } catch {
                    failures += 1
                    if failures == 1 || failures % 20 == 0 {
                        self.logger.error("event delivery failed; retrying", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: .milliseconds(min(5_000, 100 * failures)))
                }
            }
        }
        for sink in self.sinks { await sink.shutdown(deadline: .seconds(5)) }
    }

    /// Publishes one batch of undelivered events to every sink and marks it; returns how many were delivered.
    public func deliverOnce() async throws -> Int {
        let batch = try await self.outbox.undeliveredEvents(limit: self.batchSize)
        guard !batch.isEmpty else { return 0 }
        let messages = try batch.map { try EventMessage.sinkMessage($0) }
        for sink in self.sinks {
            let outcomes = try await Self.send(messages, to: sink)
            if let failure = outcomes.first(where: { $0 != .confirmed }) {
                throw EventDeliveryError(sink: sink.name, outcome: failure)
            }
        }
        try await self.outbox.markDelivered(positions: batch.map(\.position))
        return batch.count
    }

    /// Sends `rows` to every sink, in order, without marking anything (`iotbridge events replay`); throws at the
    /// first event a sink does not confirm. The sinks must be started (``start()``) and shut down after.
    public func replay(_ rows: [OutboxEvent]) async throws {
        let messages = try rows.map { try EventMessage.sinkMessage($0) }
        for sink in self.sinks {
            let outcomes = try await Self.send(messages, to: sink)
            if let failure = outcomes.first(where: { $0 != .confirmed }) {
                throw EventDeliveryError(sink: sink.name, outcome: failure)
            }
        }
    }

    /// Starts the sinks (connects, opens files).
    public func start() async throws {
        for sink in self.sinks { try await sink.start() }
    }

    /// Shuts the sinks down.
    public func shutdown() async {
        for sink in self.sinks { await sink.shutdown(deadline: .seconds(5)) }
    }

    /// Sends every message and waits for every outcome, in the order sent.
    static func send(_ messages: [SinkMessage], to sink: any Sink) async throws -> [SinkOutcome] {
        // Nothing to wait for: the stream below would never end.
        guard !messages.isEmpty else { return [] }
        let (stream, continuation) = AsyncStream.makeStream(of: (Int, SinkOutcome).self)
        for (index, message) in messages.enumerated() {
            try await sink.send(message) { outcome in continuation.yield((index, outcome)) }
        }
        var outcomes = [SinkOutcome?](repeating: nil, count: messages.count)
        var received = 0
        for await (index, outcome) in stream {
            outcomes[index] = outcome
            received += 1
            if received == messages.count { break }
        }
        continuation.finish()
        return outcomes.map { $0 ?? .abandoned }
    }
}

/// A sink did not confirm an event.
struct EventDeliveryError: Error, CustomStringConvertible {
    let sink: String
    let outcome: SinkOutcome

    var description: String {
        switch self.outcome {
        case .refused(let reason): "event sink \(self.sink) refused an event: \(reason)"
        default: "event sink \(self.sink) did not confirm an event (\(self.outcome))"
        }
    }
}

/// An event as the bridge's sinks carry it: an AMQP message whose data section is the structured-mode JSON.
enum EventMessage {
    /// The CloudEvents AMQP binding's content type for structured mode.
    static let contentType = "application/cloudevents+json; charset=utf-8"

    static func sinkMessage(_ row: OutboxEvent) throws -> SinkMessage {
        guard let event = MigrationEvent(row) else {
            // Written by a newer build: stop here rather than skip it (a gap) or send something malformed.
            throw EventDeliveryError(
                sink: "-",
                outcome: .refused("outbox position \(row.position) holds an event this build cannot read")
            )
        }
        let json = event.jsonBytes()
        let message = AMQPMessage(
            body: .data(json),
            applicationProperties: [
                "topic": .string("/iotbridge/events/" + row.draft.type),
                "messageId": .string(row.draft.id),
                "generateTime": .long(row.draft.time),
            ],
            messageID: .string(row.draft.id),
            subject: row.draft.type,
            contentType: Self.contentType,
            creationTime: row.draft.time,
            durable: true
        )
        return SinkMessage(
            message: BridgeMessage(
                encoded: message.encoded(),
                decoded: message,
                decodingError: nil,
                upstream: "outbox",
                instanceLabel: "iotbridge",
                maxMessageSize: Int.max
            )
        )
    }
}
