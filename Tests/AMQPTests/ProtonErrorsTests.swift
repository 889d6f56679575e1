//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// Proton's conditions become errors with the right code and an actionable message.
@Suite struct ProtonErrorsTests {
    private func map(_ name: String, _ text: String, remote: AMQPCondition? = nil, platform: Bool = false) -> AMQPError? {
        ProtonErrors.connectionError(
            transport: AMQPCondition(name: name, description: text),
            remote: remote,
            label: "clientId c1",
            endpoint: "h:5671",
            isPlatform: platform
        )
    }

    @Test func mapsTheUsualFailures() {
        #expect(self.map("proton:io", "Connection refused - disconnected h:5671")?.code == .connectionRefused)
        #expect(self.map("proton:io", "Name or service not known - connect to h:5671")?.code == .nameResolution)
        #expect(self.map("amqp:unauthorized-access", "Authentication failed [mech=PLAIN]")?.code == .authentication)
        #expect(self.map("amqp:connection:framing-error", "SSL Failure: certificate verify failed")?.code == .tlsVerification)
        #expect(self.map("amqp:resource-limit-exceeded", "local-idle-timeout expired")?.code == .idleTimeout)
        #expect(self.map("amqp:connection:framing-error", "Expected SASL protocol header got: HTTP")?.code == .transport)
        #expect(self.map("proton:io", "something else")?.code == .transport)
    }

    @Test func platformAuthenticationNamesWhatToCheck() throws {
        let error = try #require(self.map("amqp:unauthorized-access", "Authentication failed", platform: true))
        #expect(error.message.contains("clientId c1"))
        #expect(error.message.contains("h:5671"))
        #expect(error.message.contains("AccessKey"))
        #expect(error.message.contains("consumer group"))
    }

    @Test func remoteCloseWins() {
        let remote = AMQPCondition(name: "amqp:connection:forced", description: "maintenance")
        let error = self.map("proton:io", "Connection reset", remote: remote)
        #expect(error?.code == .remoteClose)
        #expect(error?.message.contains("maintenance") == true)
    }
}
