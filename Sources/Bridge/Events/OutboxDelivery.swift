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
/// Batches are pipelined: up to ``pipelineDepth`` batches are sent before the first one's confirmations are awaited
/// (a batch-at-a-time loop left the broker idle while it read, rendered and marked, see Benchmarks/README.md). Each
/// sink receives the events in outbox order. A batch is marked only when every sink confirmed all of it and every
/// batch before it was marked, so what is marked is always a prefix of what was sent. When an event is not confirmed,
/// nothing after it is marked: the batches behind it finish, and the next round sends again from the first batch not
/// marked, so a subscriber sees the sequence again from there (in order; the repeats carry the same ids, which
/// subscribers de-duplicate by). A webhook event sink sends one request at a time.
///
/// An event a sink refuses (a 4xx) is retried with backoff and logged, never skipped: skipping would leave a gap in
/// the sequence the subscribers rely on. A crash after a publish and before the mark sends the batch again.
public final class OutboxDelivery: Service, Sendable {
    let sinks: [any Sink]
    let outbox: any EventOutbox
    let logger: Logger
    let batchSize: Int
    /// How many batches may be in flight (sent, not yet all confirmed) at once.
    let pipelineDepth: Int
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
        pipelineDepth: Int = 4,
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
        self.pipelineDepth = max(1, pipelineDepth)
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
                    let delivered = try await self.deliverAvailable()
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

    /// Publishes undelivered events to every sink, up to ``pipelineDepth`` batches in flight, and marks each batch
    /// once confirmed (in order), until the outbox has nothing undelivered; returns how many were delivered. Throws
    /// the first failure after the batches in flight finished and the confirmed prefix was marked.
    public func deliverAvailable() async throws -> Int {
        var delivered = 0
        var inFlight: [BatchInFlight] = []
        var lastSent: Int64 = 0
        var failure: (any Error)?
        var exhausted = false
        while true {
            if failure == nil, !exhausted, inFlight.count < self.pipelineDepth {
                do {
                    let batch = try await self.outbox.undeliveredEvents(after: lastSent, limit: self.batchSize)
                    if let last = batch.last {
                        lastSent = last.position
                        inFlight.append(try await self.dispatch(batch))
                        continue
                    }
                    exhausted = true
                } catch {
                    failure = error
                }
            }
            guard !inFlight.isEmpty else { break }
            let oldest = inFlight.removeFirst()
            if let error = await oldest.failure() {
                failure = failure ?? error
            } else if failure == nil {
                do {
                    try await self.outbox.markDelivered(positions: oldest.events.map(\.position))
                    delivered += oldest.events.count
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        return delivered
    }

    /// Sends `batch` to every sink (in order, returning once each sink took all of it) without waiting for the
    /// confirmations. A send that throws is that event's failure: the batch is not marked.
    func dispatch(_ batch: [OutboxEvent]) async throws -> BatchInFlight {
        let messages = try batch.map { try EventMessage.sinkMessage($0) }
        var confirmations: [BatchInFlight.Confirmations] = []
        for sink in self.sinks {
            let (stream, continuation) = AsyncStream.makeStream(of: SinkOutcome.self)
            var sent = 0
            var sendError: (any Error)?
            for message in messages {
                do {
                    try await sink.send(message) { outcome in continuation.yield(outcome) }
                    sent += 1
                } catch {
                    sendError = error
                    break
                }
            }
            confirmations.append(.init(sink: sink.name, expected: sent, stream: stream, sendError: sendError))
        }
        return BatchInFlight(events: batch, confirmations: confirmations)
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

/// A batch sent to every sink, its confirmations still arriving.
struct BatchInFlight {
    /// What one sink owes for the batch.
    struct Confirmations {
        let sink: String
        /// How many events the sink took (all of them unless a send threw).
        let expected: Int
        let stream: AsyncStream<SinkOutcome>
        let sendError: (any Error)?
    }

    let events: [OutboxEvent]
    let confirmations: [Confirmations]

    /// Waits for every confirmation; the first thing that went wrong, or `nil` when every sink confirmed every event.
    func failure() async -> (any Error)? {
        var first: (any Error)?
        for sink in self.confirmations {
            var received = 0
            if sink.expected > 0 {
                for await outcome in sink.stream {
                    received += 1
                    if outcome != .confirmed, first == nil {
                        first = EventDeliveryError(sink: sink.sink, outcome: outcome)
                    }
                    if received == sink.expected { break }
                }
            }
            if received < sink.expected, first == nil {
                first = EventDeliveryError(sink: sink.sink, outcome: .abandoned)
            }
            if let error = sink.sendError, first == nil { first = error }
        }
        return first
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
    /// The `iotInstanceId` application property of events (a relayed message carries its upstream's instance).
    static let instanceLabel = "iotbridge"

    static func sinkMessage(_ row: OutboxEvent) throws -> SinkMessage {
        // The stored data spliced into the envelope, not parsed and written again (see StructuredEventRenderer).
        guard let json = StructuredEventRenderer.render(row) else {
            // Written by a newer build: stop here rather than skip it (a gap) or send something malformed.
            throw EventDeliveryError(
                sink: "-",
                outcome: .refused("outbox position \(row.position) holds an event this build cannot read")
            )
        }
        let topic = "/iotbridge/events/" + row.draft.type
        let message = AMQPMessage(
            body: .data(json),
            applicationProperties: [
                "topic": .string(topic),
                "messageId": .string(row.draft.id),
                "generateTime": .long(row.draft.time),
                "iotInstanceId": .string(Self.instanceLabel),
            ],
            messageID: .string(row.draft.id),
            subject: row.draft.type,
            contentType: Self.contentType,
            creationTime: row.draft.time,
            durable: true
        )
        let encoded = message.encoded()
        // Built field by field, not through BridgeMessage(encoded:…): that scans the encoding again, hashes a
        // de-duplication key and re-encodes it with iotInstanceId, none of which an event of our own needs (it was
        // a quarter of the delivery loop's CPU, see Benchmarks/README.md).
        return SinkMessage(
            message: BridgeMessage(
                upstream: "outbox",
                instanceLabel: Self.instanceLabel,
                topic: topic,
                messageId: row.draft.id,
                generateTime: row.draft.time,
                properties: message.applicationProperties,
                payload: json,
                forwardedEncoding: encoded,
                receivedEncoding: encoded,
                claimKey: nil,
                defect: nil
            )
        )
    }
}
