//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of the receiver's credit window: credit is only ever returned for settled deliveries, and it is
/// computed from the link's own credit so a peer that overruns cannot make the two sides wait for each other.
@Suite struct ReceiverCreditStateMachineTests {
    /// A link as Proton counts it: flows add credit, each delivery takes one (possibly below zero).
    struct SimulatedLink {
        var credit = 0
        mutating func flow(_ amount: Int) { self.credit += amount }
        mutating func deliver() { self.credit -= 1 }
    }

    @Test func grantsTheWindowOnAttach() {
        var machine = ReceiverCreditStateMachine(window: 10)
        #expect(machine.attached() == 10)
    }

    @Test func doesNotTopUpWhileDeliveriesAreUnsettled() {
        var machine = ReceiverCreditStateMachine(window: 10)
        var link = SimulatedLink()
        link.flow(machine.attached())
        for _ in 0..<10 {
            link.deliver()
            let hadCredit = machine.received(linkCredit: link.credit)
            #expect(hadCredit)
        }
        #expect(link.credit == 0)
        #expect(machine.unsettled == 10)
        // The peer sends an eleventh without credit: counted as an overrun.
        link.deliver()
        let hadCredit = machine.received(linkCredit: link.credit)
        #expect(!hadCredit)
        #expect(machine.overruns == 1)
    }

    @Test func topsUpInHalfWindowBatchesAsDeliveriesAreSettled() {
        var machine = ReceiverCreditStateMachine(window: 10)
        var link = SimulatedLink()
        link.flow(machine.attached())
        for _ in 0..<6 {
            link.deliver()
            _ = machine.received(linkCredit: link.credit)
        }
        // Credit 4, unsettled 6: each settlement widens the deficit by one.
        #expect(machine.settled(linkCredit: link.credit) == 0)  // deficit 1
        #expect(machine.settled(linkCredit: link.credit) == 0)
        #expect(machine.settled(linkCredit: link.credit) == 0)
        #expect(machine.settled(linkCredit: link.credit) == 0)  // deficit 4
        let flow = machine.settled(linkCredit: link.credit)  // deficit reached half the window
        #expect(flow == 5)
        link.flow(flow)
        #expect(link.credit + machine.unsettled == machine.window)
    }

    @Test func topsUpImmediatelyWhenCreditRunsOut() {
        var machine = ReceiverCreditStateMachine(window: 4)
        var link = SimulatedLink()
        link.flow(machine.attached())
        for _ in 0..<4 {
            link.deliver()
            _ = machine.received(linkCredit: link.credit)
        }
        // Credit 0, unsettled 3: the deficit (1) is below half the window, but a link with no credit stalls.
        #expect(machine.settled(linkCredit: link.credit) == 1)
    }

    @Test func aPeerThatOverrunsIsCompensatedNotAmplified() {
        var machine = ReceiverCreditStateMachine(window: 4)
        var link = SimulatedLink()
        link.flow(machine.attached())
        // The peer sends 6 against 4 credit (RabbitMQ 3.10 does this): Proton's credit goes to -2.
        for _ in 0..<6 {
            link.deliver()
            _ = machine.received(linkCredit: link.credit)
        }
        #expect(link.credit == -2)
        #expect(machine.overruns == 2)
        // Settling all six: no credit is granted while the window is still full of unsettled deliveries (a flow
        // then would leave the link's credit negative, which goes on the wire as a huge unsigned number), and
        // afterwards never more than brings credit plus unsettled back to the window.
        for _ in 0..<6 {
            let flow = machine.settled(linkCredit: link.credit)
            if flow > 0 {
                link.flow(flow)
                #expect(link.credit > 0)
            }
            #expect(link.credit + machine.unsettled <= machine.window)
        }
        // Within the half-window batching slack of a full window again.
        #expect(link.credit + machine.unsettled >= machine.window - machine.window / 2)
        #expect(link.credit > 0)
    }

    @Test func windowOfOneReturnsCreditPerMessage() {
        var machine = ReceiverCreditStateMachine(window: 1)
        var link = SimulatedLink()
        link.flow(machine.attached())
        link.deliver()
        _ = machine.received(linkCredit: link.credit)
        #expect(machine.settled(linkCredit: link.credit) == 1)
    }

    @Test func reattachForgetsDeliveriesOfTheOldAttachment() {
        var machine = ReceiverCreditStateMachine(window: 8)
        var link = SimulatedLink()
        link.flow(machine.attached())
        for _ in 0..<8 {
            link.deliver()
            _ = machine.received(linkCredit: link.credit)
        }
        machine.detached()
        #expect(machine.settled(linkCredit: 0) == 0)
        #expect(machine.attached() == 8)
        #expect(machine.unsettled == 0)
    }

    @Test func neverExceedsTheWindowOverALongRun() {
        var machine = ReceiverCreditStateMachine(window: 7)
        var link = SimulatedLink()
        link.flow(machine.attached())
        var inHand = 0
        var delivered = 0
        for step in 0..<2000 {
            if link.credit > 0 && (step % 3 != 0 || inHand == 0) {
                link.deliver()
                _ = machine.received(linkCredit: link.credit)
                inHand += 1
                delivered += 1
            } else if inHand > 0 {
                link.flow(machine.settled(linkCredit: link.credit))
                inHand -= 1
            }
            #expect(link.credit + machine.unsettled <= 7)
            #expect(machine.unsettled == inHand)
        }
        // And it never stalls: plenty of messages went through.
        #expect(delivered > 1000)
    }

    // MARK: - Stopping and resuming credit

    @Test func stoppedCreditIsNotToppedUpBySettlements() {
        var machine = ReceiverCreditStateMachine(window: 4)
        var link = SimulatedLink()
        link.flow(machine.attached())
        for _ in 0..<4 {
            link.deliver()
            _ = machine.received(linkCredit: link.credit)
        }
        machine.stop()
        for _ in 0..<4 {
            #expect(machine.settled(linkCredit: link.credit) == 0)
        }
        #expect(link.credit == 0)
        #expect(machine.unsettled == 0)
        // Resuming grants the whole window at once.
        let flow = machine.resume(linkCredit: link.credit)
        #expect(flow == 4)
        link.flow(flow)
        #expect(link.credit == 4)
    }

    @Test func creditGrantedBeforeTheStopIsStillUsedAndCountedAsUsual() {
        var machine = ReceiverCreditStateMachine(window: 10)
        var link = SimulatedLink()
        link.flow(machine.attached())
        for _ in 0..<3 {
            link.deliver()
            _ = machine.received(linkCredit: link.credit)
        }
        machine.stop()
        // The peer still holds 7 credits (no drain): those deliveries arrive and are within credit.
        for _ in 0..<7 {
            link.deliver()
            let hadCredit = machine.received(linkCredit: link.credit)
            #expect(hadCredit)
        }
        #expect(machine.unsettled == 10)
        #expect(machine.overruns == 0)
        for _ in 0..<10 { #expect(machine.settled(linkCredit: link.credit) == 0) }
        #expect(link.credit == 0, "nothing more can arrive: the link is quiet, ready to close")
        #expect(machine.resume(linkCredit: link.credit) == 10)
    }

    @Test func resumingTopsUpToTheWindowMinusUnsettled() {
        var machine = ReceiverCreditStateMachine(window: 8)
        var link = SimulatedLink()
        link.flow(machine.attached())
        for _ in 0..<8 {
            link.deliver()
            _ = machine.received(linkCredit: link.credit)
        }
        machine.stop()
        for _ in 0..<3 { #expect(machine.settled(linkCredit: link.credit) == 0) }
        // 5 still unsettled: 3 credits, at once (not in half-window batches).
        let flow = machine.resume(linkCredit: link.credit)
        #expect(flow == 3)
        link.flow(flow)
        #expect(link.credit + machine.unsettled == machine.window)
        // From then on settling tops up as before.
        var granted = 0
        for _ in 0..<5 {
            let topUp = machine.settled(linkCredit: link.credit)
            link.flow(topUp)
            granted += topUp
        }
        #expect(granted > 0)
        #expect(link.credit + machine.unsettled <= machine.window)
    }

    @Test func aStopOutlivesAReattachAndResumeAfterItGrantsTheWindow() {
        var machine = ReceiverCreditStateMachine(window: 6)
        var link = SimulatedLink()
        link.flow(machine.attached())
        machine.stop()
        machine.detached()
        #expect(machine.resume(linkCredit: 0) == 0, "no credit for a link that is not attached")
        machine.stop()
        #expect(machine.attached() == 0, "a reconnect does not undo the stop")
        #expect(machine.resume(linkCredit: 0) == 6)
    }

    @Test func resumingNeverGrantsPastTheWindowOrIntoNegativeCredit() {
        var machine = ReceiverCreditStateMachine(window: 10)
        var link = SimulatedLink()
        link.flow(machine.attached())
        // Not stopped, full credit: resuming is harmless.
        #expect(machine.resume(linkCredit: link.credit) == 0)
        // A peer that overran while stopped: no flow until credit plus unsettled is back under the window.
        var small = ReceiverCreditStateMachine(window: 4)
        var overrun = SimulatedLink()
        overrun.flow(small.attached())
        small.stop()
        for _ in 0..<6 {
            overrun.deliver()
            _ = small.received(linkCredit: overrun.credit)
        }
        #expect(overrun.credit == -2)
        #expect(small.resume(linkCredit: overrun.credit) == 0, "6 unsettled in a window of 4")
        #expect(small.settled(linkCredit: overrun.credit) == 0)
        #expect(small.settled(linkCredit: overrun.credit) == 0)
        // 3 unsettled: the link may have 1 credit, so the flow makes up the 2 it is below zero as well.
        let flow = small.settled(linkCredit: overrun.credit)
        #expect(flow == 3)
        overrun.flow(flow)
        #expect(overrun.credit == 1)
        #expect(overrun.credit + small.unsettled == small.window)
    }

    @Test func stopAndResumeAtRandomKeepTheBounds() {
        var machine = ReceiverCreditStateMachine(window: 7)
        var link = SimulatedLink()
        link.flow(machine.attached())
        var random = SplitMix64(seed: 7)
        var inHand = 0
        var delivered = 0
        var creditAtStop: Int?
        var deliveredSinceStop = 0
        for _ in 0..<5000 {
            switch random.next() % 10 {
            case 0:
                if creditAtStop == nil { creditAtStop = link.credit }
                deliveredSinceStop = 0
                machine.stop()
            case 1:
                creditAtStop = nil
                link.flow(machine.resume(linkCredit: link.credit))
            case 2...5:
                if link.credit > 0 {
                    link.deliver()
                    _ = machine.received(linkCredit: link.credit)
                    inHand += 1
                    delivered += 1
                    deliveredSinceStop += 1
                }
            default:
                if inHand > 0 {
                    link.flow(machine.settled(linkCredit: link.credit))
                    inHand -= 1
                }
            }
            #expect(link.credit >= 0)
            #expect(link.credit + machine.unsettled <= 7)
            #expect(machine.unsettled == inHand)
            if let creditAtStop { #expect(deliveredSinceStop <= creditAtStop, "no new credit while stopped") }
        }
        #expect(delivered > 1000)
    }
}
