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
            back to its queue. With --user, clients must log in with SASL PLAIN; without it, ANONYMOUS.

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

    @OptionGroup var logging: LogOptions

    func validate() throws {
        if (self.tlsCertificate == nil) != (self.tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together")
        }
        if self.user != nil && self.passwordEnv == nil {
            throw ValidationError("--user needs --password-env (the password is not taken on the command line)")
        }
    }

    func run() async throws {
        let logger = try self.logging.makeLogger(label: "iotbridge.broker")
        var configuration = AMQPListenerConfiguration(host: self.host, port: self.port)
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
