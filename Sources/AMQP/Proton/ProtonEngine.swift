//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Foundation
import Logging
import Synchronization

/// One Proton proactor and the one thread that runs it. Every `pn_*` object the engine creates lives on that
/// thread. Other threads talk to it only through `submit(_:)`, which appends to a bounded command queue and
/// calls `pn_proactor_interrupt` (thread-safe by Proton's contract).
final class ProtonEngine: @unchecked Sendable {
    // @unchecked Sendable: `proactor` is only touched on the proactor thread, except for
    // `pn_proactor_interrupt`, which Proton documents as thread-safe and which we call under `mailbox`'s lock so
    // it can never race `pn_proactor_free`. Everything in `ProactorState` is confined to the proactor thread.

    /// Commands waiting for the proactor thread, and whether an interrupt is already on its way.
    private struct Mailbox {
        var commands: [EngineCommand] = []
        var interruptPending = false
        var isShutDown = false
    }

    /// The most commands that may wait at once. Credit windows and send windows bound what callers submit long
    /// before this; hitting it means a caller ignores back-pressure, and `submit` reports `overloaded`.
    static let mailboxCapacity = 1 << 20

    let logger: Logger
    private let proactor: OpaquePointer
    private let mailbox = Mutex(Mailbox())
    private let stopped = Mutex<[CheckedContinuation<Void, Never>]?>([])
    /// Proactor-thread state.
    let state: ProactorState

    /// Creates the proactor and starts its thread.
    init(logger: Logger) {
        self.logger = logger
        guard let proactor = pn_proactor() else { fatalError("pn_proactor() returned NULL (out of memory)") }
        self.proactor = proactor
        self.state = ProactorState(proactor: proactor, logger: logger)
        self.state.engine = self
        ProtonLogging.install(logger: logger)
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "iotbridge-amqp-proactor"
        thread.start()
    }

    /// Queues a command for the proactor thread. Returns false if the engine is shut down or the queue is full.
    @discardableResult
    func submit(_ command: EngineCommand) -> Bool {
        self.enqueue(command) == nil
    }

    /// Queues a command for the proactor thread, or says why it could not: `closed` after shutdown,
    /// `overloaded` when the queue is full.
    func enqueue(_ command: EngineCommand) -> AMQPError? {
        self.mailbox.withLock { mailbox -> AMQPError? in
            if mailbox.isShutDown { return AMQPError(.closed, "the AMQP engine is shut down") }
            guard mailbox.commands.count < Self.mailboxCapacity else {
                return AMQPError(
                    .overloaded,
                    "the AMQP engine has \(Self.mailboxCapacity) commands waiting — the caller is not waiting for "
                        + "send windows or settling deliveries; slow down"
                )
            }
            mailbox.commands.append(command)
            if !mailbox.interruptPending {
                mailbox.interruptPending = true
                // Under the lock: the proactor thread frees the proactor only after setting isShutDown here.
                pn_proactor_interrupt(self.proactor)
            }
            return nil
        }
    }

    /// Asks the proactor thread to close every connection and listener and then exit.
    func shutdown() async {
        let alreadyStopped: Bool = self.stopped.withLock { $0 == nil }
        if alreadyStopped { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stillRunning = self.stopped.withLock { waiters -> Bool in
                guard waiters != nil else { return false }
                waiters!.append(continuation)
                return true
            }
            if !stillRunning {
                continuation.resume()
            } else if !self.submit(.shutdown) {
                // Already shutting down: the waiter is resumed when the thread exits.
            }
        }
    }

    // MARK: - The proactor thread

    private func runLoop() {
        self.logger.debug("amqp proactor thread started")
        while !self.state.shouldExit {
            guard let batch = pn_proactor_wait(self.proactor) else { break }
            while let event = pn_event_batch_next(batch) {
                self.handle(event)
            }
            // Deliveries read in this batch go to their consumers at once: one wake-up per batch, not per message.
            if !self.state.dirtyReceivers.isEmpty {
                let receivers = self.state.dirtyReceivers
                self.state.dirtyReceivers.removeAll(keepingCapacity: true)
                for receiver in receivers { receiver.flushPending() }
            }
            pn_proactor_done(self.proactor, batch)
        }
        self.mailbox.withLock { mailbox in
            mailbox.isShutDown = true
            mailbox.commands.removeAll()
        }
        pn_proactor_free(self.proactor)
        self.logger.debug("amqp proactor thread stopped")
        let waiters = self.stopped.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    private func handle(_ event: OpaquePointer) {
        switch pn_event_type(event) {
        case PN_PROACTOR_INTERRUPT:
            let commands = self.mailbox.withLock { mailbox -> [EngineCommand] in
                mailbox.interruptPending = false
                defer { mailbox.commands.removeAll(keepingCapacity: true) }
                return mailbox.commands
            }
            self.state.execute(commands)
        case PN_PROACTOR_TIMEOUT:
            self.state.timers.fireDue()
        case PN_PROACTOR_INACTIVE:
            if self.state.isShuttingDown { self.state.shouldExit = true }
        case PN_LISTENER_OPEN, PN_LISTENER_ACCEPT, PN_LISTENER_CLOSE:
            if let listener = pn_event_listener(event) {
                self.state.listeners[listener]?.handle(event)
            }
        default:
            if let connection = pn_event_connection(event), let driver = self.state.connections[connection] {
                driver.handle(event)
            }
        }
    }
}

/// A command from another thread to the proactor thread.
enum EngineCommand: Sendable {
    case startConnection(ClientConnectionDriver.Registration)
    case closeConnection(ConnectionID)
    case attachLink(ConnectionID, LinkRegistration)
    case closeLink(ConnectionID, LinkID)
    case settle(ConnectionID, LinkID, attachment: UInt32, delivery: UInt64, AMQPDisposition)
    case settleMany(ConnectionID, LinkID, [(attachment: UInt32, delivery: UInt64)], AMQPDisposition)
    case setCreditStopped(ConnectionID, LinkID, Bool)
    case send(ConnectionID, LinkID, OutgoingMessage, SendCompletion)
    /// The application has nothing more for a draining link: use up its remaining credit.
    case drained(ConnectionID, LinkID)
    case startListener(ListenerDriver.Registration)
    case closeListener(ListenerID)
    case shutdown
}

/// Identifies a connection across reconnects (the `pn_connection_t` changes, this does not).
struct ConnectionID: Hashable, Sendable {
    let rawValue: UInt64
    private static let counter = Atomic<UInt64>(0)
    /// A process-unique id.
    static func next() -> ConnectionID { ConnectionID(rawValue: Self.counter.add(1, ordering: .relaxed).newValue) }
}

/// Identifies a link across reconnects.
struct LinkID: Hashable, Sendable {
    let rawValue: UInt64
    private static let counter = Atomic<UInt64>(0)
    /// A process-unique id.
    static func next() -> LinkID { LinkID(rawValue: Self.counter.add(1, ordering: .relaxed).newValue) }
}

/// Identifies a listener.
struct ListenerID: Hashable, Sendable {
    let rawValue: UInt64
    private static let counter = Atomic<UInt64>(0)
    /// A process-unique id.
    static func next() -> ListenerID { ListenerID(rawValue: Self.counter.add(1, ordering: .relaxed).newValue) }
}

/// What a sender transmits: a message Proton encodes, or bytes someone else encoded (a message being forwarded).
enum OutgoingMessage: Sendable {
    /// Encoded by Proton on the proactor thread.
    case message(AMQPMessage)
    /// Sent as they are.
    case encoded([UInt8])
}

/// Called on the proactor thread with a sent message's outcome; must not block.
typealias SendCompletion = @Sendable (Result<AMQPOutcome, AMQPError>) -> Void

/// What a link attach needs, created by the caller and handed to the proactor thread.
enum LinkRegistration: Sendable {
    /// We receive on this link.
    case receiver(id: LinkID, address: String?, name: String, shared: ReceiverShared)
    /// We send on this link.
    case sender(id: LinkID, address: String?, name: String, shared: SenderShared)
}

/// Everything confined to the proactor thread: the drivers by their C pointers, and the timers.
final class ProactorState {
    let proactor: OpaquePointer
    let logger: Logger
    let timers: ProactorTimers
    /// The engine that owns this state (set right after both exist).
    unowned(unsafe) var engine: ProtonEngine!
    /// Receivers that read deliveries in the current event batch.
    var dirtyReceivers: [ReceiverLinkDriver] = []
    /// Drivers by their current `pn_connection_t`.
    var connections: [OpaquePointer: ConnectionDriver] = [:]
    /// Client drivers by id (commands address them by id; their `pn_connection_t` changes on reconnect).
    var clientsByID: [ConnectionID: ClientConnectionDriver] = [:]
    /// Server-side drivers by id.
    var serversByID: [ConnectionID: ConnectionDriver] = [:]
    /// Listener drivers by their `pn_listener_t`.
    var listeners: [OpaquePointer: ListenerDriver] = [:]
    /// Listener drivers by id.
    var listenersByID: [ListenerID: ListenerDriver] = [:]
    var isShuttingDown = false
    var shouldExit = false
    /// One reusable message object for encoding and decoding on this thread.
    let scratchMessage: OpaquePointer
    /// A reusable buffer for `pn_message_send` (received bytes go straight into each delivery's own array).
    var scratchBuffer = pn_rwbytes_t(size: 0, start: nil)

    init(proactor: OpaquePointer, logger: Logger) {
        self.proactor = proactor
        self.logger = logger
        self.timers = ProactorTimers(proactor: proactor)
        guard let message = pn_message() else { fatalError("pn_message() returned NULL (out of memory)") }
        self.scratchMessage = message
    }

    deinit {
        pn_message_free(self.scratchMessage)
        free(self.scratchBuffer.start)
    }

    func execute(_ commands: [EngineCommand]) {
        var toWake: Set<OpaquePointer> = []
        for command in commands {
            switch command {
            case .startConnection(let registration):
                let driver = ClientConnectionDriver(registration: registration, state: self)
                self.clientsByID[registration.id] = driver
                driver.start()
            case .closeConnection(let id), .attachLink(let id, _), .closeLink(let id, _), .settle(let id, _, _, _, _),
                .send(let id, _, _, _), .settleMany(let id, _, _, _), .setCreditStopped(let id, _, _),
                .drained(let id, _):
                if let driver = self.clientsByID[id] ?? self.serversByID[id] {
                    driver.enqueue(command, wakeSet: &toWake)
                } else {
                    Self.reject(command, reason: "its connection is closed")
                }
            case .startListener(let registration):
                let driver = ListenerDriver(registration: registration, state: self)
                self.listenersByID[registration.id] = driver
                driver.start()
            case .closeListener(let id):
                self.listenersByID[id]?.close()
            case .shutdown:
                self.isShuttingDown = true
                for driver in self.clientsByID.values { driver.enqueue(.closeConnection(driver.id), wakeSet: &toWake) }
                for driver in self.listenersByID.values { driver.close() }
                for driver in self.serversByID.values { driver.enqueue(.closeConnection(driver.id), wakeSet: &toWake) }
            }
        }
        for connection in toWake { pn_connection_wake(connection) }
        self.checkExit()
    }

    /// Completes a command whose target is gone, so no caller waits forever.
    static func reject(_ command: EngineCommand, reason: String) {
        switch command {
        case .send(_, _, _, let completion):
            completion(.failure(AMQPError(.closed, "the message was not sent: \(reason)")))
        case .attachLink(_, .receiver(_, _, _, let shared)):
            shared.finish(error: AMQPError(.closed, "the receiver could not attach: \(reason)"))
        case .attachLink(_, .sender(_, _, _, let shared)):
            shared.finish(error: AMQPError(.closed, "the sender could not attach: \(reason)"))
        default:
            break
        }
    }

    /// Called by drivers when they are finished for good.
    func forget(client id: ConnectionID) {
        self.clientsByID.removeValue(forKey: id)
        self.checkExit()
    }

    /// Called by server-side drivers when they are finished for good.
    func forget(server id: ConnectionID) {
        self.serversByID.removeValue(forKey: id)
        self.checkExit()
    }

    /// Called by listener drivers when they are closed.
    func forget(listener id: ListenerID) {
        self.listenersByID.removeValue(forKey: id)
        self.checkExit()
    }

    private func checkExit() {
        if self.isShuttingDown && self.clientsByID.isEmpty && self.serversByID.isEmpty && self.listenersByID.isEmpty {
            self.shouldExit = true
        }
    }
}

/// Deadlines on the proactor thread. Proton offers one timeout per proactor; this keeps many and arms Proton's
/// for the earliest.
final class ProactorTimers {
    private struct Timer {
        let id: UInt64
        let deadline: Int64
        let action: () -> Void
    }

    private let proactor: OpaquePointer
    private var timers: [Timer] = []
    private var nextID: UInt64 = 1

    init(proactor: OpaquePointer) {
        self.proactor = proactor
    }

    /// Runs `action` on the proactor thread after `delay`. Returns an id for `cancel`.
    @discardableResult
    func schedule(after delay: Duration, _ action: @escaping () -> Void) -> UInt64 {
        let milliseconds = max(0, Int64(ReconnectPolicy.seconds(delay) * 1000))
        let id = self.nextID
        self.nextID += 1
        self.timers.append(Timer(id: id, deadline: pn_proactor_now_64() + milliseconds, action: action))
        self.arm()
        return id
    }

    /// Cancels a timer that has not fired.
    func cancel(_ id: UInt64?) {
        guard let id else { return }
        self.timers.removeAll { $0.id == id }
    }

    /// Runs every timer that is due and re-arms Proton's timeout for the next one.
    func fireDue() {
        let now = pn_proactor_now_64()
        let due = self.timers.filter { $0.deadline <= now }
        self.timers.removeAll { $0.deadline <= now }
        for timer in due { timer.action() }
        self.arm()
    }

    private func arm() {
        guard let earliest = self.timers.min(by: { $0.deadline < $1.deadline }) else { return }
        let delay = max(0, earliest.deadline - pn_proactor_now_64())
        pn_proactor_set_timeout(self.proactor, pn_millis_t(min(delay, Int64(UInt32.max))))
    }
}
