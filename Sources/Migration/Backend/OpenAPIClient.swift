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
    /// - Throws: ``MigrationError`` with `.unreachable`, `.authentication`, `.throttled` or `.api`.
    func call(_ action: String, _ parameters: [String: String] = [:]) async throws -> [String: Any] {
        var attempt = 0
        while true {
            attempt += 1
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
                outcome = .retryable(
                    MigrationError(.unreachable, "\(action): \(error.description) (endpoint in migration.yaml)")
                )
            }
            switch outcome {
            case .success(let object):
                return object
            case .failure(let error):
                throw error
            case .retryable(let error):
                guard attempt < self.retry.maxAttempts else {
                    var final = error
                    final.message += " — gave up after \(attempt) attempts"
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
        case retryable(MigrationError)
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
        if code.hasPrefix("Throttling") || response.status == 429 || code == "ServiceUnavailable" {
            return .retryable(
                MigrationError(
                    .throttled,
                    "\(action) was throttled (\(code.isEmpty ? "HTTP \(response.status)" : code))"
                )
            )
        }
        if response.status >= 500 {
            return .retryable(
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
