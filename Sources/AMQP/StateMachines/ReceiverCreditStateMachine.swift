//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The credit window of one receiving link. Credit is granted up to `window` and topped up only as the
/// application settles deliveries, so at most `window` messages are held in memory (the prefetch). The
/// application can stop granting credit (to shut down gracefully or cap a rate) and resume later.
///
/// The credit the link has left is read from the link itself (Proton counts it down as transfers arrive) rather
/// than tracked here: a peer that sends past its credit (RabbitMQ 3.10 does) would otherwise make a private
/// count drift from the peer's until both sides wait for each other.
struct ReceiverCreditStateMachine {
    /// The most deliveries that may be granted or unsettled at once.
    let window: Int
    /// Deliveries received on the current attachment and not yet settled by the application.
    private(set) var unsettled = 0
    /// Whether the link is attached (credit only makes sense then).
    private(set) var isAttached = false
    /// Deliveries that arrived while the link had no credit left, on this attachment.
    private(set) var overruns = 0
    /// Whether the application stopped granting credit: no top-ups, not even after a reattach, until it resumes.
    /// Credit already granted stays with the peer (taking it back needs drain mode, which RabbitMQ 3.10
    /// mishandles), so deliveries may still arrive.
    private(set) var isStopped = false

    /// Creates a machine for a window of at least one message.
    init(window: Int) {
        precondition(window > 0, "a credit window must be positive")
        self.window = window
    }

    /// The credit to grant now with `pn_link_flow`, or 0.
    typealias Flow = Int

    /// The link attached (again, after a reconnect): grant the full window, or nothing while stopped.
    /// Deliveries of an earlier attachment no longer count; the peer redelivers them.
    mutating func attached() -> Flow {
        self.isAttached = true
        self.unsettled = 0
        self.overruns = 0
        return self.isStopped ? 0 : self.window
    }

    /// A complete delivery arrived; `linkCredit` is the link's credit after it (negative when the peer
    /// overran). Returns false when the peer sent without credit — tolerated, counted, reported once.
    mutating func received(linkCredit: Int) -> Bool {
        self.unsettled += 1
        guard linkCredit >= 0 else {
            self.overruns += 1
            return false
        }
        return true
    }

    /// The application settled a delivery of the current attachment; `linkCredit` is the link's credit now.
    /// Tops the credit up to `window - unsettled` in batches of half a window (one flow frame per
    /// `window / 2` messages instead of one per message), or at once when the link has no credit left.
    mutating func settled(linkCredit: Int) -> Flow {
        guard self.isAttached, self.unsettled > 0 else { return 0 }
        self.unsettled -= 1
        guard !self.isStopped else { return 0 }
        // The credit the link should have. Proton sends the link's credit as an unsigned number, so a flow that
        // left it negative (possible after an overrun) would grant the peer almost unlimited credit: never do it.
        let target = self.window - self.unsettled
        guard target > 0 else { return 0 }
        let deficit = target - linkCredit
        guard deficit >= max(1, self.window / 2) || (linkCredit <= 0 && deficit > 0) else { return 0 }
        return deficit
    }

    /// The application stops granting credit: from now on settling returns none.
    mutating func stop() {
        self.isStopped = true
    }

    /// The application grants credit again: tops the link up at once to `window - unsettled` (`linkCredit` is
    /// the link's credit now; never a flow that leaves it negative).
    mutating func resume(linkCredit: Int) -> Flow {
        self.isStopped = false
        guard self.isAttached else { return 0 }
        let target = self.window - self.unsettled
        guard target > 0, target > linkCredit else { return 0 }
        return target - linkCredit
    }

    /// The link or its connection is gone.
    mutating func detached() {
        self.isAttached = false
        self.unsettled = 0
    }
}
