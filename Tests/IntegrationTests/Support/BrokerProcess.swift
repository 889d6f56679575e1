//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `iotbridge amqp broker` as a child process (the binary of the same build), for tests that attack it from
/// outside: its port, its resident memory, its logs, and the counts it prints when it stops.
final class BrokerProcess: Sendable {
    /// The process (stdout: JSON lines; stderr: logs).
    let process: ManagedProcess
    /// The port it listens on.
    let port: Int
    /// The login it requires.
    let user: String
    let password: String
    /// The CA that signed the broker's certificate when it serves TLS (`--tls-certificate`), else nil.
    let caFile: String?

    /// Starts the broker requiring `user`/`password`, with `arguments` added, and waits until it listens.
    /// `descriptorLimit` runs it under `ulimit -n`; `caFile` says it serves TLS with a certificate that CA signed.
    init(
        user: String,
        password: String,
        arguments: [String] = [],
        descriptorLimit: Int? = nil,
        caFile: String? = nil,
        in directory: TemporaryDirectory
    ) async throws {
        guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
        let brokerArguments = ["amqp", "broker", "--port", "0", "--user", user, "--password-env", "IOTBRIDGE_ABUSE_PW"] + arguments
        let process: ManagedProcess
        if let descriptorLimit {
            // exec keeps the broker our direct child (pid 1 here does not reap orphans).
            let command = "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\""
            process = try ManagedProcess(
                "/bin/bash",
                ["-c", command, binary] + brokerArguments,
                name: "iotbridge-broker",
                environment: ["IOTBRIDGE_ABUSE_PW": password],
                outputDirectory: directory
            )
        } else {
            process = try ManagedProcess(
                binary,
                brokerArguments,
                name: "iotbridge-broker",
                environment: ["IOTBRIDGE_ABUSE_PW": password],
                outputDirectory: directory
            )
        }
        do {
            let line = try await process.waitForLine { JSON(parsing: $0)?["event"]?.string == "listening" }
            guard let port = JSON(parsing: line)?["port"]?.int else { throw IntegrationTestError("no port in \(line)") }
            self.port = port
        } catch {
            process.stop()
            throw error
        }
        self.process = process
        self.user = user
        self.password = password
        self.caFile = caFile
    }

    /// Resident memory now, in KiB (`VmRSS`).
    var residentKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(self.process.pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    /// Descriptors the broker has open now.
    var openDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(self.process.pid)/fd").count) ?? 0
    }

    /// A URL for `address` with the broker's login (percent-encoded for the Python peers).
    func url(_ address: String, password: String? = nil) -> String {
        let secret = (password ?? self.password).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return "amqp://\(self.user):\(secret)@127.0.0.1:\(self.port)/\(address)"
    }

    /// Publishes one message to a fresh queue with our client and consumes it back: throws if the broker does
    /// not serve a well-behaved client.
    func expectServing(_ engine: AMQPEngine, timeout: Duration = .seconds(15)) async throws {
        var configuration = AMQPConnectionConfiguration(
            endpoint: AMQPEndpoint(host: "127.0.0.1", port: self.port, useTLS: self.caFile != nil),
            authentication: .plain(username: self.user, password: self.password)
        )
        // The test certificate names localhost; Proton matches DNS names, not IP subjectAltNames.
        if let caFile = self.caFile { configuration.tls = .init(caFile: caFile, serverName: "localhost") }
        configuration.reconnect = .never
        configuration.connectTimeout = timeout
        let connection = engine.makeConnection(configuration)
        defer { Task { await connection.close() } }
        let address = AMQPTestSupport.uniqueName("health")
        try await withTimeout(timeout, "a normal client publishes and consumes through the broker") {
            try await connection.open()
            let sender = try await connection.openSender(address: address)
            let outcome = try await sender.send(AMQPTestSupport.platformMessage(id: address, body: "ok"))
            guard outcome == .accepted else { throw IntegrationTestError("health message: \(outcome)") }
            let receiver = try await connection.openReceiver(address: address, credit: 1)
            for try await delivery in receiver.deliveries {
                delivery.accept()
                guard delivery.message.platformID == address else { throw IntegrationTestError("wrong message back") }
                return
            }
            throw IntegrationTestError("the health message did not come back")
        }
        await connection.close()
    }

    /// Sends SIGTERM, waits for the exit, and returns the counts of the `stopped` line.
    func stop(timeout: Duration = .seconds(15)) async throws -> JSON {
        self.process.send(SIGTERM)
        try await self.process.waitForExit(timeout: timeout)
        guard let stopped = self.process.events("stopped").last else {
            throw IntegrationTestError("the broker printed no statistics\n\(self.process.outputTail)")
        }
        return stopped
    }
}
