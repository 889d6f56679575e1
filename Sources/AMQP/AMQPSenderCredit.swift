//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The credit a peer granted on a link we send on, as the application needs it to send only what the peer asked
/// for (a listener serving competing consumers must not park messages on a link that has no credit).
///
/// The report and the application's sends cross threads, so the report says how many messages the link had taken
/// when it was made: a sender that handed over `sent` messages in total may send
/// `available - (sent - taken)` more.
public struct AMQPSenderCredit: Sendable, Hashable {
    /// Credit no message uses yet: the peer's link credit, or 0 while messages wait on the link for credit.
    public var available: Int
    /// Messages the link had taken from the application (all time) when this was reported.
    public var taken: Int
    /// The peer asked to drain: send what there is, then call `AMQPSender.drained()` to use up the rest.
    public var drain: Bool

    /// Creates a credit report.
    public init(available: Int, taken: Int, drain: Bool) {
        self.available = available
        self.taken = taken
        self.drain = drain
    }

    /// What a sender that handed the link `sent` messages in total may still send.
    public func remaining(afterSending sent: Int) -> Int {
        max(0, self.available - (sent - self.taken))
    }
}
