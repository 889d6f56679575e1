//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Logging

/// What client and server connections share on the proactor thread: the current `pn_connection_t`, its
/// session, its links, and the commands waiting for the connection's next wake-up.
///
/// Proton lets a connection be touched only inside its own event batch, so commands from other threads are
/// parked in `inbox` and run on `PN_CONNECTION_WAKE`.
class ConnectionDriver {
    let id: ConnectionID
    unowned let state: ProactorState
    var logger: Logger
    /// The live connection, nil while disconnected.
    var connection: OpaquePointer?
    var session: OpaquePointer?
    /// Commands waiting for `PN_CONNECTION_WAKE`.
    var inbox: [EngineCommand] = []
    var links: [LinkID: LinkDriver] = [:]
    var linksByPointer: [OpaquePointer: LinkDriver] = [:]
    /// The condition of the peer's Close frame, if it sent one.
    var remoteCondition: AMQPCondition?
    /// A short name for logs and errors.
    let label: String

    init(id: ConnectionID, label: String, state: ProactorState) {
        self.id = id
        self.label = label
        self.state = state
        self.logger = state.logger
        self.logger[metadataKey: "amqp.connection"] = "\(label)"
    }

    /// Whether links can be attached right now.
    var isOpen: Bool { false }

    /// Parks a command for the next wake-up, or runs it now if there is no connection to wake.
    func enqueue(_ command: EngineCommand, wakeSet: inout Set<OpaquePointer>) {
        if let connection = self.connection {
            self.inbox.append(command)
            wakeSet.insert(connection)
        } else {
            self.process(command)
        }
    }

    /// Runs one command on the proactor thread.
    func process(_ command: EngineCommand) {
        switch command {
        case .attachLink(_, let registration):
            let driver: LinkDriver
            switch registration {
            case .receiver(let id, let address, let name, let shared):
                driver = ReceiverLinkDriver(id: id, address: address, name: name, shared: shared, owner: self)
            case .sender(let id, let address, let name, let shared):
                driver = SenderLinkDriver(id: id, address: address, name: name, shared: shared, owner: self)
            }
            if let refusal = self.refuseAttach(driver) {
                driver.finish(error: refusal)
                return
            }
            self.links[driver.id] = driver
            if self.isOpen, let session = self.session {
                self.register(driver.attach(session: session), for: driver)
            }
        case .closeLink(_, let linkID):
            self.links[linkID]?.close()
        case .settle(_, let linkID, let attachment, let delivery, let disposition):
            (self.links[linkID] as? ReceiverLinkDriver)?.settle(attachment: attachment, delivery: delivery, disposition)
        case .settleMany(_, let linkID, let deliveries, let disposition):
            guard let receiver = self.links[linkID] as? ReceiverLinkDriver else { return }
            for (attachment, delivery) in deliveries {
                receiver.settle(attachment: attachment, delivery: delivery, disposition)
            }
        case .setCreditStopped(_, let linkID, let stopped):
            (self.links[linkID] as? ReceiverLinkDriver)?.setCreditStopped(stopped)
        case .send(_, let linkID, let outgoing, let completion):
            if let sender = self.links[linkID] as? SenderLinkDriver {
                sender.enqueue(outgoing, completion: completion)
            } else {
                completion(.failure(AMQPError(.linkDetached, "the message was not sent: its link is closed")))
            }
        case .drained(_, let linkID):
            (self.links[linkID] as? SenderLinkDriver)?.drained()
        case .closeConnection:
            self.closeRequested()
        default:
            break
        }
    }

    /// A reason to refuse a new link (the platform's one-receiver rule), or nil.
    func refuseAttach(_ driver: LinkDriver) -> AMQPError? { nil }

    /// The user or the engine asked to close.
    func closeRequested() {}

    func register(_ link: OpaquePointer?, for driver: LinkDriver) {
        if let link { self.linksByPointer[link] = driver }
    }

    /// A link finished for good: forget it.
    func linkFinished(_ driver: LinkDriver) {
        self.links.removeValue(forKey: driver.id)
        if let link = driver.link { self.linksByPointer.removeValue(forKey: link) }
    }

    /// Handles one Proton event for this connection.
    func handle(_ event: OpaquePointer) {
        switch pn_event_type(event) {
        case PN_CONNECTION_WAKE:
            let commands = self.inbox
            self.inbox.removeAll(keepingCapacity: true)
            for command in commands { self.process(command) }
        case PN_CONNECTION_REMOTE_OPEN:
            self.remoteOpened()
        case PN_CONNECTION_REMOTE_CLOSE:
            if let connection = self.connection {
                self.remoteCondition = ProtonErrors.condition(pn_connection_remote_condition(connection))
                pn_connection_close(connection)
            }
        case PN_SESSION_REMOTE_OPEN:
            if let session = pn_event_session(event), pn_session_state(session) & PN_LOCAL_UNINIT != 0 {
                self.remoteBegan(session)
            }
        case PN_SESSION_REMOTE_CLOSE:
            // A peer may refuse an attach by ending the whole session (RabbitMQ does: "Attach rejected:
            // {unknown_destination, …}"). Every link of the session ends with that reason.
            guard let session = pn_event_session(event) else { return }
            let condition = ProtonErrors.condition(pn_session_remote_condition(session))
            pn_session_close(session)
            for driver in Array(self.links.values) where driver.link.map({ pn_link_session($0) == session }) ?? false {
                driver.remoteClosed(condition: condition)
            }
            if session == self.session { self.sessionEnded() }
            self.remoteEnded(session)
        case PN_LINK_REMOTE_OPEN:
            guard let link = pn_event_link(event) else { return }
            if let driver = self.linksByPointer[link] {
                driver.remoteOpened()
            } else {
                self.remoteAttached(link)
            }
        case PN_LINK_REMOTE_CLOSE, PN_LINK_REMOTE_DETACH:
            guard let link = pn_event_link(event) else { return }
            let driver = self.linksByPointer[link]
            driver?.remoteClosed(condition: ProtonErrors.condition(pn_link_remote_condition(link)))
            self.remoteDetached(link)
            // Both ends are detached: nothing will use the link again, so it is freed now rather than with the
            // connection (a client that attaches and detaches in a loop would otherwise grow it without bound).
            // The event keeps its own reference until the batch moves on.
            if pn_link_state(link) & PN_LOCAL_CLOSED != 0 {
                self.linksByPointer.removeValue(forKey: link)
                if let driver, driver.link == link { driver.link = nil }
                pn_link_free(link)
            }
        case PN_LINK_FLOW:
            guard let link = pn_event_link(event) else { return }
            self.linksByPointer[link]?.flow()
        case PN_DELIVERY:
            guard let delivery = pn_event_delivery(event), let link = pn_delivery_link(delivery) else { return }
            self.linksByPointer[link]?.delivery(delivery)
        case PN_TRANSPORT_ERROR:
            if let transport = pn_event_transport(event) {
                self.transportError(ProtonErrors.condition(pn_transport_condition(transport)))
            }
        case PN_TRANSPORT_CLOSED:
            var condition: AMQPCondition?
            if let transport = pn_event_transport(event) {
                condition = ProtonErrors.condition(pn_transport_condition(transport))
            }
            self.transportClosed(condition: condition)
        default:
            break
        }
    }

    /// The peer's Open arrived.
    func remoteOpened() {}

    /// The peer began a session we did not initiate: a server accepts it.
    func remoteBegan(_ session: OpaquePointer) {
        pn_session_open(session)
        self.session = session
    }

    /// The peer ended a session (after its links were told and ours was closed).
    func remoteEnded(_ session: OpaquePointer) {}

    /// The peer detached a link (after its driver was told), just before it is freed if our end is closed too.
    func remoteDetached(_ link: OpaquePointer) {}

    /// A link of this connection refused an inbound delivery (server side), for counting and logs.
    func inboundDeliveryRefused(_ refusal: InboundRefusal, on driver: ReceiverLinkDriver) {}

    /// The peer ended our session; a client opens a new one for the links that come later.
    func sessionEnded() {
        self.session = nil
    }

    /// The peer attached a link we did not initiate (server side).
    func remoteAttached(_ link: OpaquePointer) {
        // A client connection does not accept links the peer initiates.
        pn_condition_set_name(pn_link_condition(link), "amqp:not-allowed")
        pn_link_close(link)
    }

    /// Proton reported a transport error; `PN_TRANSPORT_CLOSED` follows.
    func transportError(_ condition: AMQPCondition?) {}

    /// The transport is gone; Proton frees the connection after this batch.
    func transportClosed(condition: AMQPCondition?) {
        if let connection = self.connection { self.state.connections.removeValue(forKey: connection) }
        self.connection = nil
        self.session = nil
        self.linksByPointer.removeAll()
        // Commands that were waiting for a wake-up that will never come run in disconnected mode.
        let commands = self.inbox
        self.inbox.removeAll()
        for command in commands { self.process(command) }
    }
}

/// Why a listener's receiving link refused a client's delivery.
enum InboundRefusal {
    /// More than `limit` bytes: the link is detached with `amqp:link:message-size-exceeded`.
    case messageTooLarge(limit: Int)
    /// More unsettled deliveries than the credit window: the link is detached with
    /// `amqp:link:transfer-limit-exceeded`.
    case transferLimitExceeded(window: Int)
    /// Not a valid AMQP message: rejected with `amqp:decode-error`; the link stays.
    case undecodable(AMQPError)
}
