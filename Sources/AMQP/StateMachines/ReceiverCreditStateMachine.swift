//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The credit window of one receiving link. Credit is granted up to `window` and topped up only as the
/// application settles deliveries, so at most `window` messages are ever held in memory (the prefetch).
struct ReceiverCreditStateMachine {
    /// The most deliveries that may be granted or unsettled at once.
    let window: Int
    /// Credit granted to the peer and not yet used.
    private(set) var credit = 0
    /// Deliveries received on the current attachment and not yet settled by the application.
    private(set) var unsettled = 0
    /// Whether the link is attached (credit only makes sense then).
    private(set) var isAttached = false

    /// Creates a machine for a window of at least one message.
    init(window: Int) {
        precondition(window > 0, "a credit window must be positive")
        self.window = window
    }

    /// The credit to grant now with `pn_link_flow`, or 0.
    typealias Flow = Int

    /// The link attached (again, after a reconnect): grant the full window. Deliveries of an earlier attachment
    /// no longer count; the peer redelivers them.
    mutating func attached() -> Flow {
        self.isAttached = true
        self.unsettled = 0
        self.credit = self.window
        return self.window
    }

    /// A complete delivery arrived. Returns false when the peer sent without credit (a protocol violation we
    /// tolerate but report).
    mutating func received() -> Bool {
        self.unsettled += 1
        guard self.credit > 0 else { return false }
        self.credit -= 1
        return true
    }

    /// The application settled a delivery of the current attachment. Tops the credit up in batches of half a
    /// window, so a busy link sends one flow frame per `window / 2` messages instead of one per message.
    mutating func settled() -> Flow {
        guard self.isAttached, self.unsettled > 0 else { return 0 }
        self.unsettled -= 1
        let deficit = self.window - self.credit - self.unsettled
        guard deficit >= max(1, self.window / 2) || (self.credit == 0 && deficit > 0) else { return 0 }
        self.credit += deficit
        return deficit
    }

    /// The link or its connection is gone.
    mutating func detached() {
        self.isAttached = false
        self.credit = 0
        self.unsettled = 0
    }
}
