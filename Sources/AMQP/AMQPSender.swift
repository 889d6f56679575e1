//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A link we send on. Each message's outcome is the peer's disposition; a message in flight when the connection
/// drops is reported `.unsettled`, never as sent. Messages not yet transmitted wait for the reconnect.
public final class AMQPSender: Sendable {
    /// The link's address (target for a client sender, source for a link a client consumes from).
    public let address: String?
    /// The largest message the peer's link takes (the `max-message-size` of its Attach), nil when it set none. AMQP
    /// 1.0 §2.7.3: nothing larger may be sent on the link. Known for a link a client attached to a listener.
    public let peerMaxMessageSize: Int?
    let engine: ProtonEngine
    let connectionID: ConnectionID
    let linkID: LinkID
    let shared: SenderShared

    init(
        engine: ProtonEngine,
        connectionID: ConnectionID,
        linkID: LinkID,
        address: String?,
        shared: SenderShared,
        peerMaxMessageSize: Int? = nil
    ) {
        self.engine = engine
        self.connectionID = connectionID
        self.linkID = linkID
        self.address = address
        self.peerMaxMessageSize = peerMaxMessageSize
        self.shared = shared
    }

    /// Sends `message` and returns the peer's outcome. Waits first if the send window is full. Throws
    /// `invalidConfiguration` for a message with an `.unsupported` body or application property, which would go
    /// out as something else (forward `AMQPDelivery.encoded` instead).
    public func send(_ message: AMQPMessage) async throws -> AMQPOutcome {
        try Self.checkEncodable(message)
        return try await self.send(.message(message))
    }

    /// Sends an already encoded message (e.g. `AMQPDelivery.encoded`, or `AMQPEncodedMessage.forwarded(…)`) as it
    /// is, and returns the peer's outcome. Waits first if the send window is full. Nothing is checked or added:
    /// the bytes are the whole message, header (durability, delivery count) included. Throws
    /// `protocolViolation` for no bytes at all, which no AMQP message is.
    public func send(encoded: [UInt8]) async throws -> AMQPOutcome {
        try Self.checkNotEmpty(encoded)
        return try await self.send(.encoded(encoded))
    }

    /// Queues `message` and returns as soon as it has a place in the send window (waiting while the window is
    /// full); `onOutcome` runs later, on the proactor thread, with the outcome. It must not block. Use this to
    /// keep many messages in flight from one task.
    public func enqueue(_ message: AMQPMessage, onOutcome: @escaping @Sendable (Result<AMQPOutcome, AMQPError>) -> Void) async throws {
        try Self.checkEncodable(message)
        try await self.enqueue(.message(message), onOutcome: onOutcome)
    }

    /// Queues an already encoded message, sent as it is (see `send(encoded:)`), and returns as soon as it has a
    /// place in the send window; `onOutcome` runs later, on the proactor thread, with the outcome. It must not
    /// block.
    public func enqueue(
        encoded: [UInt8],
        onOutcome: @escaping @Sendable (Result<AMQPOutcome, AMQPError>) -> Void
    ) async throws {
        try Self.checkNotEmpty(encoded)
        try await self.enqueue(.encoded(encoded), onOutcome: onOutcome)
    }

    /// Queues an already encoded message (see `send(encoded:)`) without waiting, for a caller that bounds what it
    /// sends by other means (the peer's credit, see `observeCredit`): throws `overloaded` instead of waiting when
    /// the send window is full, and the link's end once it ended. `onOutcome` runs later, on the proactor thread,
    /// with the outcome; it must not block. It is never called from inside this call, so a caller may hold a lock
    /// that `onOutcome` takes. Callable from any thread, the proactor's included.
    public func enqueueNow(
        encoded: [UInt8],
        onOutcome: @escaping @Sendable (Result<AMQPOutcome, AMQPError>) -> Void
    ) throws(AMQPError) {
        try Self.checkNotEmpty(encoded)
        try self.shared.tryAcquire()
        try self.submit(.encoded(encoded), onOutcome: onOutcome)
    }

    private func send(_ outgoing: OutgoingMessage) async throws -> AMQPOutcome {
        try await self.shared.acquire()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<AMQPOutcome, any Error>) in
            let shared = self.shared
            let rejection = self.engine.enqueue(
                .send(
                    self.connectionID, self.linkID, outgoing,
                    { result in
                        shared.release()
                        continuation.resume(with: result.mapError { $0 as any Error })
                    })
            )
            if let rejection {
                shared.release()
                continuation.resume(throwing: rejection)
            }
        }
    }

    private func enqueue(
        _ outgoing: OutgoingMessage,
        onOutcome: @escaping @Sendable (Result<AMQPOutcome, AMQPError>) -> Void
    ) async throws {
        try await self.shared.acquire()
        try self.submit(outgoing, onOutcome: onOutcome)
    }

    /// Hands a message whose window slot is already taken to the proactor thread; the slot is given back with
    /// the outcome, or at once when the engine refuses the message.
    private func submit(
        _ outgoing: OutgoingMessage,
        onOutcome: @escaping @Sendable (Result<AMQPOutcome, AMQPError>) -> Void
    ) throws(AMQPError) {
        let shared = self.shared
        let rejection = self.engine.enqueue(
            .send(
                self.connectionID, self.linkID, outgoing,
                { result in
                    shared.release()
                    onOutcome(result)
                })
        )
        if let rejection {
            shared.release()
            throw rejection
        }
    }

    /// A placeholder for a type the model does not hold would be sent as null (or not at all): refuse it.
    private static func checkEncodable(_ message: AMQPMessage) throws(AMQPError) {
        let parts = message.unencodable
        guard !parts.isEmpty else { return }
        throw AMQPError(
            .invalidConfiguration,
            "the message cannot be sent as it was received: AMQPMessage does not hold \(parts.joined(separator: ", ")) — "
                + "forward AMQPDelivery.encoded with send(encoded:) to pass it on unchanged"
        )
    }

    /// An empty transfer is no message: peers reject it or worse (Proton asserts on decoding zero bytes).
    private static func checkNotEmpty(_ encoded: [UInt8]) throws(AMQPError) {
        guard encoded.isEmpty else { return }
        throw AMQPError(.protocolViolation, "refusing to send an empty message: an encoded AMQP message has at least one section")
    }

    /// Messages queued or awaiting their outcome.
    public var inFlight: Int { self.shared.inFlight }

    /// The peer's credit as last reported (see ``AMQPSenderCredit``).
    public var credit: AMQPSenderCredit { self.shared.credit }

    /// Calls `observer` with the current credit now, then on the proactor thread each time the peer's credit, the
    /// messages the link took or the drain flag change. It must not block. Use it to send only against the credit
    /// the peer granted instead of queuing on the link: a message the link holds for lack of credit is a message
    /// no other consumer can have.
    public func observeCredit(_ observer: @escaping @Sendable (AMQPSenderCredit) -> Void) {
        self.shared.observeCredit(observer)
    }

    /// Says there is nothing more to send for now: if the peer asked to drain (``AMQPSenderCredit/drain``), the rest
    /// of its credit is used up and the peer is told (AMQP 1.0 §2.6.7). Messages enqueued before this call go out
    /// first.
    public func drained() {
        _ = self.engine.submit(.drained(self.connectionID, self.linkID))
    }

    /// The size of the send window.
    public var window: Int { self.shared.capacity }

    /// Waits until the link is closed, by either side (for a listener's consuming link: until the client
    /// detached or disconnected), so a task serving it can end.
    public func waitClosed() async {
        await self.shared.waitFinished()
    }

    /// Detaches the link. Messages still in flight are reported `.unsettled`; queued ones fail.
    public func close() {
        if !self.engine.submit(.closeLink(self.connectionID, self.linkID)) {
            self.shared.finish(error: nil)
        }
    }
}
