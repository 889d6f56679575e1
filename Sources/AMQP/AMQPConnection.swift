//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A client connection that reconnects by itself (see `ReconnectPolicy`) and re-attaches its links after each
/// reconnect. Deliveries received before a reconnect can no longer be settled: the peer redelivers them.
public final class AMQPConnection: Sendable {
    /// The configuration it was made with.
    public let configuration: AMQPConnectionConfiguration
    let engine: AMQPEngine
    let id = ConnectionID.next()
    let shared = ConnectionShared()

    init(engine: AMQPEngine, configuration: AMQPConnectionConfiguration) {
        self.engine = engine
        self.configuration = configuration
    }

    /// Where the connection is now.
    public enum State: Sendable {
        /// The first attempt is under way.
        case connecting
        /// Open.
        case open
        /// Lost after being open (or the first attempt failed); reconnecting with backoff.
        case reconnecting(after: AMQPError)
        /// Finished: `nil` after `close()`, else the error that ended it.
        case closed(AMQPError?)
    }

    /// Where the connection is now.
    public var state: State {
        switch self.shared.status {
        case .connecting: return .connecting
        case .open: return .open
        case .reconnecting(let error): return .reconnecting(after: error)
        case .closed(let error): return .closed(error)
        }
    }

    /// How many times the connection has opened: 1 after the first open, +1 per successful reconnect.
    public var openCount: Int { self.shared.opens }

    /// Starts connecting and waits for the first Open. Throws the first error when the policy does not retry the
    /// initial connect (`ReconnectPolicy.retryInitialConnect`), e.g. a wrong password or a refused port.
    public func open() async throws {
        let registration = ClientConnectionDriver.Registration(
            id: self.id,
            configuration: self.configuration,
            shared: self.shared
        )
        if let error = self.engine.core.enqueue(.startConnection(registration)) { throw error }
        try await self.shared.waitOpen()
    }

    /// Attaches a receiving link to `address` with a credit window of `credit` messages (the prefetch: at
    /// most this many deliveries are held unsettled). Returns once the peer attached it.
    ///
    /// `durable` sets the source terminus's durability to unsettled-state. RabbitMQ's AMQP 1.0 plugin compares it
    /// with the queue's: a durable queue refuses a non-durable terminus (`precondition-failed … inequivalent arg
    /// 'durable'`), and a missing `/queue/NAME` is declared durable or transient accordingly. Default: false.
    ///
    /// `decodesMessages: false` leaves `AMQPDelivery.message` empty: every delivery's encoding is still checked
    /// (an invalid one comes with `decodingError`), but not decoded into Swift values. For applications that read
    /// `encoded` (with `AMQPEncodedMessage`) anyway, such as a relay: decoding is a large share of receiving.
    /// Default: true.
    public func openReceiver(
        address: String?,
        credit: Int = 100,
        name: String? = nil,
        durable: Bool = false,
        decodesMessages: Bool = true
    ) async throws -> AMQPReceiver {
        guard credit > 0 else { throw AMQPError(.invalidConfiguration, "credit must be at least 1 (got \(credit))") }
        let linkID = LinkID.next()
        let shared = ReceiverShared(window: credit, durableTerminus: durable, decodesMessages: decodesMessages)
        let registration = LinkRegistration.receiver(
            id: linkID,
            address: address,
            name: name ?? "iotbridge-receiver-\(linkID.rawValue)",
            shared: shared
        )
        if let error = self.engine.core.enqueue(.attachLink(self.id, registration)) { throw error }
        try await self.waitForAttach(linkID: linkID, address: address) { try await shared.waitAttached() }
        return AMQPReceiver(
            engine: self.engine.core,
            connectionID: self.id,
            linkID: linkID,
            address: address,
            shared: shared,
            origin: self.configuration.label
        )
    }

    /// Attaches a sending link to `address`. `window` bounds the messages queued or awaiting their outcome;
    /// `send` waits while it is full. Returns once the peer attached it. `durable`: as for `openReceiver`, for the
    /// target terminus.
    public func openSender(address: String?, window: Int = 1000, name: String? = nil, durable: Bool = false) async throws -> AMQPSender {
        guard window > 0 else { throw AMQPError(.invalidConfiguration, "window must be at least 1 (got \(window))") }
        let linkID = LinkID.next()
        let shared = SenderShared(capacity: window, durableTerminus: durable)
        let registration = LinkRegistration.sender(
            id: linkID,
            address: address,
            name: name ?? "iotbridge-sender-\(linkID.rawValue)",
            shared: shared
        )
        if let error = self.engine.core.enqueue(.attachLink(self.id, registration)) { throw error }
        try await self.waitForAttach(linkID: linkID, address: address) { try await shared.waitAttached() }
        return AMQPSender(engine: self.engine.core, connectionID: self.id, linkID: linkID, address: address, shared: shared)
    }

    /// Waits for a link's first attach, at most the configured connect timeout once the connection is open: a
    /// peer that neither attaches nor refuses must not leave the caller waiting forever.
    private func waitForAttach(linkID: LinkID, address: String?, _ attached: @escaping @Sendable () async throws -> Void) async throws {
        let timeout = self.configuration.connectTimeout
        let engine = self.engine.core
        let connectionID = self.id
        let shared = self.shared
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await attached()
                return true
            }
            group.addTask {
                try await shared.waitOpen()
                try await Task.sleep(for: timeout)
                return false
            }
            let attachedInTime = try await group.next() ?? false
            group.cancelAll()
            if !attachedInTime {
                engine.submit(.closeLink(connectionID, linkID))
                throw AMQPError(
                    .timeout,
                    "the peer did not attach the link to \(address.map { "'\($0)'" } ?? "(no address)") within "
                        + "\(Int(ReconnectPolicy.seconds(timeout))) s — check the address and the peer's permissions"
                )
            }
        }
    }

    /// Closes the connection (no reconnect after this) and waits until the transport is gone.
    public func close() async {
        if self.engine.core.submit(.closeConnection(self.id)) {
            await self.shared.waitClosed()
        }
    }
}
