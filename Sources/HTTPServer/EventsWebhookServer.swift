//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle

/// The receiving end of an events webhook (`iotbridge events watch --webhook-listen PORT`): every POST body goes
/// to `handle`, whose answer is the HTTP status (204 once applied, 400 for a body that is not an event, 503 when
/// it could not be stored, so that the sender retries).
public struct EventsWebhookServer: Service {
    /// Where to listen.
    public var host: String
    /// The port; 0 for any free port (reported through `onListening`).
    public var port: Int
    /// Bodies larger than this are refused (413) before `handle` sees them.
    public var maxBodySize: Int
    let handle: @Sendable ([UInt8]) async -> Int
    let onListening: @Sendable (Int) -> Void
    let logger: Logger

    /// Creates the server.
    public init(
        host: String,
        port: Int,
        maxBodySize: Int = 1 << 20,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in },
        handle: @escaping @Sendable ([UInt8]) async -> Int
    ) {
        self.host = host
        self.port = port
        self.maxBodySize = maxBodySize
        self.logger = logger
        self.onListening = onListening
        self.handle = handle
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let router = Router()
        let handle = self.handle
        let maxBodySize = self.maxBodySize
        router.post("/**") { request, _ -> Response in
            guard let buffer = try? await request.body.collect(upTo: maxBodySize) else {
                return Response(status: .contentTooLarge)
            }
            let status = await handle(Array(buffer.readableBytesView))
            return Response(status: .init(code: status))
        }
        let onListening = self.onListening
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(self.host, port: self.port), serverName: "iotbridge-events"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("events webhook listening", metadata: ["http.port": "\(port)"])
                onListening(port)
            },
            logger: self.logger
        )
        try await app.run()
    }
}
