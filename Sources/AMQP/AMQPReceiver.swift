//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A link we receive on: its deliveries are an `AsyncSequence`. Settle each delivery (`accept()` and friends);
/// credit is returned to the peer only as deliveries are settled, so memory stays bounded by the credit window.
public final class AMQPReceiver: Sendable {
    /// The link's address (source for a client receiver, target for a link a client publishes on).
    public let address: String?
    let engine: ProtonEngine
    let connectionID: ConnectionID
    let linkID: LinkID
    let shared: ReceiverShared
    let origin: String

    init(engine: ProtonEngine, connectionID: ConnectionID, linkID: LinkID, address: String?, shared: ReceiverShared, origin: String) {
        self.engine = engine
        self.connectionID = connectionID
        self.linkID = linkID
        self.address = address
        self.shared = shared
        self.origin = origin
    }

    /// The deliveries, in arrival order. The sequence ends when the link is closed, and throws when it fails.
    public var deliveries: Deliveries { Deliveries(shared: self.shared) }

    /// The credit window this link was opened with.
    public var credit: Int { self.shared.window }

    /// Settlements dropped because the delivery's connection had been lost; the peer redelivers those messages
    /// (except pre-settled ones, which it has already forgotten).
    public var staleSettlements: Int { self.shared.staleSettlements }

    /// Settles many deliveries of this receiver with one hand-over to the proactor thread (cheaper than settling
    /// each on its own when a consumer works in batches). Deliveries of other receivers are settled one by one.
    public func settle(_ deliveries: [AMQPDelivery], _ disposition: AMQPDisposition = .accepted) {
        guard !deliveries.isEmpty else { return }
        var mine: [(attachment: UInt32, delivery: UInt64)] = []
        mine.reserveCapacity(deliveries.count)
        for delivery in deliveries {
            if delivery.linkID == self.linkID {
                mine.append((delivery.attachment, delivery.deliveryID))
            } else {
                delivery.settle(disposition)
            }
        }
        // In delivery order: Proton merges consecutive settlements into one disposition frame (a range), so a
        // batch costs the peer one frame instead of one per message.
        mine.sort { ($0.attachment, $0.delivery) < ($1.attachment, $1.delivery) }
        _ = self.engine.submit(.settleMany(self.connectionID, self.linkID, mine, disposition))
    }

    /// Stops granting credit: from now on settling a delivery no longer tops the link's credit up, and a
    /// reattach after a reconnect grants none either. Credit already granted cannot be withdrawn (that needs
    /// drain mode, which RabbitMQ 3.10 mishandles), so up to that many deliveries may still arrive; they are
    /// handed over as usual. For a graceful shutdown (stop, take and settle what still comes, close) or a rate
    /// cap. Takes effect in order with settlements submitted before and after it.
    public func stopCredit() {
        _ = self.engine.submit(.setCreditStopped(self.connectionID, self.linkID, true))
    }

    /// Grants credit again after `stopCredit()`: tops the link up at once to the window minus the deliveries
    /// still unsettled; settling tops it up as usual from then on.
    public func resumeCredit() {
        _ = self.engine.submit(.setCreditStopped(self.connectionID, self.linkID, false))
    }

    /// Detaches the link; the deliveries sequence then ends.
    public func close() {
        if !self.engine.submit(.closeLink(self.connectionID, self.linkID)) {
            self.shared.finish(error: nil)
        }
    }

    /// The deliveries of a receiver.
    public struct Deliveries: AsyncSequence, Sendable {
        /// Each element is one delivery.
        public typealias Element = AMQPDelivery
        let shared: ReceiverShared

        /// Makes an iterator; use one iterator per receiver.
        public func makeAsyncIterator() -> Iterator { Iterator(shared: self.shared) }

        /// Takes deliveries a batch at a time from the proactor thread.
        public struct Iterator: AsyncIteratorProtocol {
            let shared: ReceiverShared
            var batch: [AMQPDelivery] = []
            var index = 0

            /// Whether `next()` can return without waiting. Callers that buffer output flush it when this is
            /// false, so nothing sits in a buffer while the link is quiet.
            public var hasBufferedDeliveries: Bool { self.index < self.batch.count }

            /// The next delivery, nil at the end of the link.
            public mutating func next() async throws -> AMQPDelivery? {
                if self.index < self.batch.count {
                    defer { self.index += 1 }
                    return self.batch[self.index]
                }
                self.batch = try await self.shared.nextBatch()
                self.index = 0
                guard !self.batch.isEmpty else { return nil }
                self.index = 1
                return self.batch[0]
            }

            /// Every delivery that can be had without waiting, in arrival order: what `next()` has not returned
            /// yet of the current batch, or else everything the proactor thread has handed over since (one or
            /// more proactor event batches). Waits only when nothing is buffered. Empty at the end of the link;
            /// throws the link's error like `next()`. Lets a consumer process and settle a whole batch at once.
            public mutating func nextBatch() async throws -> [AMQPDelivery] {
                if self.index < self.batch.count {
                    let rest = self.index == 0 ? self.batch : Array(self.batch[self.index...])
                    self.batch = []
                    self.index = 0
                    return rest
                }
                self.batch = []
                self.index = 0
                return try await self.shared.nextBatch()
            }
        }
    }
}

/// One message received on a link, with the means to settle it. Settling is queued to the proactor thread and
/// never blocks. A delivery that is never settled keeps one unit of credit forever.
public final class AMQPDelivery: Sendable {
    /// The message, decoded; empty when `decodingError` is set, or when the receiver was opened with
    /// `decodesMessages: false` (then read `encoded`).
    public let message: AMQPMessage
    /// The message exactly as it arrived: the bytes of the transfer (every section, in the sender's encoding).
    /// Forward these to pass a message on unchanged (`AMQPEncodedMessage` reads and edits them without decoding).
    public let encoded: [UInt8]
    /// `encoded` split into its sections (the check that found it valid did the work); nil when `decodingError`
    /// is set.
    public let encodedMessage: AMQPEncodedMessage?
    /// Why the transfer is not a valid AMQP message, nil when it is. The library never settles such a delivery
    /// itself: `message` is then empty, `encoded` holds the bytes, and the application decides (reject it with
    /// `AMQPCondition.decodeError` so the peer dead-letters it, or keep the bytes somewhere and accept it). Never
    /// treat it as an empty message.
    public let decodingError: AMQPError?
    /// Whether the sender settled the delivery before sending it (at-most-once): it expects no outcome, so
    /// settling it sends nothing and the disposition is ignored. Settle it all the same: that is what returns
    /// its unit of credit.
    public let isPresettled: Bool
    /// Where it came from (the connection's label, e.g. the instance or the client id).
    public let origin: String
    let engine: ProtonEngine
    let connectionID: ConnectionID
    let linkID: LinkID
    let attachment: UInt32
    let deliveryID: UInt64

    init(
        message: AMQPMessage,
        encoded: [UInt8],
        encodedMessage: AMQPEncodedMessage?,
        decodingError: AMQPError?,
        isPresettled: Bool,
        origin: String,
        engine: ProtonEngine,
        connectionID: ConnectionID,
        linkID: LinkID,
        attachment: UInt32,
        deliveryID: UInt64
    ) {
        self.message = message
        self.encoded = encoded
        self.encodedMessage = encodedMessage
        self.decodingError = decodingError
        self.isPresettled = isPresettled
        self.origin = origin
        self.engine = engine
        self.connectionID = connectionID
        self.linkID = linkID
        self.attachment = attachment
        self.deliveryID = deliveryID
    }

    /// Settles with `disposition`. If the delivery's connection was lost meanwhile, the settlement is dropped
    /// (and counted in `AMQPReceiver.staleSettlements`): the peer redelivers the message. For a pre-settled
    /// delivery the disposition goes nowhere; settling still returns its credit.
    public func settle(_ disposition: AMQPDisposition) {
        _ = self.engine.submit(.settle(self.connectionID, self.linkID, attachment: self.attachment, delivery: self.deliveryID, disposition))
    }

    /// Accepts: the message was processed.
    public func accept() { self.settle(.accepted) }

    /// Releases: the peer may deliver it again.
    public func release() { self.settle(.released) }

    /// Rejects as invalid, optionally saying why.
    public func reject(_ condition: AMQPCondition? = nil) { self.settle(.rejected(condition)) }

    /// Modifies: not processed, with the delivery-failed and undeliverable-here flags.
    public func modify(deliveryFailed: Bool = true, undeliverableHere: Bool = false) {
        self.settle(.modified(deliveryFailed: deliveryFailed, undeliverableHere: undeliverableHere))
    }
}
