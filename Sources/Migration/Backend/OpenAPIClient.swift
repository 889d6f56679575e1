//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPClient
import IoTPlatform
import Logging

/// Calls IoT OpenAPI actions (Version 2018-01-20, RPC style, signature v1; reference §6) over ``HTTPClient``.
///
/// Every call about an Enterprise instance carries its `IotInstanceId`; calls about the legacy public instance omit
/// the parameter, as the API reference asks ("if no ID is generated for your instance, you do not need to configure
/// this parameter"), rather than sending it empty. Throttling, 5xx and transport failures
/// are retried with backoff; an authentication failure is not, because retrying cannot fix a wrong key.
///
/// A failure can leave the outcome unknown: an HTTP 5xx, a timeout or a connection reset after the request went
/// out may follow a call the platform applied. Idempotent calls are simply sent again. A call that creates
/// something is not: the caller passes a look-up (``call(_:_:ifOutcomeUnknown:)``) that finds what the lost call
/// would have created, and the client runs it before every repeat, adopting the resource when it is there.
struct OpenAPIClient: Sendable, CustomStringConvertible, CustomReflectable {
    /// The API version every action here belongs to.
    static let version = "2018-01-20"

    let endpoint: String
    let regionId: String
    let iotInstanceId: String
    let accessKeyId: String
    /// Where the secret came from, for messages: never the secret itself.
    let secretSource: String
    private let accessKeySecret: String
    let http: HTTPClient
    let retry: RetryPolicy
    let logger: Logger

    init(
        endpoint: String,
        regionId: String,
        iotInstanceId: String,
        accessKeyId: String,
        accessKeySecret: String,
        secretSource: String,
        http: HTTPClient,
        retry: RetryPolicy,
        logger: Logger
    ) {
        self.endpoint = endpoint.hasSuffix("/") ? endpoint : endpoint + "/"
        self.regionId = regionId
        self.iotInstanceId = iotInstanceId
        self.accessKeyId = accessKeyId
        self.accessKeySecret = accessKeySecret
        self.secretSource = secretSource
        self.http = http
        self.retry = retry
        self.logger = logger
    }

    /// Names the endpoint and the key, never the secret.
    var description: String { "OpenAPIClient(\(self.endpoint), accessKeyId: \(self.accessKeyId), secret: <redacted>)" }

    /// `dump` and debuggers must not show the secret either.
    var customMirror: Mirror {
        Mirror(self, children: ["endpoint": self.endpoint, "accessKeyId": self.accessKeyId], displayStyle: .struct)
    }

    /// The signed form body of one call.
    func signedBody(
        action: String,
        parameters: [String: String],
        now: Date = Date(),
        nonce: String = UUID().uuidString
    )
        -> String
    {
        var all = parameters
        all["Action"] = action
        all["Format"] = "JSON"
        all["Version"] = Self.version
        all["AccessKeyId"] = self.accessKeyId
        all["SignatureMethod"] = "HMAC-SHA1"
        all["SignatureVersion"] = "1.0"
        all["SignatureNonce"] = nonce
        all["Timestamp"] = OpenAPISignature.timestamp(now)
        all["RegionId"] = self.regionId
        if !self.iotInstanceId.isEmpty { all["IotInstanceId"] = self.iotInstanceId }
        let signature = OpenAPISignature.sign(method: "POST", parameters: all, accessKeySecret: self.accessKeySecret)
        return OpenAPISignature.canonicalizedQuery(all) + "&Signature=" + OpenAPISignature.percentEncode(signature)
    }

    /// Calls an action and returns the response's JSON object.
    ///
    /// - Parameter lookUp: for a call that is not idempotent (it creates something, or a repeat is refused): finds
    ///   what the call does and returns it shaped like the action's response, or `nil` when it is not there. After a failure whose
    ///   outcome is unknown, the client runs it before sending the call again and returns its answer when it
    ///   found something. `nil` (the default) marks an idempotent call, repeated as it is.
    /// - Throws: ``MigrationError`` with `.unreachable`, `.authentication`, `.throttled` or `.api`.
    func call(
        _ action: String,
        _ parameters: [String: String] = [:],
        ifOutcomeUnknown lookUp: (() async throws -> [String: Any]?)? = nil
    ) async throws -> [String: Any] {
        var attempt = 0
        var outcomeUnknown = false
        while true {
            attempt += 1
            if outcomeUnknown, let lookUp {
                // The last attempt may have been applied: adopt its result instead of creating a second one.
                let adopted: [String: Any]?
                do {
                    adopted = try await lookUp()
                } catch var error as MigrationError {
                    error.message +=
                        " (while looking for what a lost \(action) call may have done; running the command again looks again)"
                    throw error
                }
                if let adopted {
                    self.logger.notice(
                        "adopted the result of a call whose answer was lost",
                        metadata: ["openapi.action": "\(action)", "openapi.attempt": "\(attempt - 1)"]
                    )
                    return adopted
                }
            }
            // A fresh nonce and timestamp per attempt: the server refuses a replayed nonce.
            let body = self.signedBody(action: action, parameters: parameters)
            let request = HTTPRequest(
                method: "POST",
                url: self.endpoint,
                headers: [
                    HTTPHeader("Content-Type", "application/x-www-form-urlencoded"),
                    HTTPHeader("Accept", "application/json"),
                    // Large bodies (scripts) would otherwise wait for a "100 Continue" first.
                    HTTPHeader("Expect", ""),
                ],
                body: Array(body.utf8)
            )
            let outcome: Outcome
            do {
                let response = try await self.http.execute(request)
                outcome = self.classify(action: action, response: response)
            } catch let error as HTTPClientError {
                let failure = MigrationError(
                    .unreachable,
                    "\(action): \(error.description) (endpoint in migration.yaml)"
                )
                outcome = Self.requestMayHaveArrived(error) ? .outcomeUnknown(failure) : .retryable(failure)
            }
            switch outcome {
            case .success(let object):
                return object
            case .failure(let error):
                throw error
            case .retryable(let error), .outcomeUnknown(let error):
                if case .outcomeUnknown = outcome { outcomeUnknown = true }
                guard attempt < self.retry.maxAttempts else {
                    var final = error
                    final.message += " — gave up after \(attempt) attempts"
                    if outcomeUnknown, lookUp != nil {
                        final.message +=
                            "; an attempt may have been applied: running the command again looks the resource up first"
                    }
                    throw final
                }
                let wait = self.retry.backoff(afterAttempt: attempt)
                self.logger.info(
                    "retrying OpenAPI call",
                    metadata: [
                        "openapi.action": "\(action)", "openapi.attempt": "\(attempt)", "reason": "\(error.message)",
                    ]
                )
                try await Task.sleep(for: wait)
            }
        }
    }

    private enum Outcome {
        case success([String: Any])
        case failure(MigrationError)
        /// Refused before anything happened (throttling, no connection): safe to send again.
        case retryable(MigrationError)
        /// Failed after the request may have reached the platform (5xx, timeout, reset): it may have been applied.
        case outcomeUnknown(MigrationError)
    }

    /// Whether a transport failure can follow a request the platform received: a refused connection, a name
    /// that does not resolve or a failed TLS handshake cannot; a timeout or a reset mid-exchange can.
    static func requestMayHaveArrived(_ error: HTTPClientError) -> Bool {
        switch error.code {
        case .nameResolution, .connectionRefused, .tls, .invalidURL: return false
        default: return true
        }
    }

    private func classify(action: String, response: HTTPResponse) -> Outcome {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let code = object?["Code"] as? String ?? ""
        let message = (object?["ErrorMessage"] as? String) ?? (object?["Message"] as? String) ?? ""
        let requestId = object?["RequestId"] as? String ?? "-"
        let authCodes = ["SignatureDoesNotMatch", "InvalidAccessKeyId", "IncompleteSignature", "Forbidden.AccessKey"]
        if authCodes.contains(where: { code.hasPrefix($0) }) {
            return .failure(
                MigrationError(
                    .authentication,
                    "\(action) was refused by \(self.endpoint) with \(code): the AccessKey pair of accessKeyId "
                        + "\(self.accessKeyId) was rejected — check that \(self.secretSource) holds this key's secret "
                        + "(RequestId \(requestId))"
                )
            )
        }
        // Throttling refuses a call before it runs; a 5xx (ServiceUnavailable included) may follow one that ran.
        if code.hasPrefix("Throttling") || response.status == 429 {
            return .retryable(
                MigrationError(
                    .throttled,
                    "\(action) was throttled (\(code.isEmpty ? "HTTP \(response.status)" : code))"
                )
            )
        }
        // Every attempt has a fresh nonce, so a used one means this very request arrived before: libcurl sends a
        // request again by itself when a reused connection dies before any answer. The first copy may have run.
        if response.status >= 500 || code == "ServiceUnavailable" || code == "SignatureNonceUsed" {
            return .outcomeUnknown(
                MigrationError(.api, "\(action) failed with HTTP \(response.status) \(code) \(message)")
            )
        }
        guard let object else {
            return .failure(
                MigrationError(
                    .api,
                    "\(action): \(self.endpoint) answered HTTP \(response.status) with no JSON — check the endpoint"
                )
            )
        }
        if response.status >= 400 || (object["Success"] as? Bool) == false {
            return .failure(
                MigrationError(
                    .api,
                    "\(action) failed: \(code.isEmpty ? "HTTP \(response.status)" : code) \(message) (RequestId \(requestId))"
                )
            )
        }
        return .success(object)
    }

    /// Calls a paged list action until every item is in, and returns the items.
    ///
    /// - Parameters:
    ///   - pageKey / sizeKey: the names the action uses (`CurrentPage`/`PageSize` or `Page`/`PageSize`).
    ///   - items: extracts the page's items from the response.
    func paginate(
        _ action: String,
        _ parameters: [String: String] = [:],
        pageKey: String = "CurrentPage",
        pageSize: Int,
        items: ([String: Any]) -> [[String: Any]]
    ) async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        var page = 1
        while true {
            var query = parameters
            query[pageKey] = String(page)
            query["PageSize"] = String(pageSize)
            let response = try await self.call(action, query)
            let batch = items(response)
            all.append(contentsOf: batch)
            let total = JSON.int(response["Total"]) ?? JSON.int(JSON.path(response, "Data", "Total"))
            if batch.count < pageSize || (total.map { all.count >= $0 } ?? false) || page >= 10_000 {
                return all
            }
            page += 1
        }
    }
}
