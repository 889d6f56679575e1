//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import Simulator

/// Throttling decisions with a given clock.
@Suite struct OpenAPIThrottleTests {
    static let second = Date(timeIntervalSince1970: 1_795_000_000)

    static func admit(_ throttle: inout OpenAPIThrottle, _ action: String, now: Date) -> Bool {
        throttle.admit(action, now: now)
    }

    @Test func offByDefault() {
        var throttle = OpenAPIThrottle(.init())
        for _ in 0..<1000 { #expect(Self.admit(&throttle, "CreateConsumerGroup", now: Self.second)) }
    }

    @Test func aQPSLimitAdmitsThatManyPerSecondAndRefusedCallsDoNotCount() {
        var throttle = OpenAPIThrottle(.init(actionQPS: ["CreateConsumerGroup": 5]))
        let admitted = (0..<8).filter { _ in Self.admit(&throttle, "CreateConsumerGroup", now: Self.second) }.count
        #expect(admitted == 5)
        // Other actions are not limited.
        #expect(Self.admit(&throttle, "ListRule", now: Self.second))
        // The next second starts afresh.
        let next = Self.second.addingTimeInterval(1)
        #expect((0..<8).filter { _ in Self.admit(&throttle, "CreateConsumerGroup", now: next) }.count == 5)
        throttle.setQPS(nil, for: "CreateConsumerGroup")
        #expect(Self.admit(&throttle, "CreateConsumerGroup", now: next))
    }

    @Test func throttleNextRefusesExactlyThatManyCalls() {
        var throttle = OpenAPIThrottle(.init(throttleNext: ["CreateRule": 2]))
        #expect(!Self.admit(&throttle, "CreateRule", now: Self.second))
        #expect(Self.admit(&throttle, "StartRule", now: Self.second))
        #expect(!Self.admit(&throttle, "CreateRule", now: Self.second))
        #expect(Self.admit(&throttle, "CreateRule", now: Self.second))
        throttle.throttleNext(1, of: "CreateRule")
        throttle.throttleNext(1, of: "CreateRule")
        #expect(throttle.pendingRefusals(of: "CreateRule") == 2)
        throttle.throttleNext(0, of: "CreateRule")
        #expect(Self.admit(&throttle, "CreateRule", now: Self.second))
    }

    @Test func thePlatformLimitsAreTheDocumentedOnes() {
        let limits = SimulatedOpenAPIConfiguration.Throttling.platformQPS
        #expect(limits["CreateConsumerGroup"] == 5)
        #expect(limits["CreateSubscribeRelation"] == 5)
        #expect(limits["CreateRule"] == 50)
        #expect(limits["ListRule"] == 20)
        #expect(limits["CreateDataSourceItem"] == 10)
    }
}
