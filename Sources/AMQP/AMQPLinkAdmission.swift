//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Decides whether the listener serves a link a logged-in client attaches: nil serves it, a condition refuses it
/// (the link is attached with null termini and detached at once with the condition, as AMQP 1.0 §2.6.3 says a
/// refusal goes). It runs on the proactor thread, so it must be quick and must not block.
public struct AMQPLinkAdmission: Sendable, CustomStringConvertible {
    /// Which way the link carries messages, seen from the client.
    public enum Direction: Sendable, Hashable {
        /// The client receives: we send on it (its source address is the one asked for).
        case consuming
        /// The client sends: we receive on it (its target address is the one asked for).
        case publishing
    }

    let check: @Sendable (_ direction: Direction, _ address: String?, _ peer: AMQPPeer) -> AMQPCondition?

    /// Wraps a check that returns nil to serve the link, or the condition to refuse it with.
    public init(_ check: @escaping @Sendable (_ direction: Direction, _ address: String?, _ peer: AMQPPeer) -> AMQPCondition?) {
        self.check = check
    }

    /// Shows nothing of what the check captured.
    public var description: String { "AMQPLinkAdmission(<check>)" }
}
