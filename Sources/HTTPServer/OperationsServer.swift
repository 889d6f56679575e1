//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Hummingbird
public import Logging
import Metrics
import NIOCore
public import Prometheus
public import ServiceLifecycle

/// The HTTP side of `iotbridge run` (Hummingbird): `/metrics` in Prometheus text format (everything the process
/// records through swift-metrics), `/healthz`, `/status` (JSON the caller renders), `/dashboard` (a live page of
/// `/status`, ``DashboardPage``; `/` redirects there), and `/instances/{pk}/{dn}` (the instance registry).
public struct OperationsServer: Service {
    /// Where to listen.
    public var host: String
    /// The port; 0 for any free port (reported through `onListening`).
    public var port: Int
    let registry: PrometheusCollectorRegistry
    let status: @Sendable () async -> [UInt8]
    let healthy: @Sendable () -> Bool
    let unhealthyReason: @Sendable () -> String?
    let onListening: @Sendable (Int) -> Void
    let logger: Logger
    /// Answers `GET /instances/{pk}/{dn}` (HTTP status, JSON body); nil: the route answers 404.
    public var instanceLookup: (@Sendable (_ productKey: String, _ deviceName: String) async -> (Int, [UInt8]))?

    /// Creates the server. `status` renders /status; `healthy` decides /healthz (200 or 503), whose body then
    /// carries `unhealthyReason` when it gives one.
    public init(
        host: String,
        port: Int,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in },
        healthy: @escaping @Sendable () -> Bool,
        unhealthyReason: @escaping @Sendable () -> String? = { nil },
        status: @escaping @Sendable () async -> [UInt8]
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
        self.onListening = onListening
        self.healthy = healthy
        self.unhealthyReason = unhealthyReason
        self.status = status
    }

    /// Makes the metrics system export to a new registry; call once per process, before any metric is made.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// The dashboard page with a fresh nonce and the headers that keep it self-contained: a strict CSP (which also
    /// forbids framing), no MIME sniffing, no caching (each response has its own nonce).
    static func dashboardResponse() -> Response {
        let nonce = DashboardPage.makeNonce()
        let headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: DashboardPage.contentSecurityPolicy(nonce: nonce),
            .xContentTypeOptions: "nosniff",
        ]
        return Response(
            status: .ok,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html(nonce: nonce)))
        )
    }

    /// Serves until graceful shutdown.
    public func run() async throws {
        let router = Router()
        let registry = self.registry
        let status = self.status
        let healthy = self.healthy
        let unhealthyReason = self.unhealthyReason
        router.get("/metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
        router.get("/healthz") { _, _ -> Response in
            let ok = healthy()
            let body = ok ? "ok\n" : unhealthyReason().map { "unavailable: \($0)\n" } ?? "unavailable\n"
            return Response(
                status: ok ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        router.get("/status") { _, _ -> Response in
            Response(
                status: .ok,
                // A poll must always see the bridge's answer of now, never a cached one.
                headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: await status()))
            )
        }
        router.get("/dashboard") { _, _ -> Response in
            Self.dashboardResponse()
        }
        router.get("/") { _, _ -> Response in
            Response(status: .seeOther, headers: [.location: "/dashboard"])
        }
        let instanceLookup = self.instanceLookup
        router.get("/instances/:productKey/:deviceName") { _, context -> Response in
            guard let instanceLookup, let productKey = context.parameters.get("productKey"),
                let deviceName = context.parameters.get("deviceName")
            else {
                return Response(
                    status: .notFound, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"no registry\"}\n"))
                )
            }
            let (code, body) = await instanceLookup(productKey, deviceName)
            return Response(
                status: .init(code: code),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        let onListening = self.onListening
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(self.host, port: self.port), serverName: "iotbridge"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("http server listening", metadata: ["http.port": "\(port)"])
                onListening(port)
            },
            logger: self.logger
        )
        try await app.run()
    }
}
