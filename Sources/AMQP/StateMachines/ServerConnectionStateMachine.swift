//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The life of one connection a client opened to the listener, from accept to close: what the client must have
/// done (log in with a configured mechanism, open in time) before it may begin a session, and how many sessions
/// and links it may have. Pure value type: the driver feeds it Proton's events and performs the returned action.
///
/// A refusal always travels as an AMQP condition in our Close (or Detach, End): the client's error then says
/// why. Nothing the client sends after a refused Open is served: its sessions and links are ignored, so Proton
/// never answers them, and the transport ends once our Close is out.
struct ServerConnectionStateMachine {
    /// What the listener's configuration allows.
    struct Policy: Equatable {
        /// An authenticator is configured: a connection must complete SASL with one of the offered mechanisms.
        var requiresLogin: Bool
        /// The most sessions open at once on one connection.
        var maxSessions: Int
        /// The most links attached at once on one session.
        var maxLinksPerSession: Int
        /// The most links attached at once on the whole connection (the platform serves exactly one); nil: only
        /// the per-session limit applies.
        var maxLinksPerConnection: Int? = nil
        /// The idle-time-out, in milliseconds, a client's Open must announce (the platform's 30,000–300,000); nil:
        /// any, or none.
        var idleTimeoutRange: ClosedRange<Int>? = nil
        /// Whether the connection must attach a link before the attach deadline (the platform's 15 s).
        var requiresTimelyAttach = false
    }

    /// What SASL concluded about the client.
    enum Login: Equatable {
        /// No verdict: the client skipped SASL (sent the plain AMQP header), or it is still under way.
        case none
        /// Logged in as `user` with `mechanism` (`anonymous` for ANONYMOUS).
        case succeeded(user: String, mechanism: String)
        /// SASL completed, but the login is refused with `condition` at Open (PLAIN over unencrypted TCP on a
        /// listener that is not loopback-only): the Close carries the reason, which a SASL outcome cannot.
        case refused(AMQPCondition)
        /// Wrong credentials: the SASL outcome says so and Proton closes the transport.
        case failed
    }

    /// Where the connection is.
    enum State: Equatable {
        /// Accepted: TLS, SASL and the client's Open are under way.
        case handshaking
        /// The client's Open was answered with ours: sessions and links may come.
        case open
        /// Our Open and a Close with an error condition are on their way; nothing more is served.
        case refusing
        /// The transport is gone.
        case closed
    }

    /// What to answer the client's Open with.
    enum OpenAction: Equatable {
        /// Open; the connection belongs to `user` (nil when no login is required and none happened).
        case open(user: String?)
        /// Open, then Close at once with `condition`; serve nothing.
        case refuse(AMQPCondition)
        /// Nothing (the connection is already refused or gone).
        case none
    }

    /// What to answer a session's Begin or a link's Attach with.
    enum EndpointAction: Equatable {
        /// Open our end.
        case accept
        /// Open our end and close it at once with `condition` (the peer learns why).
        case refuse(AMQPCondition)
        /// Leave it unanswered: the connection is refused and closing.
        case ignore
    }

    /// What to do when the attach deadline passes.
    enum AttachTimerAction: Equatable {
        /// Nothing: a link was attached in time (or the connection is over).
        case none
        /// Close the connection with `condition`.
        case close(AMQPCondition)
    }

    /// What to do when the handshake deadline passes.
    enum TimerAction: Equatable {
        /// Nothing: the client opened (or the connection is over).
        case none
        /// Close the transport without a word: the client never got as far as an Open we could answer.
        case closeTransport
    }

    let policy: Policy
    private(set) var state: State = .handshaking
    private(set) var login: Login = .none
    /// A refusal decided when the connection was accepted (a connection limit), sent at Open.
    private let admissionRefusal: AMQPCondition?
    /// Sessions we accepted and that have not ended, each with its number of attached links we accepted.
    private var linksBySession: [Int: Int] = [:]
    /// Whether the application was handed a link on this connection (the attach deadline is then met).
    private(set) var servedALink = false

    /// Creates a machine for a connection just accepted; `admissionRefusal` is the condition to close it with at
    /// Open when a connection limit was reached, nil when it was admitted.
    init(policy: Policy, admissionRefusal: AMQPCondition? = nil) {
        self.policy = policy
        self.admissionRefusal = admissionRefusal
    }

    /// Sessions open now.
    var sessionCount: Int { self.linksBySession.count }

    /// SASL succeeded.
    mutating func loggedIn(user: String, mechanism: String) {
        guard self.state == .handshaking else { return }
        self.login = .succeeded(user: user, mechanism: mechanism)
    }

    /// SASL completed but the login is refused; the reason goes in the Close at Open.
    mutating func loginRefused(_ condition: AMQPCondition) {
        guard self.state == .handshaking else { return }
        self.login = .refused(condition)
    }

    /// SASL failed (wrong credentials).
    mutating func loginFailed() {
        guard self.state == .handshaking else { return }
        self.login = .failed
    }

    /// The client's Open arrived, announcing `idleTimeout` milliseconds (0: none).
    mutating func remoteOpened(idleTimeout: Int = 0) -> OpenAction {
        guard self.state == .handshaking else { return .none }
        // Who the client is comes first: an unauthenticated client learns nothing about the listener's load.
        switch self.login {
        case .refused(let condition):
            self.state = .refusing
            return .refuse(condition)
        case .failed:
            // Proton closes the transport after a failed SASL outcome; an Open cannot get here, but if it did it
            // would be refused like a skipped login.
            self.state = .refusing
            return .refuse(Self.loginRequired)
        case .none where self.policy.requiresLogin:
            self.state = .refusing
            return .refuse(Self.loginRequired)
        case .none, .succeeded:
            break
        }
        if let refusal = self.admissionRefusal {
            self.state = .refusing
            return .refuse(refusal)
        }
        if let range = self.policy.idleTimeoutRange, !range.contains(idleTimeout) {
            self.state = .refusing
            return .refuse(
                AMQPCondition(
                    name: "amqp:invalid-field",
                    description: "the Open frame must announce an idle-time-out between \(range.lowerBound) and "
                        + "\(range.upperBound) ms (it announced \(idleTimeout == 0 ? "none" : "\(idleTimeout) ms")); set the "
                        + "client's idle timeout or heartbeat, e.g. 60 s"
                )
            )
        }
        self.state = .open
        if case .succeeded(let user, _) = self.login { return .open(user: user) }
        return .open(user: nil)
    }

    /// The client began a session (`session` identifies it until it ends).
    mutating func sessionBegan(_ session: Int) -> EndpointAction {
        switch self.state {
        case .open:
            guard self.linksBySession.count < self.policy.maxSessions else {
                return .refuse(
                    AMQPCondition(
                        name: AMQPCondition.resourceLimitExceeded,
                        description: "this connection already has \(self.policy.maxSessions) sessions, the listener's limit "
                            + "(max sessions per connection); end one first or use another connection"
                    )
                )
            }
            self.linksBySession[session] = 0
            return .accept
        case .handshaking, .refusing, .closed:
            // A Begin before our Open is answered (pipelined with a refused Open): never served.
            return .ignore
        }
    }

    /// A session ended (either side).
    mutating func sessionEnded(_ session: Int) {
        self.linksBySession.removeValue(forKey: session)
    }

    /// The client attached a link on `session`.
    mutating func linkAttached(on session: Int) -> EndpointAction {
        guard self.state == .open, let links = self.linksBySession[session] else { return .ignore }
        guard links < self.policy.maxLinksPerSession else {
            return .refuse(
                AMQPCondition(
                    name: AMQPCondition.resourceLimitExceeded,
                    description: "this session already has \(self.policy.maxLinksPerSession) links, the listener's limit "
                        + "(max links per session); detach one first or begin another session"
                )
            )
        }
        if let limit = self.policy.maxLinksPerConnection, self.linksBySession.values.reduce(0, +) >= limit {
            return .refuse(
                AMQPCondition(
                    name: AMQPCondition.resourceLimitExceeded,
                    description: "this connection already has \(limit) link\(limit == 1 ? "" : "s"), the listener's limit "
                        + "(one receiver link per connection, as the platform allows); open another connection"
                )
            )
        }
        self.linksBySession[session] = links + 1
        return .accept
    }

    /// A link was attached and handed to the application: the attach deadline is met.
    mutating func linkServed() {
        self.servedALink = true
    }

    /// The deadline for the first link passed.
    mutating func attachTimerFired(after timeout: Duration) -> AttachTimerAction {
        guard self.policy.requiresTimelyAttach, self.state == .open, !self.servedALink else { return .none }
        self.state = .refusing
        return .close(
            AMQPCondition(
                name: AMQPCondition.resourceLimitExceeded,
                description: "no link was attached within \(timeout) of the connection opening; attach the receiver link "
                    + "right after connecting"
            )
        )
    }

    /// A link we accepted on `session` detached (either side).
    mutating func linkDetached(on session: Int) {
        guard let links = self.linksBySession[session], links > 0 else { return }
        self.linksBySession[session] = links - 1
    }

    /// The deadline for SASL and Open passed.
    mutating func handshakeTimerFired() -> TimerAction {
        guard self.state == .handshaking else { return .none }
        self.state = .closed
        return .closeTransport
    }

    /// The transport is gone.
    mutating func transportClosed() {
        self.state = .closed
        self.linksBySession.removeAll()
    }

    /// The condition for a connection that did not log in although the listener requires it.
    static let loginRequired = AMQPCondition(
        name: AMQPCondition.unauthorizedAccess,
        description: "this listener requires SASL authentication; the client opened the connection without logging "
            + "in (send the SASL header and log in with PLAIN)"
    )
}
