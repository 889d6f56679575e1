//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Foundation
import Logging

/// A link on the proactor thread. A client link survives reconnects: each attachment is a new `pn_link_t`.
class LinkDriver {
    let id: LinkID
    let address: String?
    let name: String
    unowned let owner: ConnectionDriver
    /// The live link, nil while detached.
    var link: OpaquePointer?
    /// Counts attachments, so settlements for an earlier one are recognised as stale.
    var attachment: UInt32 = 0
    /// Whether the peer initiated the link (server side): it then ends with its connection.
    var isInbound = false

    init(id: LinkID, address: String?, name: String, owner: ConnectionDriver) {
        self.id = id
        self.address = address
        self.name = name
        self.owner = owner
    }

    /// Creates and opens a `pn_link_t` on `session` (client side). Returns it.
    func attach(session: OpaquePointer) -> OpaquePointer? { nil }

    /// Takes over a link the peer attached (server side) and opens our end.
    func adopt(_ link: OpaquePointer) {
        self.isInbound = true
        self.link = link
        self.attachment &+= 1
        pn_terminus_copy(pn_link_source(link), pn_link_remote_source(link))
        pn_terminus_copy(pn_link_target(link), pn_link_remote_target(link))
        pn_link_open(link)
    }

    /// The peer's Attach arrived.
    func remoteOpened() {}
    /// Credit or state changed.
    func flow() {}
    /// A delivery arrived or was updated.
    func delivery(_ delivery: OpaquePointer) {}
    /// The connection is gone (a reconnect may follow).
    func connectionLost() {
        self.link = nil
    }
    /// The peer detached the link.
    func remoteClosed(condition: AMQPCondition?) {}
    /// The user closes the link.
    func close() {}
    /// The link is finished for good.
    func finish(error: AMQPError?) {}

    /// Sets a terminus address, leaving it unset for nil (the IoT platform ignores the source address).
    static func setAddress(_ terminus: OpaquePointer?, _ address: String?) {
        guard let terminus, let address else { return }
        pn_terminus_set_address(terminus, address)
    }

    /// The error for a link the peer refused or detached.
    func detachedError(_ condition: AMQPCondition?) -> AMQPError {
        let what = self.address.map { "'\($0)'" } ?? "(no address)"
        guard let condition else {
            return AMQPError(.linkDetached, "the peer detached the link to \(what)")
        }
        var message = "the peer refused or detached the link to \(what): \(condition.name)"
        if !condition.description.isEmpty { message += " (\(condition.description))" }
        if condition.name == AMQPCondition.notFound || condition.description.contains("unknown_destination") {
            message += " — check the address (RabbitMQ queues are /queue/NAME, in a URL amqp://HOST:PORT//queue/NAME)"
        }
        return AMQPError(.linkDetached, message, condition: condition)
    }
}

/// A link we receive on: reads complete deliveries, hands them over in batches, settles them on request and
/// tops the credit up as they are settled.
final class ReceiverLinkDriver: LinkDriver {
    let shared: ReceiverShared
    var credit: ReceiverCreditStateMachine
    /// Deliveries of the current attachment the application has not settled yet, by our id. Pre-settled ones
    /// are kept too: each holds a unit of credit until the application is done with it.
    var deliveries: [UInt64: OpaquePointer] = [:]
    var nextDeliveryID: UInt64 = 1
    /// Deliveries read in this event batch, handed over at its end.
    var pending: [AMQPDelivery] = []
    var isPendingFlush = false
    var finished = false
    /// Whether the current attachment counts as attached (a null source needs the peer to confirm it).
    var attach = ReceiverAttachStateMachine()
    /// The timer that ends the wait for a detach after a null source.
    var attachGraceTimer: UInt64?
    /// Whether the null-source note was logged (once per link, not per reattach).
    var loggedNullSource = false
    /// The largest message accepted (a listener's limit; announced in our Attach), nil for none.
    var maxMessageSize: Int?

    init(id: LinkID, address: String?, name: String, shared: ReceiverShared, owner: ConnectionDriver) {
        self.shared = shared
        self.credit = ReceiverCreditStateMachine(window: shared.window)
        super.init(id: id, address: address, name: name, owner: owner)
    }

    override func attach(session: OpaquePointer) -> OpaquePointer? {
        guard let link = pn_receiver(session, self.name) else { return nil }
        self.link = link
        self.attachment &+= 1
        Self.setAddress(pn_link_source(link), self.address)
        pn_link_set_rcv_settle_mode(link, PN_RCV_FIRST)
        if self.shared.durableTerminus { pn_terminus_set_durability(pn_link_source(link), PN_DELIVERIES) }
        pn_link_open(link)
        let flow = self.credit.attached()
        if flow > 0 { pn_link_flow(link, Int32(flow)) }
        return link
    }

    override func adopt(_ link: OpaquePointer) {
        // Announced in our Attach, which `super.adopt` sends.
        if let limit = self.maxMessageSize { pn_link_set_max_message_size(link, UInt64(limit)) }
        super.adopt(link)
        let flow = self.credit.attached()
        if flow > 0 { pn_link_flow(link, Int32(flow)) }
        self.shared.markAttached()
    }

    override func remoteOpened() {
        guard let link = self.link else { return }
        // A refused attach comes back with no source and is followed by a detach carrying the reason; but a
        // null source alone is no refusal (see ReceiverAttachStateMachine).
        let hasSource = pn_terminus_get_type(pn_link_remote_source(link)) != PN_UNSPECIFIED
        self.perform(self.attach.remoteAttached(hasSource: hasSource))
    }

    override func flow() {
        self.perform(self.attach.peerActed())
    }

    /// Carries out what the attach machine decided. Never blocks: the wait for a detach is a proactor timer.
    private func perform(_ action: ReceiverAttachStateMachine.Action) {
        switch action {
        case .none:
            break
        case .markAttached:
            self.shared.markAttached()
        case .markAttachedWithNullSource:
            self.cancelAttachGrace()
            if !self.loggedNullSource {
                self.loggedNullSource = true
                self.owner.logger.debug(
                    "the peer attached the receiver with no source terminus and did not refuse it; treating it as attached",
                    metadata: ["amqp.link": "\(self.name)"]
                )
            }
            self.shared.markAttached()
        case .startGraceTimer:
            self.cancelAttachGrace()
            let attachment = self.attachment
            let timers = self.owner.state.timers
            self.attachGraceTimer = timers.schedule(after: ReceiverAttachStateMachine.gracePeriod) { [weak self] in
                guard let self, self.attachment == attachment else { return }
                self.attachGraceTimer = nil
                self.perform(self.attach.graceExpired())
            }
        }
    }

    /// Raises a link's negative credit (left by a peer that sent past it) to zero.
    static func clampNegativeCredit(_ link: OpaquePointer) {
        let credit = pn_link_credit(link)
        if credit < 0 { pn_link_flow(link, -credit) }
    }

    /// The current attachment is over (or decided): no more waiting for its detach.
    private func cancelAttachGrace() {
        self.owner.state.timers.cancel(self.attachGraceTimer)
        self.attachGraceTimer = nil
    }

    override func delivery(_ delivery: OpaquePointer) {
        // Any transfer confirms an attach that came with a null source.
        self.perform(self.attach.peerActed())
        guard let link = self.link else { return }
        // Checked on every transfer frame, before the message is complete: a message over the limit is refused
        // with at most the limit plus one frame held.
        if let limit = self.maxMessageSize, pn_delivery_pending(delivery) > limit, !pn_delivery_aborted(delivery) {
            self.refuse(
                delivery,
                on: link,
                AMQPCondition(
                    name: AMQPCondition.messageSizeExceeded,
                    description: "the message is larger than \(limit) bytes, this link's max message size"
                ),
                .messageTooLarge(limit: limit)
            )
            return
        }
        guard pn_delivery_readable(delivery), !pn_delivery_partial(delivery) else { return }
        if pn_delivery_aborted(delivery) {
            // The sender gave up on a partial message; it used a credit, so give it back.
            pn_delivery_settle(delivery)
            if !self.credit.received(linkCredit: Int(pn_link_credit(link))) { Self.clampNegativeCredit(link) }
            let flow = self.credit.settled(linkCredit: Int(pn_link_credit(link)))
            if flow > 0 { pn_link_flow(link, Int32(flow)) }
            return
        }
        let size = pn_delivery_pending(delivery)
        let state = self.owner.state
        // Straight from Proton's buffer into the array the application gets: the only copy of the bytes, which
        // the codec then reads in place. An empty transfer has no bytes to read (and Proton asserts on decoding
        // nothing), so it is reported below as not being a message.
        var read = 0
        let encoded = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            if size > 0, let start = buffer.baseAddress {
                read = pn_link_recv(link, UnsafeMutableRawPointer(start).assumingMemoryBound(to: CChar.self), size)
            }
            initialized = max(0, read)
        }
        pn_link_advance(link)
        if !self.credit.received(linkCredit: Int(pn_link_credit(link))) {
            if self.credit.overruns == 1 {
                // Once per attachment: some brokers (RabbitMQ 3.10) routinely send a little past the credit.
                self.owner.logger.debug("peer sent a delivery without credit", metadata: ["amqp.link": "\(self.name)"])
            }
            // Proton keeps the overrun as negative link credit and writes it, unsigned, into the next flow frame
            // it sends on its own (a session window update): about 4.29 billion credit for the peer, which then
            // floods us. Bring the credit back to zero now, which tells the peer exactly "no more".
            Self.clampNegativeCredit(link)
        }
        if self.isInbound && self.credit.unsettled > self.credit.window {
            // A client of our listener that ignores its credit would make us hold every message it sends.
            self.refuse(
                delivery,
                on: link,
                AMQPCondition(
                    name: AMQPCondition.transferLimitExceeded,
                    description: "the client sent more than \(self.credit.window) unsettled messages, this link's credit"
                ),
                .transferLimitExceeded(window: self.credit.window)
            )
            return
        }
        // An undecodable message is still the application's to settle (a bridge dead-letters its bytes), so it is
        // handed over like any other, with the reason. Proton 0.37 decodes almost any bytes without complaint
        // (truncated ones, garbage, sections in any order), so the encoding is checked in Swift first: the bytes
        // must be a valid AMQP message, which is also what forwarding them needs.
        var message = AMQPMessage()
        var view: AMQPEncodedMessage?
        var decodingError: AMQPError?
        do throws(AMQPError) {
            guard size > 0 else { throw AMQPError(.protocolViolation, "the transfer carries no message (0 bytes)") }
            guard read == size else { throw AMQPError(.protocolViolation, "reading the delivery failed (code \(read))") }
            let sections = try AMQPEncodedMessage.sections(of: encoded)
            view = AMQPEncodedMessage(bytes: encoded, checkedSections: sections)
            if self.shared.decodesMessages {
                message = try ProtonMessageCodec.decode(encoded, sections: sections, scratch: state.scratchMessage)
            }
        } catch {
            if self.isInbound {
                // The listener refuses what it cannot decode, so the client learns at once, and its application
                // never sees an empty message in its place.
                Self.setOutcome(.rejected(AMQPCondition(name: AMQPCondition.decodeError, description: error.message)), of: delivery)
                pn_delivery_settle(delivery)
                let flow = self.credit.settled(linkCredit: Int(pn_link_credit(link)))
                if flow > 0 { pn_link_flow(link, Int32(flow)) }
                self.owner.inboundDeliveryRefused(.undecodable(error), on: self)
                return
            }
            decodingError = error
            self.owner.logger.debug(
                "handing an undecodable message to the application",
                metadata: ["amqp.link": "\(self.name)", "amqp.error": "\(error)"]
            )
        }
        let id = self.nextDeliveryID
        self.nextDeliveryID &+= 1
        self.deliveries[id] = delivery
        self.pending.append(
            AMQPDelivery(
                message: message,
                encoded: encoded,
                encodedMessage: decodingError == nil ? view : nil,
                decodingError: decodingError,
                isPresettled: pn_delivery_settled(delivery),
                origin: self.owner.label,
                engine: state.engine,
                connectionID: self.owner.id,
                linkID: self.id,
                attachment: self.attachment,
                deliveryID: id
            )
        )
        if !self.isPendingFlush {
            self.isPendingFlush = true
            state.dirtyReceivers.append(self)
        }
    }

    /// Rejects `delivery` with `condition` and detaches the link with it (a listener's limit was broken). Settling
    /// the delivery makes Proton drop the rest of its transfers instead of buffering them.
    private func refuse(_ delivery: OpaquePointer, on link: OpaquePointer, _ condition: AMQPCondition, _ refusal: InboundRefusal) {
        Self.setOutcome(.rejected(condition), of: delivery)
        pn_delivery_settle(delivery)
        _ = cqp_condition_set_text(pn_link_condition(link), condition.name, condition.description)
        pn_link_close(link)
        self.owner.inboundDeliveryRefused(refusal, on: self)
        self.flushPending()
        self.finish(error: AMQPError(.linkDetached, "the link was detached: \(condition.description)", condition: condition))
    }

    /// Hands this batch's deliveries to the consumer (called at the end of each proactor event batch).
    func flushPending() {
        self.isPendingFlush = false
        guard !self.pending.isEmpty else { return }
        let batch = self.pending
        self.pending.removeAll(keepingCapacity: true)
        self.shared.push(batch)
    }

    func settle(attachment: UInt32, delivery id: UInt64, _ disposition: AMQPDisposition) {
        guard attachment == self.attachment, let link = self.link, let delivery = self.deliveries.removeValue(forKey: id)
        else {
            self.shared.countStaleSettlement()
            return
        }
        // A delivery the sender settled (pre-settled, or given up on since) wants no outcome: only our end is
        // settled. Its credit is returned all the same, since the application is done with it.
        if !pn_delivery_settled(delivery) { Self.setOutcome(disposition, of: delivery) }
        pn_delivery_settle(delivery)
        let flow = self.credit.settled(linkCredit: Int(pn_link_credit(link)))
        if flow > 0 { pn_link_flow(link, Int32(flow)) }
    }

    /// The application stopped granting credit, or resumed (then the link is topped up at once).
    func setCreditStopped(_ stopped: Bool) {
        guard !stopped else {
            self.credit.stop()
            return
        }
        let flow = self.credit.resume(linkCredit: self.link.map { Int(pn_link_credit($0)) } ?? 0)
        if flow > 0, let link = self.link { pn_link_flow(link, Int32(flow)) }
    }

    /// Sets the local outcome that settling `delivery` sends to the peer.
    private static func setOutcome(_ disposition: AMQPDisposition, of delivery: OpaquePointer) {
        switch disposition {
        case .accepted:
            pn_delivery_update(delivery, UInt64(PN_ACCEPTED))
        case .released:
            pn_delivery_update(delivery, UInt64(PN_RELEASED))
        case .rejected(let condition):
            if let condition {
                _ = cqp_condition_set_text(pn_disposition_condition(pn_delivery_local(delivery)), condition.name, condition.description)
            }
            pn_delivery_update(delivery, UInt64(PN_REJECTED))
        case .modified(let failed, let undeliverable):
            let local = pn_delivery_local(delivery)
            pn_disposition_set_failed(local, failed)
            pn_disposition_set_undeliverable(local, undeliverable)
            pn_delivery_update(delivery, UInt64(PN_MODIFIED))
        }
    }

    override func connectionLost() {
        super.connectionLost()
        self.attach.detached()
        self.cancelAttachGrace()
        self.deliveries.removeAll()
        self.credit.detached()
        // Deliveries read in the batch that lost the connection are still handed over; settling them is stale.
        self.flushPending()
        if self.isInbound { self.finish(error: nil) }
    }

    override func remoteClosed(condition: AMQPCondition?) {
        if let link = self.link { pn_link_close(link) }
        self.flushPending()
        self.finish(error: condition == nil && self.isInbound ? nil : self.detachedError(condition))
    }

    override func close() {
        if let link = self.link { pn_link_close(link) }
        self.flushPending()
        self.finish(error: nil)
    }

    override func finish(error: AMQPError?) {
        guard !self.finished else { return }
        self.finished = true
        self.attach.detached()
        self.cancelAttachGrace()
        self.deliveries.removeAll()
        self.credit.detached()
        self.shared.finish(error: error)
        self.owner.linkFinished(self)
    }
}

/// A link we send on: queues messages until the peer grants credit, tracks each transmitted delivery until the
/// peer's disposition arrives, and reports in-flight messages as unsettled when the connection drops.
final class SenderLinkDriver: LinkDriver {
    /// A message (or its encoded bytes) and who wants its outcome.
    struct Pending {
        var outgoing: OutgoingMessage
        var completion: SendCompletion
    }

    let shared: SenderShared
    var machine = SenderStateMachine<Pending>()
    var finished = false
    /// Messages the application handed to this link so far, reported with the credit (see `AMQPSenderCredit`).
    var taken = 0
    /// The last credit reported, so that an unchanged one is not reported again.
    var reportedCredit: AMQPSenderCredit?

    init(id: LinkID, address: String?, name: String, shared: SenderShared, owner: ConnectionDriver) {
        self.shared = shared
        super.init(id: id, address: address, name: name, owner: owner)
    }

    override func attach(session: OpaquePointer) -> OpaquePointer? {
        guard let link = pn_sender(session, self.name) else { return nil }
        self.link = link
        self.attachment &+= 1
        Self.setAddress(pn_link_target(link), self.address)
        Self.setAddress(pn_link_source(link), self.address)
        pn_link_set_snd_settle_mode(link, PN_SND_UNSETTLED)
        if self.shared.durableTerminus { pn_terminus_set_durability(pn_link_target(link), PN_DELIVERIES) }
        pn_link_open(link)
        return link
    }

    override func adopt(_ link: OpaquePointer) {
        super.adopt(link)
        self.machine.attached()
        self.shared.markAttached()
    }

    override func remoteOpened() {
        guard let link = self.link else { return }
        // A refusal: no target, or a detach that came with the attach (already read, its event follows).
        if pn_terminus_get_type(pn_link_remote_target(link)) == PN_UNSPECIFIED { return }
        if pn_link_state(link) & PN_REMOTE_CLOSED != 0 { return }
        self.machine.attached()
        self.shared.markAttached()
        self.flow()
    }

    func enqueue(_ outgoing: OutgoingMessage, completion: @escaping SendCompletion) {
        _ = self.machine.enqueue(Pending(outgoing: outgoing, completion: completion))
        self.taken += 1
        self.flow()
    }

    /// The application has nothing more to send: on a link the peer asked to drain, the rest of its credit is used
    /// up (AMQP 1.0 §2.6.7), unless messages still wait for it.
    func drained() {
        guard let link = self.link, pn_link_get_drain(link), self.machine.queuedCount == 0 else { return }
        _ = pn_link_drained(link)
        self.reportCredit()
    }

    /// Tells the application the credit it may fill, when it changed.
    private func reportCredit() {
        guard let link = self.link else { return }
        let credit = AMQPSenderCredit(
            available: self.machine.queuedCount > 0 ? 0 : max(0, Int(pn_link_credit(link))),
            taken: self.taken,
            drain: pn_link_get_drain(link)
        )
        guard credit != self.reportedCredit else { return }
        self.reportedCredit = credit
        self.shared.reportCredit(credit)
    }

    override func flow() {
        guard let link = self.link else { return }
        let batch = self.machine.transmit(credit: Int(pn_link_credit(link)))
        defer { self.reportCredit() }
        guard !batch.isEmpty else { return }
        let state = self.owner.state
        for queued in batch {
            var tag = queued.tag.littleEndian
            withUnsafeBytes(of: &tag) { raw in
                _ = pn_delivery(link, pn_dtag(raw.baseAddress!.assumingMemoryBound(to: CChar.self), 8))
            }
            let failure: AMQPError?
            switch queued.item.outgoing {
            case .message(let message):
                ProtonMessageCodec.write(message, into: state.scratchMessage)
                let sent = pn_message_send(state.scratchMessage, link, &state.scratchBuffer)
                failure = sent < 0 ? AMQPError(.protocolViolation, "the message could not be encoded (code \(sent))") : nil
            case .encoded(let bytes):
                // The bytes are the whole message: one delivery, sent as it is, then closed with advance.
                let sent = bytes.withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { pn_link_send(link, $0.baseAddress, $0.count) }
                }
                if sent == bytes.count {
                    pn_link_advance(link)
                    failure = nil
                } else {
                    failure = AMQPError(.transport, "Proton did not take the \(bytes.count) encoded bytes (code \(sent))")
                }
            }
            if let failure {
                // Nothing went out for this delivery, so it failed, it is not unsettled.
                if let current = pn_link_current(link) { pn_delivery_abort(current) }
                self.machine.remoteSettled(tag: queued.tag)?.completion(.failure(failure))
            }
        }
    }

    override func delivery(_ delivery: OpaquePointer) {
        let remoteState = pn_delivery_remote_state(delivery)
        guard remoteState != 0 || pn_delivery_settled(delivery) else { return }
        let tagBytes = pn_delivery_tag(delivery)
        var tag: UInt64 = 0
        if tagBytes.size == 8, let start = tagBytes.start {
            withUnsafeMutableBytes(of: &tag) { $0.copyMemory(from: UnsafeRawBufferPointer(start: start, count: 8)) }
            tag = UInt64(littleEndian: tag)
        }
        let outcome: AMQPOutcome
        switch remoteState {
        case UInt64(PN_ACCEPTED):
            outcome = .accepted
        case UInt64(PN_REJECTED):
            outcome = .rejected(ProtonErrors.condition(pn_disposition_condition(pn_delivery_remote(delivery))))
        case UInt64(PN_MODIFIED):
            let remote = pn_delivery_remote(delivery)
            outcome = .modified(deliveryFailed: pn_disposition_is_failed(remote), undeliverableHere: pn_disposition_is_undeliverable(remote))
        default:
            // Released, or settled with no outcome at all: the peer did not take it, so it may be sent again.
            outcome = .released
        }
        pn_delivery_settle(delivery)
        self.machine.remoteSettled(tag: tag)?.completion(.success(outcome))
    }

    override func connectionLost() {
        super.connectionLost()
        for pending in self.machine.connectionLost() { pending.completion(.success(.unsettled)) }
        if self.isInbound { self.finish(error: nil) }
    }

    override func remoteClosed(condition: AMQPCondition?) {
        if let link = self.link { pn_link_close(link) }
        self.finish(error: condition == nil && self.isInbound ? nil : self.detachedError(condition))
    }

    override func close() {
        if let link = self.link { pn_link_close(link) }
        self.finish(error: nil)
    }

    override func finish(error: AMQPError?) {
        guard !self.finished else { return }
        self.finished = true
        let (inFlight, neverSent) = self.machine.closed()
        for pending in inFlight { pending.completion(.success(.unsettled)) }
        let failure = error ?? AMQPError(.closed, "the message was not sent: the link was closed")
        for pending in neverSent { pending.completion(.failure(failure)) }
        self.shared.finish(error: error)
        self.owner.linkFinished(self)
    }
}
