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
    /// The "a wrong password is reported clearly; an unreachable host errors out within the timeout", against
    /// local stand-ins that need no external peer: our listener, a port nobody listens on, a host that cannot resolve,
    /// and a socket that accepts and never answers.
    @Suite("Faults: connection errors a person can act on", .serialized, .timeLimit(.minutes(2)))
    struct ConnectionErrorTests {
        static let user = "error-test-user"
        static let password = "right-pw-4d1e"
        static let wrongPassword = "wrong-pw-never-logged-8b0c"

        /// The error of one fail-fast `open()` of `url`, and how long it took.
        static func openError(
            _ url: String,
            connectTimeout: Duration = .seconds(10),
            engine: AMQPEngine
        ) async throws -> (error: AMQPError?, elapsed: Duration) {
            var configuration = try AMQPTestSupport.failFast(url)
            configuration.connectTimeout = connectTimeout
            let connection = engine.makeConnection(configuration)
            let clock = ContinuousClock()
            let start = clock.now
            let error = await AMQPTestSupport.expectAMQPError("open \(url)") { try await connection.open() }
            let elapsed = clock.now - start
            await connection.close()
            return (error, elapsed)
        }

        @Test("a wrong password is .authentication, says where and what to check, and never contains the password")
        func wrongPassword() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await engine.listen(
                    AMQPListenerConfiguration(
                        port: 0,
                        authenticator: .fixed(username: Self.user, password: Self.password)
                    )
                )
                let url = "amqp://\(Self.user):\(Self.wrongPassword)@127.0.0.1:\(listener.port)"
                let (error, _) = try await Self.openError(url, engine: engine)
                let error_ = try #require(error)
                #expect(error_.code == .authentication)
                #expect(error_.condition?.name == AMQPCondition.unauthorizedAccess, "\(error_)")
                #expect(error_.message.contains("127.0.0.1:\(listener.port)"), "\(error_.message)")
                #expect(error_.message.contains("password"), "says what to check: \(error_.message)")
                #expect(!error_.message.contains(Self.wrongPassword))
                #expect(!"\(error_)".contains(Self.wrongPassword))
                #expect(!String(reflecting: error_).contains(Self.wrongPassword))
                // The right password against the same listener works: the failure was the password, not the setup.
                let good = engine.makeConnection(
                    try AMQPTestSupport.failFast("amqp://\(Self.user):\(Self.password)@127.0.0.1:\(listener.port)")
                )
                try await good.open()
                await good.close()
                await listener.close()
            }
        }

        /// The message must name who failed to log in ("authentication failed for user U at 127.0.0.1:PORT"),
        /// never the password; it once named only the endpoint.
        @Test("a wrong password's message names the user who failed to log in")
        func wrongPasswordNamesTheUser() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let listener = try await engine.listen(
                    AMQPListenerConfiguration(
                        port: 0,
                        authenticator: .fixed(username: Self.user, password: Self.password)
                    )
                )
                let (error, _) = try await Self.openError(
                    "amqp://\(Self.user):\(Self.wrongPassword)@127.0.0.1:\(listener.port)",
                    engine: engine
                )
                #expect(error?.code == .authentication)
                #expect(error?.message.contains(Self.user) == true, "\(String(describing: error?.message))")
                await listener.close()
            }
        }

        @Test("a port nobody listens on is .connectionRefused, at once")
        func refusedPort() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let port = try Sockets.freePort()
                let (error, elapsed) = try await Self.openError("amqp://127.0.0.1:\(port)", engine: engine)
                #expect(error?.code == .connectionRefused, "\(String(describing: error))")
                #expect(error?.message.contains("127.0.0.1:\(port)") == true, "\(String(describing: error?.message))")
                #expect(elapsed < .seconds(5))
            }
        }

        @Test("a host that does not resolve is .nameResolution")
        func unresolvableHost() async throws {
            try await AMQPTestSupport.withEngine { engine in
                let (error, elapsed) = try await Self.openError("amqp://no-such-host.invalid:5672", engine: engine)
                #expect(error?.code == .nameResolution, "\(String(describing: error))")
                #expect(
                    error?.message.contains("no-such-host.invalid") == true,
                    "\(String(describing: error?.message))"
                )
                #expect(elapsed < .seconds(10))
            }
        }

        @Test("a host that accepts TCP and never answers is .timeout within the 2 s connect timeout")
        func silentHostTimesOut() async throws {
            let server = try SilentTCPServer()
            defer { server.close() }
            try await AMQPTestSupport.withEngine { engine in
                let (error, elapsed) = try await Self.openError(
                    "amqp://127.0.0.1:\(server.port)",
                    connectTimeout: .seconds(2),
                    engine: engine
                )
                #expect(error?.code == .timeout, "\(String(describing: error))")
                #expect(
                    error?.message.contains("127.0.0.1:\(server.port)") == true,
                    "\(String(describing: error?.message))"
                )
                // Not before the timeout (it must not give up early), and not much after it.
                #expect(elapsed >= .milliseconds(1900), "\(elapsed)")
                #expect(elapsed <= .milliseconds(3500), "\(elapsed)")
            }
        }

        @Test(
            "iotbridge amqp send to a refused port exits 2 and says where and what to check",
            .enabled(if: TestEnvironment.binary != nil, "needs IOTBRIDGE_BIN")
        )
        func cliRefusedPort() async throws {
            let directory = try TemporaryDirectory("cli-refused")
            defer { directory.remove() }
            let port = try Sockets.freePort()
            let result = try await IOTBridgeCLI.run(
                ["amqp", "send", "--url", "amqp://127.0.0.1:\(port)/nowhere", "--count", "1"],
                in: directory
            )
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("connection refused at 127.0.0.1:\(port)"), "\(result.stderr)")
        }

        @Test(
            "iotbridge amqp receive --timeout 2 against a silent host gives up within the timeout",
            .enabled(if: TestEnvironment.binary != nil, "needs IOTBRIDGE_BIN")
        )
        func cliSilentHostTimesOut() async throws {
            let directory = try TemporaryDirectory("cli-silent")
            defer { directory.remove() }
            let server = try SilentTCPServer()
            defer { server.close() }
            let clock = ContinuousClock()
            let start = clock.now
            let result = try await IOTBridgeCLI.run(
                [
                    "amqp", "receive", "--url", "amqp://127.0.0.1:\(server.port)/nowhere", "--count", "1", "--timeout",
                    "2",
                ],
                in: directory
            )
            let elapsed = clock.now - start
            // The connect timeout (2 s, exit 2) and the receive timeout (2 s, exit 1) race; either is a clear
            // failure, and neither may take much longer than the 2 s asked for.
            #expect(result.status == 1 || result.status == 2, "\(result.status): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(elapsed >= .milliseconds(1900) && elapsed <= .seconds(5), "\(elapsed)")
        }
    }
}
