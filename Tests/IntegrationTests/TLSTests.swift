//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Testing

extension IntegrationSuites {
    /// Our client against our TLS listener, with a CA and server certificate `openssl` makes for the run (the
    /// example broker's certificate expired, README). Verification must pass with the CA, fail without it, be
    /// skippable on request, and check the server name the client asked for.
    @Suite(
        "TLS: our client and our listener with a test CA",
        .serialized,
        .timeLimit(.minutes(2)),
        .enabled(if: TestEnvironment.openSSL != nil, "needs the openssl command")
    )
    struct TLSTests {
        static let user = "tls-user"
        static let password = "tls-pw-91c2"

        /// Makes the certificates, starts a TLS listener and runs `body` with them; cleans up afterwards.
        func withTLSListener(
            _ names: (commonName: String, subjectAltName: String) = ("localhost", "DNS:localhost, IP:127.0.0.1"),
            _ body: (AMQPEngine, AMQPListener, TestCertificates) async throws -> Void
        ) async throws {
            let directory = try TemporaryDirectory("tls")
            defer { directory.remove() }
            let certificates = try await TestCertificates.make(
                openssl: TestEnvironment.openSSL!,
                in: directory,
                commonName: names.commonName,
                subjectAltName: names.subjectAltName
            )
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await engine.listen(
                    AMQPListenerConfiguration(
                        host: "127.0.0.1",
                        port: 0,
                        authenticator: .fixed(username: Self.user, password: Self.password),
                        tls: .init(
                            certificateFile: certificates.certificateFile,
                            privateKeyFile: certificates.privateKeyFile
                        )
                    )
                )
                try await body(engine, listener, certificates)
                await listener.close()
            }
        }

        /// A fail-fast amqps configuration for `listener` (reached as `host`) with `tls`.
        static func configuration(
            _ listener: AMQPListener,
            _ tls: AMQPConnectionConfiguration.TLS,
            host: String = "127.0.0.1"
        ) throws -> AMQPConnectionConfiguration {
            var configuration = try AMQPTestSupport.failFast(
                "amqps://\(Self.user):\(Self.password)@\(host):\(listener.port)"
            )
            configuration.tls = tls
            return configuration
        }

        /// Opens a connection and a sender, sends one message the listener accepts: proof that TLS and SASL
        /// completed and data flows.
        static func roundTrip(
            _ engine: AMQPEngine,
            _ listener: AMQPListener,
            _ configuration: AMQPConnectionConfiguration
        ) async throws {
            let connection = engine.makeConnection(configuration)
            try await connection.open()
            let sender = try await connection.openSender(address: "secure")
            guard case .publishing(let receiver, let peer) = try await listener.nextLink() else {
                Issue.record("expected a publishing link")
                return
            }
            #expect(peer.user == Self.user)
            let consumer = Task { () -> AMQPMessage? in
                for try await delivery in receiver.deliveries {
                    delivery.accept()
                    return delivery.message
                }
                return nil
            }
            let message = AMQPTestSupport.platformMessage(id: AMQPTestSupport.uniqueName("tls"), body: "over TLS")
            #expect(try await sender.send(message) == .accepted)
            #expect(try await consumer.value == message)
            await connection.close()
        }

        @Test("verification succeeds with the test CA as caFile for host localhost, and a message goes through")
        func verifiesWithTheTestCA() async throws {
            try await self.withTLSListener { engine, listener, certificates in
                try await Self.roundTrip(
                    engine,
                    listener,
                    try Self.configuration(listener, .init(caFile: certificates.caFile), host: "localhost")
                )
            }
        }

        /// The certificate carries `IP:127.0.0.1` (`openssl verify -verify_ip 127.0.0.1` accepts it), but Proton 0.37
        /// matches the peer name only against DNS subjectAltNames and the CN. Checking the chain alone would let
        /// any certificate of a trusted CA through, so the client refuses, and the error says why and what to do.
        @Test("an IP endpoint whose certificate names the IP only as an IP subjectAltName fails with advice")
        func ipAddressEndpointNeedsADNSName() async throws {
            try await self.withTLSListener { engine, listener, certificates in
                let connection = engine.makeConnection(
                    try Self.configuration(listener, .init(caFile: certificates.caFile), host: "127.0.0.1")
                )
                let error = await AMQPTestSupport.expectAMQPError("open by IP") { try await connection.open() }
                #expect(error?.code == .tlsVerification, "\(String(describing: error))")
                #expect(error?.message.contains("IP address") == true, "\(String(describing: error?.message))")
                #expect(error?.message.contains("server name") == true, "\(String(describing: error?.message))")
                await connection.close()
            }
        }

        @Test("verification succeeds for another name the certificate carries (serverName localhost)")
        func verifiesAnotherNameOfTheCertificate() async throws {
            try await self.withTLSListener { engine, listener, certificates in
                let tls = AMQPConnectionConfiguration.TLS(caFile: certificates.caFile, serverName: "localhost")
                try await Self.roundTrip(engine, listener, try Self.configuration(listener, tls))
            }
        }

        @Test("without the CA (system bundle) verification fails with .tlsVerification")
        func failsWithoutTheCA() async throws {
            try await self.withTLSListener { engine, listener, _ in
                let connection = engine.makeConnection(try Self.configuration(listener, .init()))
                let error = await AMQPTestSupport.expectAMQPError("open without the CA") { try await connection.open() }
                #expect(error?.code == .tlsVerification, "\(String(describing: error))")
                #expect(error?.message.contains("127.0.0.1:\(listener.port)") == true, "\(String(describing: error))")
                await connection.close()
            }
        }

        @Test("verifyPeer false connects to the same listener without the CA")
        func connectsWithoutVerification() async throws {
            try await self.withTLSListener { engine, listener, _ in
                try await Self.roundTrip(engine, listener, try Self.configuration(listener, .init(verifyPeer: false)))
            }
        }

        @Test("a server name the certificate does not carry fails verification, even with the right CA")
        func failsForAWrongServerName() async throws {
            try await self.withTLSListener { engine, listener, certificates in
                let tls = AMQPConnectionConfiguration.TLS(
                    caFile: certificates.caFile,
                    serverName: "wrong-name.example.com"
                )
                let connection = engine.makeConnection(try Self.configuration(listener, tls))
                let error = await AMQPTestSupport.expectAMQPError("open with a wrong server name") {
                    try await connection.open()
                }
                #expect(error?.code == .tlsVerification, "\(String(describing: error))")
                await connection.close()
            }
        }

        /// The subject CN and subjectAltName of a certificate for a host the tests never connect to.
        static let otherHost = (commonName: "some-other-host.example", subjectAltName: "DNS:some-other-host.example")

        /// A certificate from a trusted CA that names another host must not be accepted just because the client
        /// reached the server by IP address: that is exactly what a man in the middle holding any certificate of
        /// that CA (with the system bundle: any public CA) would present. The documented contract of
        /// `TLS.verifyPeer` is "the certificate chain and that it names the host".
        @Test("an IP endpoint whose certificate names only another host fails verification")
        func rejectsACertificateThatDoesNotNameTheIPAddress() async throws {
            try await self.withTLSListener(Self.otherHost) {
                engine,
                listener,
                certificates in
                let connection = engine.makeConnection(
                    try Self.configuration(listener, .init(caFile: certificates.caFile), host: "127.0.0.1")
                )
                let error = await AMQPTestSupport.expectAMQPError("open by IP with a certificate for another host") {
                    try await connection.open()
                }
                #expect(error?.code == .tlsVerification, "\(String(describing: error))")
                await connection.close()
            }
        }

        @Test("a DNS endpoint whose certificate names only another host fails verification")
        func rejectsACertificateThatDoesNotNameTheHost() async throws {
            try await self.withTLSListener(Self.otherHost) {
                engine,
                listener,
                certificates in
                let connection = engine.makeConnection(
                    try Self.configuration(listener, .init(caFile: certificates.caFile), host: "localhost")
                )
                let error = await AMQPTestSupport.expectAMQPError("open localhost with a certificate for another host") {
                    try await connection.open()
                }
                #expect(error?.code == .tlsVerification, "\(String(describing: error))")
                await connection.close()
            }
        }
    }
}
