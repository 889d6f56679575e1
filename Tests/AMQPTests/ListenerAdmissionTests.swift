//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Transcripts of the listener's admission: connection limits in all and per address, failed logins per
/// address, and the file-descriptor budget.
@Suite struct ListenerAdmissionTests {
    @Test func connectionsAreAdmittedUpToBothLimitsAndCountedPerAddress() {
        var admission = ConnectionAdmission(maxConnections: 3, maxPerAddress: 2, maxRefusing: 1)
        #expect(admission.accepted(from: "10.0.0.1") == .admit)
        #expect(admission.accepted(from: "10.0.0.1") == .admit)
        guard case .refuse(let perAddress) = admission.accepted(from: "10.0.0.1") else {
            Issue.record("expected the per-address limit")
            return
        }
        #expect(perAddress.name == AMQPCondition.resourceLimitExceeded)
        #expect(perAddress.description.contains("per remote address"))
        // Only one refusal may be in progress: the next one is dropped without a word.
        guard case .drop = admission.accepted(from: "10.0.0.1") else {
            Issue.record("expected a drop")
            return
        }
        #expect(admission.accepted(from: "10.0.0.2") == .admit)
        #expect(admission.admitted == 3)
        admission.closed(from: "10.0.0.1", decision: .refuse(perAddress))
        guard case .refuse(let total) = admission.accepted(from: "10.0.0.3") else {
            Issue.record("expected the total limit")
            return
        }
        #expect(total.description.contains("max connections"))
        // Closing admitted connections makes room, in all and for the address.
        admission.closed(from: "10.0.0.3", decision: .refuse(total))
        admission.closed(from: "10.0.0.1", decision: .admit)
        #expect(admission.count(from: "10.0.0.1") == 1)
        #expect(admission.accepted(from: "10.0.0.1") == .admit)
        // Connect and disconnect in a loop: nothing accumulates.
        for _ in 0..<1000 {
            admission.closed(from: "10.0.0.9", decision: admission.accepted(from: "10.0.0.9"))
        }
        #expect(admission.admitted == 3)
        #expect(admission.refusing == 0)
    }

    @Test func failedLoginsDoubleTheDelayPerAddressUpToTheMaximumAndAreForgotten() {
        var throttle = LoginThrottle(baseDelay: 1000, maxDelay: 5000, memory: 60_000)
        #expect(throttle.failed(from: "a", now: 0) == (1, 1000))
        #expect(throttle.failed(from: "a", now: 10) == (2, 2000))
        #expect(throttle.failed(from: "a", now: 20) == (3, 4000))
        #expect(throttle.failed(from: "a", now: 30) == (4, 5000))
        #expect(throttle.failed(from: "a", now: 40) == (5, 5000))
        // Another address starts from the beginning.
        #expect(throttle.failed(from: "b", now: 40) == (1, 1000))
        #expect(throttle.failures(from: "a", now: 50) == 5)
        #expect(throttle.delay(forFailure: 2) == 2000)
        #expect(throttle.delay(forFailure: 40) == 5000)
        // A minute without failures: forgotten.
        #expect(throttle.failures(from: "a", now: 60_040) == 0)
        #expect(throttle.failed(from: "a", now: 60_040) == (1, 1000))
    }

    @Test func theThrottleRemembersABoundedNumberOfAddresses() {
        var throttle = LoginThrottle(baseDelay: 100, maxDelay: 100, memory: 1_000_000, capacity: 3)
        for (index, address) in ["a", "b", "c", "d"].enumerated() {
            _ = throttle.failed(from: address, now: Int64(index))
        }
        #expect(throttle.addressCount == 3)
        // The oldest made room.
        #expect(throttle.failures(from: "a", now: 10) == 0)
        #expect(throttle.failures(from: "d", now: 10) == 1)
    }

    @Test func aZeroDelayNeverWaits() {
        var throttle = LoginThrottle(baseDelay: 0, maxDelay: 0)
        #expect(throttle.failed(from: "a", now: 0).delay == 0)
        #expect(throttle.failed(from: "a", now: 1).delay == 0)
    }

    @Test func theDescriptorBudgetPausesBeforeTheLimitAndResumesWithHysteresis() {
        var budget = DescriptorBudget(limit: 256, headroom: 80)
        #expect(budget.measured(inUse: 100) == .none)
        #expect(budget.measured(inUse: 175) == .none)
        #expect(budget.measured(inUse: 176) == .pause)
        #expect(budget.isPaused)
        #expect(budget.measured(inUse: 200) == .none)
        // Resumes only with twice the headroom free, so it does not flap at the edge.
        #expect(budget.measured(inUse: 120) == .none)
        #expect(budget.measured(inUse: 95) == .resume)
        #expect(!budget.isPaused)
        budget.markPaused()
        #expect(budget.measured(inUse: 95) == .resume)
    }

    @Test func passwordsCompareInConstantTimeAndStillCorrectly() {
        let check = AMQPAuthenticator.fixed(username: "user", password: "pässwörd")
        #expect(check.check("user", "pässwörd"))
        #expect(!check.check("user", "pässwörD"))
        #expect(!check.check("user", "pässwör"))
        #expect(!check.check("user", "pässwörd "))
        #expect(!check.check("usr", "pässwörd"))
        #expect(!check.check("", ""))
        #expect(AMQPAuthenticator.constantTimeEquals([], []))
        #expect(!AMQPAuthenticator.constantTimeEquals([0xff], []))
        #expect(!AMQPAuthenticator.constantTimeEquals([], [0xff]))
        #expect(!AMQPAuthenticator.constantTimeEquals([1, 2], [1, 2, 0]))
    }
}
