//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Where the merged stream goes. A sink confirms each message exactly once, after the message is safe
/// downstream (a broker's `accepted`, a 2xx, a write that reached the file), or says it can never take it.
///
/// Transient failures (a broker away, a 503, a full disk) are the sink's to retry, with backoff, for as long as
/// it takes: the message stays unsettled upstream meanwhile, and the sink's window fills, which withholds
/// upstream credit. That is the back-pressure: nothing is dropped and nothing is settled early.
public protocol Sink: AnyObject, Sendable {
    /// Its configured name.
    var name: String { get }
    /// Connects or opens what it writes to; throws when that cannot work at all (a wrong password, a folder
    /// that does not exist). Transient trouble is retried instead.
    func start() async throws
    /// Takes `message`; returns once the sink has room for it (waits while its window is full). `completion`
    /// runs exactly once, on any thread, and must not block.
    func send(_ message: SinkMessage, completion: @escaping @Sendable (SinkOutcome) -> Void) async throws
    /// Finishes what is in flight for at most `deadline`, then closes. Messages not confirmed by then are
    /// reported `.abandoned`.
    func shutdown(deadline: Duration) async
    /// What it is doing now, for /status.
    var state: SinkState { get }
}

/// A message on its way to a sink: the bridge message, or a rule's output for it.
public struct SinkMessage: Sendable {
    /// The message.
    public var message: BridgeMessage
    /// A rule's output to send instead of the message's payload; nil: the message itself.
    public var rulePayload: [UInt8]?
    /// The rule that produced it, for the dead letter's reason.
    public var rule: String?
    /// Why it goes to the dead letter (dead-letter sinks only).
    public var deadLetterReason: String?
    /// The sink that refused it (dead-letter records only): where `deadletter replay` sends it again.
    public var refusedBy: String?

    /// Creates a sink message.
    public init(message: BridgeMessage, rulePayload: [UInt8]? = nil, rule: String? = nil, deadLetterReason: String? = nil) {
        self.message = message
        self.rulePayload = rulePayload
        self.rule = rule
        self.deadLetterReason = deadLetterReason
    }

    /// The payload this sink delivers.
    public var payload: [UInt8] { self.rulePayload ?? self.message.payload }
}

/// What became of a message a sink took.
public enum SinkOutcome: Sendable, Hashable {
    /// Safe downstream.
    case confirmed
    /// The downstream refused it for good (rejected, a 4xx, too many releases): it goes to the dead letter.
    case refused(String)
    /// The sink shut down before the message was confirmed: it stays unsettled upstream and is redelivered.
    case abandoned
}

/// What a sink is doing, for /status.
public struct SinkState: Sendable, Hashable {
    /// connecting, flowing, retrying, stopped.
    public var phase: String
    /// Messages taken and not yet confirmed or refused.
    public var inFlight: Int
    /// Messages confirmed.
    public var confirmed: Int
    /// Messages refused (gone to the dead letter).
    public var refused: Int
    /// Attempts that failed transiently and are being retried.
    public var retries: Int
    /// The last error, if any.
    public var lastError: String?
    /// What else an operator should know, one line each (e.g. a listener's consumer group that holds messages
    /// because no consumer is attached).
    public var notes: [String] = []

    /// Creates a state.
    public init(phase: String, inFlight: Int = 0, confirmed: Int = 0, refused: Int = 0, retries: Int = 0, lastError: String? = nil) {
        self.phase = phase
        self.inFlight = inFlight
        self.confirmed = confirmed
        self.refused = refused
        self.retries = retries
        self.lastError = lastError
    }
}
