//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Hummingbird
public import Logging
import Migration
import NIOCore
public import ServiceLifecycle
import Synchronization

/// The OpenAPI endpoint of simulated instances (IoT, Version 2018-01-20, RPC style over HTTP, JSON): what
/// `iotbridge migrate` and the official SDKs call, checked the way the platform checks it.
///
/// One endpoint serves several instances, chosen by `IotInstanceId` as on the platform: absent for the legacy
/// public instance, the instance's ID for an Enterprise one; sent empty, it is refused (reference §6: "omit
/// IotInstanceId for the legacy public instance"). Every request passes, in order: the common parameters, the
/// version, the timestamp window, the AccessKeyId, signature v1 and a fresh nonce
/// (``OpenAPIRequestAuthenticator``), then throttling (``SimulatedOpenAPIConfiguration/Throttling``), then the
/// action (``OpenAPIActions``). Answers are the platform's envelopes: `{"RequestId", "Success": true, …}`;
/// gateway errors `{"RequestId", "HostId", "Code", "Message"}` with a 4xx status; action errors
/// `{"RequestId", "Success": false, "Code", "ErrorMessage"}`.
///
/// ```swift
/// let server = try SimulatedOpenAPIServer(
///     configuration: configuration,
///     controlPlanes: [source, target],
///     logger: logger
/// )
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await server.run() }
///     let port = try await server.listeningPort()
///     …
/// }
/// ```
public final class SimulatedOpenAPIServer: Service, Sendable {
    /// How the endpoint listens and checks.
    public let configuration: SimulatedOpenAPIConfiguration
    /// `IotInstanceId` → instance; the legacy public instance under `""`.
    private let planes: [String: SimulatedControlPlane]
    private let logger: Logger
    private let gate: Mutex<Gate>
    private let port = Mutex<PortState>(.waiting([]))
    /// The running HTTP server's service group, so that ``triggerGracefulShutdown()`` can stop it; `stopRequested`
    /// covers a shutdown asked for before ``run()`` got that far.
    private let running = Mutex<(group: ServiceGroup?, stopRequested: Bool)>((nil, false))

    /// The request checks that remember things: nonces seen, calls counted.
    private struct Gate: Sendable {
        var authenticator: OpenAPIRequestAuthenticator
        var throttle: OpenAPIThrottle
        /// Action → calls that passed the gateway checks and throttling.
        var admitted: [String: Int] = [:]
        /// Action → calls refused with `Throttling.User`.
        var throttled: [String: Int] = [:]
    }

    private enum PortState {
        case waiting([CheckedContinuation<Int, any Error>])
        case bound(Int)
        case stopped(String)
    }

    /// Creates the endpoint for some instances.
    ///
    /// - Throws: ``SimulatedAPIError`` with code `InvalidConfiguration` when two instances share an
    ///   `IotInstanceId`, or two are legacy public instances: a request could not tell them apart.
    public init(
        configuration: SimulatedOpenAPIConfiguration,
        controlPlanes: [SimulatedControlPlane],
        logger: Logger
    ) throws {
        var planes: [String: SimulatedControlPlane] = [:]
        for plane in controlPlanes {
            let key = plane.identity.iotInstanceId ?? ""
            guard planes[key] == nil else {
                throw SimulatedAPIError(
                    "InvalidConfiguration",
                    key.isEmpty
                        ? "two simulated instances are legacy public instances (no iotInstanceId); one endpoint "
                            + "serves one"
                        : "two simulated instances have iotInstanceId \(key)"
                )
            }
            planes[key] = plane
        }
        self.configuration = configuration
        self.planes = planes
        self.logger = logger
        self.gate = Mutex(
            Gate(
                authenticator: OpenAPIRequestAuthenticator(
                    accessKeys: configuration.accessKeys,
                    timestampTolerance: configuration.timestampTolerance
                ),
                throttle: OpenAPIThrottle(configuration.throttling)
            )
        )
    }

    /// The port the endpoint listens on, once it does (the configured one, or the one the system chose for 0).
    ///
    /// - Throws: when ``run()`` ended before it could listen (the address is taken, the service was cancelled).
    public func listeningPort() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<Int, any Error>? = self.port.withLock { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .bound(let port):
                    return .success(port)
                case .stopped(let reason):
                    return .failure(SimulatedAPIError("NotListening", reason))
                }
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// Refuses the next `count` calls of `action` with `Throttling.User`, whatever their rate; 0 cancels.
    public func throttleNext(_ count: Int, of action: String) {
        self.gate.withLock { $0.throttle.throttleNext(count, of: action) }
    }

    /// Limits `action` to `limit` calls per second from now on; `nil` lifts the limit.
    public func setQPSLimit(_ limit: Int?, for action: String) {
        self.gate.withLock { $0.throttle.setQPS(limit, for: action) }
    }

    /// Stops serving: requests in flight are answered, then ``run()`` returns. A graceful shutdown of the
    /// service group ``run()`` runs in does the same.
    public func triggerGracefulShutdown() async {
        let group = self.running.withLock { running in
            running.stopRequested = true
            return running.group
        }
        await group?.triggerGracefulShutdown()
    }

    /// Action → how many calls passed the gateway checks and throttling (the action then ran, or was refused
    /// for its parameters): what a rehearsal or a test compares with what it expected, e.g. that nothing was
    /// created twice.
    public func callCounts() -> [String: Int] {
        self.gate.withLock { $0.admitted }
    }

    /// Action → how many calls were refused with `Throttling.User`.
    public func throttledCounts() -> [String: Int] {
        self.gate.withLock { $0.throttled }
    }

    /// Serves until graceful shutdown or cancellation.
    public func run() async throws {
        let router = Router()
        let maxBody = self.configuration.maxBodyBytes
        let handler: @Sendable (Request) async -> Response = { [self] request in
            var parameters = Self.formDecode(request.uri.query ?? "")
            if request.method == .post {
                let body: ByteBuffer
                do {
                    body = try await request.body.collect(upTo: maxBody)
                } catch {
                    let reply = self.gatewayError(
                        SimulatedAPIError(
                            "RequestTooLarge",
                            "the request body is larger than \(maxBody) bytes",
                            httpStatus: 413
                        )
                    )
                    return Self.response(reply)
                }
                for (key, value) in Self.formDecode(String(buffer: body)) { parameters[key] = value }
            }
            let reply = await self.handle(method: request.method.rawValue, parameters: parameters, now: Date())
            return Self.response(reply)
        }
        router.post("/") { request, _ in await handler(request) }
        router.get("/") { request, _ in await handler(request) }
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(self.configuration.host, port: self.configuration.port),
                serverName: "iotbridge-sim-openapi"
            ),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? 0
                logger.info(
                    "simulated OpenAPI endpoint listening",
                    metadata: [
                        "http.host": "\(self.configuration.host)", "http.port": "\(port)",
                        "sim.instances": "\(self.planes.keys.sorted().map { $0.isEmpty ? "legacy" : $0 })",
                    ]
                )
                self.resolvePort(.success(port))
            },
            logger: self.logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: self.logger))
        let stopEarly = self.running.withLock { running in
            running.group = group
            return running.stopRequested
        }
        if stopEarly { await group.triggerGracefulShutdown() }
        do {
            // Nested in the caller's ServiceGroup, this group also follows the caller's graceful shutdown.
            try await group.run()
            self.resolvePort(.failure(SimulatedAPIError("NotListening", "the OpenAPI endpoint stopped")))
        } catch {
            self.resolvePort(.failure(SimulatedAPIError("NotListening", "the OpenAPI endpoint failed: \(error)")))
            throw error
        }
    }

    private func resolvePort(_ result: Result<Int, SimulatedAPIError>) {
        let waiters: [CheckedContinuation<Int, any Error>] = self.port.withLock { state in
            guard case .waiting(let waiters) = state else {
                if case .failure(let error) = result { state = .stopped(error.message) }
                return []
            }
            switch result {
            case .success(let port): state = .bound(port)
            case .failure(let error): state = .stopped(error.message)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
    }

    /// One answer: the HTTP status and the JSON body.
    struct Reply: Sendable {
        var status: Int
        var body: [UInt8]
    }

    /// Answers one call: checks, throttling, instance, action. Internal so that tests can drive it without HTTP.
    func handle(method: String, parameters: [String: String], now: Date) async -> Reply {
        let action = parameters["Action"] ?? ""
        let admitted: Result<Void, SimulatedAPIError> = self.gate.withLock { gate in
            do throws(SimulatedAPIError) {
                _ = try gate.authenticator.authenticate(method: method, parameters: parameters, now: now)
            } catch {
                return .failure(error)
            }
            guard gate.throttle.admit(action, now: now) else {
                gate.throttled[action, default: 0] += 1
                return .failure(
                    SimulatedAPIError(
                        "Throttling.User",
                        "Request was denied due to user flow control.",
                        httpStatus: 400
                    )
                )
            }
            gate.admitted[action, default: 0] += 1
            return .success(())
        }
        if case .failure(let error) = admitted {
            self.logger.debug(
                "simulated OpenAPI call refused",
                metadata: ["openapi.action": "\(action)", "openapi.code": "\(error.code)"]
            )
            return self.gatewayError(error)
        }
        guard OpenAPIActions.implemented.contains(action) else {
            return self.gatewayError(
                SimulatedAPIError("InvalidAction.NotFound", "Specified api \(action) is not found.", httpStatus: 404)
            )
        }
        let plane: SimulatedControlPlane
        switch self.instance(parameters["IotInstanceId"]) {
        case .success(let found): plane = found
        case .failure(let error): return self.gatewayError(error)
        }
        let requestId = UUID().uuidString
        do {
            var body = try await OpenAPIActions.run(action, OpenAPIParameters(values: parameters), on: plane)
            body["RequestId"] = requestId
            body["Success"] = true
            self.logger.debug(
                "simulated OpenAPI call",
                metadata: ["openapi.action": "\(action)", "sim.instance": "\(plane.identity)"]
            )
            return Reply(status: 200, body: Self.json(body))
        } catch let error as SimulatedAPIError {
            self.logger.debug(
                "simulated OpenAPI call failed",
                metadata: [
                    "openapi.action": "\(action)", "sim.instance": "\(plane.identity)", "openapi.code": "\(error.code)",
                ]
            )
            return Reply(
                status: error.httpStatus,
                body: Self.json([
                    "RequestId": requestId, "Success": false, "Code": error.code, "ErrorMessage": error.message,
                ])
            )
        } catch {
            self.logger.error(
                "simulated OpenAPI call crashed",
                metadata: ["openapi.action": "\(action)", "error": "\(error)"]
            )
            return Reply(
                status: 500,
                body: Self.json([
                    "RequestId": requestId, "Success": false, "Code": "iot.system.SystemException",
                    "ErrorMessage": "\(error)",
                ])
            )
        }
    }

    /// The instance a call is about.
    private func instance(_ iotInstanceId: String?) -> Result<SimulatedControlPlane, SimulatedAPIError> {
        guard let iotInstanceId else {
            guard let legacy = self.planes[""] else {
                return .failure(
                    SimulatedAPIError(
                        "InvalidParameter",
                        "IotInstanceId is mandatory: this account has no legacy public instance, only "
                            + "\(self.planes.keys.sorted().joined(separator: ", ")).",
                        httpStatus: 400
                    )
                )
            }
            return .success(legacy)
        }
        guard !iotInstanceId.isEmpty else {
            return .failure(
                SimulatedAPIError(
                    "InvalidParameter",
                    "IotInstanceId is empty: omit the parameter for the legacy public instance.",
                    httpStatus: 400
                )
            )
        }
        guard let plane = self.planes[iotInstanceId] else {
            return .failure(
                SimulatedAPIError(
                    "InvalidParameter",
                    "IotInstanceId \(iotInstanceId) is not an instance of this account.",
                    httpStatus: 400
                )
            )
        }
        return .success(plane)
    }

    private func gatewayError(_ error: SimulatedAPIError) -> Reply {
        Reply(
            status: error.httpStatus == 200 ? 400 : error.httpStatus,
            body: Self.json([
                "RequestId": UUID().uuidString, "HostId": self.configuration.host, "Code": error.code,
                "Message": error.message,
            ])
        )
    }

    private static func response(_ reply: Reply) -> Response {
        Response(
            status: .init(code: reply.status),
            headers: [.contentType: "application/json;charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: reply.body))
        )
    }

    private static func json(_ object: [String: Any]) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// Decodes `application/x-www-form-urlencoded` (and a query string): `+` is a space, `%XY` a byte.
    static func formDecode(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (raw: Substring) -> String in
                let spaced = raw.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }
}
