//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Foundation
import IoTPlatform

/// The options every `amqp` subcommand shares: where to connect, how to log in, and TLS.
struct ConnectionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The endpoint and address: amqp[s]://[USER[:PASSWORD]@]HOST[:PORT][/ADDRESS].",
            discussion: "amqps uses TLS (port 5671 by default). RabbitMQ queues are addressed as /queue/NAME.",
            valueName: "url"
        )
    )
    var url: String

    @Option(help: "SASL PLAIN user name (overrides a user in the URL).")
    var user: String?

    @Option(help: "SASL PLAIN password. Prefer --password-env: a password on the command line is visible in ps.")
    var password: String?

    @Option(help: ArgumentHelp("Read the SASL PLAIN password from this environment variable.", valueName: "VAR"))
    var passwordEnv: String?

    @Flag(help: "Log in to the IoT platform with an aksign signature (needs the four options below).")
    var aksign = false

    @Option(help: "AccessKey ID for --aksign.")
    var accessKeyId: String?

    @Option(help: ArgumentHelp("Environment variable holding the AccessKey secret for --aksign.", valueName: "VAR"))
    var accessKeySecretEnv: String?

    @Option(help: "Consumer group ID for --aksign (e.g. DEFAULT_GROUP).")
    var consumerGroup: String?

    @Option(help: "IoT instance ID for --aksign; omit for a legacy public instance.")
    var instanceId: String?

    @Option(help: "Client ID for --aksign (at most 64 characters). Default: iotbridge-HOSTNAME.")
    var clientId: String?

    @Option(help: "Signature method for --aksign: hmacsha1, hmacsha256 or hmacmd5.")
    var signMethod: String = "hmacsha1"

    @Option(help: ArgumentHelp("A PEM file of CA certificates to trust instead of the system bundle.", valueName: "file"))
    var caFile: String?

    @Option(help: "The TLS server name (SNI) to send and verify. Default: the URL's host.")
    var serverName: String?

    @Flag(help: "Do not verify the server's TLS certificate. Only for test brokers with self-signed certificates.")
    var insecureSkipVerify = false

    @Option(help: "The idle timeout announced in the Open frame, in seconds (the platform requires 30–300).")
    var idleTimeout: Int = 60

    @Option(help: "The container id sent in the Open frame. Default: iotbridge- plus a random suffix.")
    var containerId: String?

    /// The connection configuration these options describe. Throws a `ValidationError` that names the option.
    func makeConfiguration() throws -> AMQPConnectionConfiguration {
        let endpoint: AMQPEndpoint
        do {
            endpoint = try AMQPEndpoint(url: self.url)
        } catch {
            throw ValidationError("--url: \(error.message)")
        }
        var configuration = AMQPConnectionConfiguration(endpoint: endpoint)
        if !self.aksign, self.user == nil, endpoint.user == nil {
            if self.passwordEnv != nil || self.password != nil {
                let option = self.passwordEnv != nil ? "--password-env" : "--password"
                throw ValidationError("\(option) needs --user (or a user in the URL, amqp://USER@HOST): without one no login is attempted")
            }
        }
        if !self.aksign, self.accessKeyId != nil || self.accessKeySecretEnv != nil || self.consumerGroup != nil {
            throw ValidationError("--access-key-id, --access-key-secret-env and --consumer-group need --aksign")
        }
        if self.aksign {
            guard let accessKeyId = self.accessKeyId, let secretVariable = self.accessKeySecretEnv,
                let consumerGroup = self.consumerGroup
            else {
                throw ValidationError("--aksign needs --access-key-id, --access-key-secret-env and --consumer-group")
            }
            guard let secret = ProcessInfo.processInfo.environment[secretVariable], !secret.isEmpty else {
                throw ValidationError("--access-key-secret-env: the environment variable \(secretVariable) is not set")
            }
            guard let method = SignMethod(caseInsensitive: self.signMethod) else {
                throw ValidationError("--sign-method: '\(self.signMethod)' is not one of hmacsha1, hmacsha256, hmacmd5")
            }
            let clientId = self.clientId ?? "iotbridge-\(ProcessInfo.processInfo.hostName)".prefix(64).description
            let login = try AMQPPlatformLogin(
                clientId: clientId,
                accessKeyId: accessKeyId,
                accessKeySecret: secret,
                consumerGroupId: consumerGroup,
                iotInstanceId: self.instanceId,
                signMethod: method
            )
            configuration.authentication = .plain(username: login.username, password: login.password)
            configuration.platformRules = true
            configuration.label = "clientId \(clientId)"
        } else if let user = self.user ?? endpoint.user {
            var password = self.password ?? endpoint.password ?? ""
            if let variable = self.passwordEnv {
                guard let value = ProcessInfo.processInfo.environment[variable] else {
                    throw ValidationError("--password-env: the environment variable \(variable) is not set")
                }
                password = value
            }
            configuration.authentication = .plain(username: user, password: password)
            configuration.label = "user \(user)"
        }
        guard (1...3600).contains(self.idleTimeout) else {
            throw ValidationError("--idle-timeout must be between 1 and 3600 seconds")
        }
        configuration.idleTimeout = .seconds(self.idleTimeout)
        if let containerId = self.containerId { configuration.containerID = containerId }
        configuration.tls = .init(verifyPeer: !self.insecureSkipVerify, caFile: self.caFile, serverName: self.serverName)
        // A diagnostic command fails fast on the first error (wrong password, refused port) but rides out a
        // broker restart once it has been connected.
        configuration.reconnect.retryInitialConnect = false
        configuration.reconnect.maximumDelay = .seconds(5)
        return configuration
    }
}
