//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// When a receiving link we attach counts as attached. A peer that accepts the attach answers with a source
/// terminus; one that refuses answers with a null source and then detaches with the reason. Some peers answer
/// with a null source and simply start sending, though (the IoT platform's official samples accept that), so a
/// null source alone is no refusal: only a detach is. With a null source the link counts as attached as soon as
/// the peer acts on it — a transfer or a flow arrives — or when no detach followed within a grace period.
struct ReceiverAttachStateMachine {
    /// How long a null source waits for the detach of a refusal. A refusing peer sends the detach right behind
    /// the attach (usually in the same write), so this is ample, and short enough not to hold up `openReceiver`.
    static let gracePeriod: Duration = .milliseconds(500)

    /// Where the current attachment is.
    enum State: Equatable {
        /// Not attached (yet, or any more).
        case detached
        /// The peer answered with a null source; a detach would be a refusal.
        case awaitingConfirmation
        /// Attached.
        case attached
    }

    /// What the driver does.
    enum Action: Equatable {
        /// Nothing.
        case none
        /// Report the link attached.
        case markAttached
        /// Report the link attached although its source is null; cancel the grace timer.
        case markAttachedWithNullSource
        /// Start the grace timer and wait for a detach, a transfer or a flow.
        case startGraceTimer
    }

    private(set) var state = State.detached

    /// The peer's Attach arrived; `hasSource` is false for a null source terminus.
    mutating func remoteAttached(hasSource: Bool) -> Action {
        if hasSource {
            self.state = .attached
            return .markAttached
        }
        self.state = .awaitingConfirmation
        return .startGraceTimer
    }

    /// A transfer or a flow arrived on the link: a peer that refused would not send either.
    mutating func peerActed() -> Action {
        self.confirm()
    }

    /// The grace period passed without a detach.
    mutating func graceExpired() -> Action {
        self.confirm()
    }

    /// The peer detached, or the link or its connection is gone: whatever was pending is over.
    mutating func detached() {
        self.state = .detached
    }

    private mutating func confirm() -> Action {
        guard self.state == .awaitingConfirmation else { return .none }
        self.state = .attached
        return .markAttachedWithNullSource
    }
}
