//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The lifecycle of one client connection across reconnects: connect, SASL and Open (Proton runs those as one
/// attempt), open, lost, back off, connect again, close. Pure value type: the engine feeds it events and
/// performs the returned action.
struct ConnectionStateMachine {
    /// Where the connection is.
    enum State: Equatable {
        /// Created, not started.
        case idle
        /// An attempt is under way (TCP, TLS, SASL, Open). `attempt` counts consecutive failures + 1.
        case connecting(attempt: Int)
        /// Open: links may attach.
        case open
        /// Lost; the next attempt starts when the timer fires.
        case waitingToReconnect(attempt: Int)
        /// `close()` was called; waiting for the transport to finish.
        case closing
        /// Finished for good.
        case closed
    }

    /// What the engine must do next.
    enum Action: Equatable {
        /// Nothing.
        case none
        /// Start a new transport and connection to the endpoint, and arm the connect timer.
        case connect
        /// The connection is open: report it and attach every registered link.
        case reportOpened
        /// Arm the reconnect timer; links stay registered.
        case scheduleReconnect(after: Duration)
        /// The shared connect budget is used up: arm the reconnect timer without counting a failure.
        case deferConnect(after: Duration)
        /// Close the transport (a timeout or `close()`); `transportClosed` follows.
        case closeTransport
        /// Done: report `error` (nil after a requested close) to everyone waiting, and fail registered links.
        case finish(error: AMQPError?)

        static func == (lhs: Action, rhs: Action) -> Bool {
            switch (lhs, rhs) {
            case (.none, .none), (.connect, .connect), (.reportOpened, .reportOpened), (.closeTransport, .closeTransport):
                return true
            case (.scheduleReconnect(let a), .scheduleReconnect(let b)), (.deferConnect(let a), .deferConnect(let b)):
                return a == b
            case (.finish(let a), .finish(let b)):
                return a?.code == b?.code
            default:
                return false
            }
        }
    }

    private(set) var state: State = .idle
    /// Whether the connection was ever open; the first failure is treated differently (fail fast in the CLI).
    private(set) var hasBeenOpen = false
    private let policy: ReconnectPolicy

    /// Creates a machine in `idle`.
    init(policy: ReconnectPolicy) {
        self.policy = policy
    }

    /// The user asked to connect.
    mutating func start() -> Action {
        guard case .idle = self.state else { return .none }
        self.state = .connecting(attempt: 1)
        return .connect
    }

    /// The peer's Open arrived (SASL succeeded on the way).
    mutating func opened() -> Action {
        switch self.state {
        case .connecting:
            self.state = .open
            self.hasBeenOpen = true
            return .reportOpened
        case .closing, .closed:
            return .none
        case .idle, .open, .waitingToReconnect:
            preconditionFailure("\(#function) in state \(self.state)")
        }
    }

    /// The connect timer fired before Open arrived.
    mutating func connectTimedOut() -> Action {
        guard case .connecting = self.state else { return .none }
        return .closeTransport
    }

    /// The transport is gone (Proton's `PN_TRANSPORT_CLOSED`), with the error that ended it, if any.
    mutating func transportClosed(error: AMQPError?) -> Action {
        switch self.state {
        case .closing:
            self.state = .closed
            return .finish(error: nil)
        case .connecting(let attempt):
            return self.lost(error: error, failedAttempts: attempt)
        case .open:
            return self.lost(error: error, failedAttempts: 0)
        case .idle, .waitingToReconnect, .closed:
            return .none
        }
    }

    /// The reconnect timer fired.
    mutating func reconnectTimerFired() -> Action {
        guard case .waitingToReconnect(let attempt) = self.state else { return .none }
        self.state = .connecting(attempt: attempt)
        return .connect
    }

    /// The engine did not start the attempt `.connect` asked for: the connect budget the connection shares with
    /// others has no room for `wait`. Not a failure: the attempt number stays, and so does the backoff.
    mutating func connectDeferred(for wait: Duration) -> Action {
        guard case .connecting(let attempt) = self.state else { return .none }
        self.state = .waitingToReconnect(attempt: attempt)
        return .deferConnect(after: wait)
    }

    /// The user asked to close.
    mutating func close() -> Action {
        switch self.state {
        case .idle, .waitingToReconnect:
            self.state = .closed
            return .finish(error: nil)
        case .connecting, .open:
            self.state = .closing
            return .closeTransport
        case .closing, .closed:
            return .none
        }
    }

    private mutating func lost(error: AMQPError?, failedAttempts: Int) -> Action {
        let error = error ?? AMQPError(.transport, "the connection closed without an error condition")
        let mayRetry =
            self.policy.enabled && error.isTransient && (self.hasBeenOpen || self.policy.retryInitialConnect)
        let nextAttempt = failedAttempts + 1
        if !mayRetry || (self.policy.maximumAttempts.map { failedAttempts >= $0 } ?? false) {
            self.state = .closed
            return .finish(error: error)
        }
        self.state = .waitingToReconnect(attempt: nextAttempt)
        // The first retry after a connection that was open waits the initial delay; each further consecutive
        // failure doubles it.
        return .scheduleReconnect(after: self.policy.delay(forAttempt: nextAttempt, random: Double.random(in: 0..<1)))
    }
}
