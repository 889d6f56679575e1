//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// What the peer decided about a message we sent, reported only once the peer's disposition arrived.
public enum AMQPOutcome: Sendable, Hashable, CustomStringConvertible {
    /// The peer accepted the message: it is now the peer's responsibility.
    case accepted
    /// The peer rejected the message as invalid; it must not be sent again unchanged.
    case rejected(AMQPCondition?)
    /// The peer did not process the message; it may be sent again. A peer that settles without any outcome
    /// is reported as released too, so a caller that resends never loses the message.
    case released
    /// The peer did not process the message and annotated it.
    case modified(deliveryFailed: Bool, undeliverableHere: Bool)
    /// The connection was lost after the message was transmitted and before any disposition arrived. The peer
    /// may or may not have it: never count this as sent.
    case unsettled

    /// A short name for counters and logs.
    public var name: String {
        switch self {
        case .accepted: return "accepted"
        case .rejected: return "rejected"
        case .released: return "released"
        case .modified: return "modified"
        case .unsettled: return "unsettled"
        }
    }

    public var description: String {
        switch self {
        case .rejected(let condition?): return "rejected(\(condition.name): \(condition.description))"
        case .modified(let failed, let undeliverable):
            return "modified(deliveryFailed: \(failed), undeliverableHere: \(undeliverable))"
        default: return self.name
        }
    }
}

/// How we settle a delivery we received.
public enum AMQPDisposition: Sendable, Hashable {
    /// Accepted: the message was processed; the peer forgets it.
    case accepted
    /// Released: not processed; the peer may redeliver it (to us or another consumer).
    case released
    /// Rejected as invalid, with an optional condition explaining why.
    case rejected(AMQPCondition?)
    /// Modified: not processed, with the delivery-failed and undeliverable-here flags.
    case modified(deliveryFailed: Bool, undeliverableHere: Bool)
}
