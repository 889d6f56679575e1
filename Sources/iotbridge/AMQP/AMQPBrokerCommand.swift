//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Foundation
import ServiceLifecycle
import UnixSignals

/// `iotbridge amqp broker`: a small in-memory AMQP 1.0 broker for local development and demos.
struct AMQPBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a small in-memory AMQP 1.0 broker (one queue per address) on this machine.",
        discussion: """
            Backends and scripts can point at it instead of a real broker while developing. Messages live in \
            memory only. A publisher's message is accepted once queued; a consumer's unaccepted message goes \
            back to its queue. With --user, clients must log in with SASL PLAIN (a client that skips or fails \
            the login is closed with amqp:unauthorized-access before it can read or write); without it, \
            ANONYMOUS. PLAIN over plain TCP is refused unless the broker listens on loopback only, --tls-* is \
            given, or --allow-insecure. Every limit below is enforced per the AMQP condition for it, logged and \
            counted; the counts are printed as a JSON line when the broker stops.

            Example:
              iotbridge amqp broker --port 5672 --user demo --password-env DEMO_PW
            """
    )

    @Option(help: "The address to listen on. Use 0.0.0.0 to accept clients from other machines.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free one and prints it).")
    var port: Int = 5672

    @Option(help: "Require SASL PLAIN with this user name.")
    var user: String?

    @Option(help: ArgumentHelp("Read the PLAIN password from this environment variable.", valueName: "VAR"))
    var passwordEnv: String?

    @Option(help: ArgumentHelp("PEM certificate for amqps (needs --tls-key).", valueName: "file"))
    var tlsCertificate: String?

    @Option(help: ArgumentHelp("PEM private key for --tls-certificate.", valueName: "file"))
    var tlsKey: String?

    @Flag(help: "Allow SASL PLAIN over unencrypted TCP when listening on a non-loopback address (passwords travel in clear).")
    var allowInsecure = false

    @Option(help: "The most connections at once; more are refused with amqp:resource-limit-exceeded.")
    var maxConnections: Int = AMQPListenerConfiguration.Limits().maxConnections

    @Option(help: "The most connections at once from one remote IP address.")
    var maxConnectionsPerAddress: Int = AMQPListenerConfiguration.Limits().maxConnectionsPerAddress

    @Option(help: "The most sessions at once per connection (announced as channel-max).")
    var maxSessions: Int = AMQPListenerConfiguration.Limits().maxSessionsPerConnection

    @Option(help: "The most links at once per session.")
    var maxLinks: Int = AMQPListenerConfiguration.Limits().maxLinksPerSession

    @Option(help: ArgumentHelp("The largest frame a client may send, SASL and AMQP (at least 512).", valueName: "bytes"))
    var maxFrameSize: Int = AMQPListenerConfiguration.Limits().maxFrameSize

    @Option(help: ArgumentHelp("The largest message a client may publish.", valueName: "bytes"))
    var maxMessageSize: Int = AMQPListenerConfiguration.Limits().maxMessageSize

    @Option(help: ArgumentHelp("Seconds a client has from connect to its Open (TLS, SASL, Open).", valueName: "seconds"))
    var handshakeTimeout: Double = 10

    @Option(help: ArgumentHelp("Seconds before a failed login is answered; doubles per failure from an address, up to 5x.", valueName: "seconds"))
    var failedLoginDelay: Double = 1

    @Option(help: "The credit window of each link a client publishes on (unsettled messages held per link).")
    var credit: Int = 1000

    @OptionGroup var logging: LogOptions

    /// The listener limits these options describe.
    var limits: AMQPListenerConfiguration.Limits {
        AMQPListenerConfiguration.Limits(
            maxFrameSize: self.maxFrameSize,
            maxMessageSize: self.maxMessageSize,
            maxConnections: self.maxConnections,
            maxConnectionsPerAddress: self.maxConnectionsPerAddress,
            maxSessionsPerConnection: self.maxSessions,
            maxLinksPerSession: self.maxLinks,
            handshakeTimeout: .milliseconds(Int64(self.handshakeTimeout * 1000)),
            failedLoginDelay: .milliseconds(Int64(self.failedLoginDelay * 1000)),
            maxFailedLoginDelay: .milliseconds(Int64(self.failedLoginDelay * 5000))
        )
    }

    func validate() throws {
        if (self.tlsCertificate == nil) != (self.tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together")
        }
        if !(0...65_535).contains(self.port) {
            throw ValidationError("--port must be between 0 and 65535 (0 picks a free port), not \(self.port)")
        }
        if self.user != nil && self.passwordEnv == nil {
            throw ValidationError("--user needs --password-env (the password is not taken on the command line)")
        }
        if self.user == nil && self.passwordEnv != nil {
            throw ValidationError("--password-env needs --user: without a user the broker accepts anyone (ANONYMOUS)")
        }
        if self.handshakeTimeout <= 0 || self.failedLoginDelay < 0 {
            throw ValidationError("--handshake-timeout must be positive and --failed-login-delay not negative")
        }
        if self.credit < 1 { throw ValidationError("--credit must be at least 1") }
        do {
            try self.limits.validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let logger = try self.logging.makeLogger(label: "iotbridge.broker")
        var configuration = AMQPListenerConfiguration(host: self.host, port: self.port)
        configuration.allowInsecure = self.allowInsecure
        configuration.limits = self.limits
        configuration.credit = self.credit
        if let user = self.user, let variable = self.passwordEnv {
            guard let password = ProcessInfo.processInfo.environment[variable] else {
                throw ValidationError("--password-env: the environment variable \(variable) is not set")
            }
            configuration.authenticator = .fixed(username: user, password: password)
        }
        if let certificate = self.tlsCertificate, let key = self.tlsKey {
            configuration.tls = .init(certificateFile: certificate, privateKeyFile: key)
        }
        let engine = AMQPEngine(logger: logger)
        let listener: AMQPListener
        do {
            listener = try await engine.listen(configuration)
        } catch let error as AMQPError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            await engine.shutdown()
            throw ExitCode(2)
        }
        // Written straight to the file descriptor so scripts waiting for this line see it at once.
        FileHandle.standardOutput.write(Data("{\"event\":\"listening\",\"host\":\"\(self.host)\",\"port\":\(listener.port)}\n".utf8))
        let broker = BrokerService(broker: AMQPMemoryBroker(logger: logger), listener: listener)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: broker, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        await engine.shutdown()
        FileHandle.standardOutput.write(Data(Self.statisticsLine(listener.statistics).utf8))
    }

    /// The listener's counts as one JSON line, printed when the broker stops.
    static func statisticsLine(_ statistics: AMQPListenerStatistics) -> String {
        let counts: [(String, Int)] = [
            ("connectionsAccepted", statistics.connectionsAccepted), ("connectionsOpen", statistics.connectionsOpen),
            ("connectionsRefused", statistics.connectionsRefused), ("loginsFailed", statistics.loginsFailed),
            ("loginsRefused", statistics.loginsRefused), ("handshakeTimeouts", statistics.handshakeTimeouts),
            ("protocolErrors", statistics.protocolErrors), ("descriptorPauses", statistics.descriptorPauses),
            ("sessionsRefused", statistics.sessionsRefused), ("linksRefused", statistics.linksRefused),
            ("messagesTooLarge", statistics.messagesTooLarge), ("transferLimitsExceeded", statistics.transferLimitsExceeded),
            ("undecodableMessages", statistics.undecodableMessages),
        ]
        return "{\"event\":\"stopped\"," + counts.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n"
    }
}

/// The in-memory broker as a `Service`: serves until SIGTERM/SIGINT, then closes the listener (which ends
/// `serve`).
struct BrokerService: Service {
    let broker: AMQPMemoryBroker
    let listener: AMQPListener

    func run() async throws {
        let listener = self.listener
        await withGracefulShutdownHandler {
            await self.broker.serve(listener)
        } onGracefulShutdown: {
            Task { await listener.close() }
        }
    }
}
