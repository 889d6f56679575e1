//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import Simulator

/// A simulated OpenAPI endpoint running in this process on a free loopback port, for the suites that point real
/// clients (the official Python SDK, the `iotbridge` binary) at it.
final class SimulatorOpenAPIHarness: Sendable {
    /// The endpoint.
    let server: SimulatedOpenAPIServer
    /// The port it listens on.
    let port: Int
    private let task: Task<Void, any Error>

    /// `http://127.0.0.1:PORT`.
    var endpoint: String { "http://127.0.0.1:\(self.port)" }

    private init(server: SimulatedOpenAPIServer, port: Int, task: Task<Void, any Error>) {
        self.server = server
        self.port = port
        self.task = task
    }

    /// Starts an endpoint for these instances, accepting these AccessKey pairs, and waits until it listens.
    static func start(
        _ planes: [SimulatedControlPlane],
        accessKeys: [String: String],
        throttling: SimulatedOpenAPIConfiguration.Throttling = .init()
    ) async throws -> SimulatorOpenAPIHarness {
        var logger = Logger(label: "sim-openapi")
        logger.logLevel = .warning
        let server = try SimulatedOpenAPIServer(
            configuration: SimulatedOpenAPIConfiguration(accessKeys: accessKeys, throttling: throttling),
            controlPlanes: planes,
            logger: logger
        )
        let task = Task { try await server.run() }
        do {
            return SimulatorOpenAPIHarness(server: server, port: try await server.listeningPort(), task: task)
        } catch {
            task.cancel()
            throw error
        }
    }

    /// Stops the endpoint gracefully and waits until it has.
    func stop() async {
        await self.server.triggerGracefulShutdown()
        _ = await self.task.result
    }

    /// A random AccessKey secret, fresh per test (so that no test passes with another's key).
    static func randomSecret() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
