//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starts the Python peers of `peers/` (Tests/IntegrationTests/README.md) with `IOTBRIDGE_PYTHON`.
enum PythonPeers {
    /// Starts `peer_server.py` with `arguments` (add `--port`), waits for its `listening` event and returns the
    /// process and the port it reports.
    static func startServer(
        _ arguments: [String],
        in directory: TemporaryDirectory
    ) async throws -> (ManagedProcess, Int) {
        let process = try self.start("peer_server.py", arguments, in: directory)
        do {
            let line = try await process.waitForLine { JSON(parsing: $0)?["event"]?.string == "listening" }
            guard let port = JSON(parsing: line)?["port"]?.int, port > 0 else {
                throw IntegrationTestError("peer_server.py printed no port: \(line)")
            }
            return (process, port)
        } catch {
            process.stop()
            throw error
        }
    }

    /// Starts one of the peer scripts (`peer_client_send.py`, …) with `arguments`.
    static func start(
        _ script: String,
        _ arguments: [String],
        in directory: TemporaryDirectory
    ) throws -> ManagedProcess {
        guard let python = TestEnvironment.python, let peers = TestEnvironment.peers else {
            throw IntegrationTestError("IOTBRIDGE_PYTHON and IOTBRIDGE_PEERS must be set")
        }
        let path = (peers as NSString).appendingPathComponent(script)
        return try ManagedProcess(python, [path] + arguments, name: script, outputDirectory: directory)
    }
}

/// Qpid Proton's C example broker (`IOTBRIDGE_PROTON_BROKER`) on a loopback port that stays the same across
/// restarts, so clients can reconnect to it. Queues live in its memory and die with it.
final class ProtonBroker {
    /// The port it listens on (every incarnation).
    private(set) var port: Int
    /// The current incarnation.
    private(set) var process: ManagedProcess
    private let executable: String
    private let directory: TemporaryDirectory

    /// Starts the broker on a port the kernel picks and keeps that port for restarts.
    init(in directory: TemporaryDirectory) async throws {
        guard let executable = TestEnvironment.protonBroker else {
            throw IntegrationTestError("IOTBRIDGE_PROTON_BROKER must be set")
        }
        self.executable = executable
        self.directory = directory
        (self.process, self.port) = try await Self.launch(executable, port: 0, in: directory)
    }

    /// SIGKILLs the current incarnation and waits until it is gone: no goodbye to its clients.
    func kill() async throws {
        self.process.send(SIGKILL)
        try await self.process.waitForExit(timeout: .seconds(10))
    }

    /// Starts a new incarnation on the same port. Retries for a few seconds in case the port is still held.
    func restart() async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while true {
            do {
                (self.process, _) = try await Self.launch(self.executable, port: self.port, in: self.directory)
                return
            } catch  where clock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Ends the current incarnation.
    func stop() {
        self.process.stop()
    }

    private static func launch(
        _ executable: String,
        port: Int,
        in directory: TemporaryDirectory
    ) async throws -> (ManagedProcess, Int) {
        // Its own folder as working directory: it finds ssl-certs/ there and does not print a certificate error
        // before the line we wait for (README: Proton's example broker).
        let process = try ManagedProcess(
            executable,
            ["127.0.0.1", String(port)],
            name: "proton-broker",
            workingDirectory: (executable as NSString).deletingLastPathComponent,
            outputDirectory: directory
        )
        do {
            let line = try await process.waitForLine(timeout: .seconds(10)) { $0.contains("listening on ") }
            guard let text = line.components(separatedBy: "listening on ").last,
                let bound = Int(text.trimmingCharacters(in: .whitespaces)), bound > 0
            else { throw IntegrationTestError("proton broker printed no port: \(line)") }
            return (process, bound)
        } catch {
            process.stop()
            throw error
        }
    }
}

/// The `iotbridge` binary of the same build (`IOTBRIDGE_BIN`).
enum IOTBridgeCLI {
    /// Runs `iotbridge ARGUMENTS` to completion; `environment` is added to ours.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        in directory: TemporaryDirectory
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
        return try await ManagedProcess.run(binary, arguments, environment: environment, outputDirectory: directory)
    }
}
