//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import IoTPlatform

/// Checks one RPC request the way the platform's API gateway does, before any action runs: the common
/// parameters, the version, the timestamp window, the AccessKeyId, signature v1 and the nonce (reference §6,
/// §6.6). A value type with the nonces it has seen, so that its decisions are testable without HTTP.
///
/// Gateway errors carry the gateway's codes and HTTP statuses (`InvalidAccessKeyId.NotFound` 404,
/// `SignatureDoesNotMatch`/`SignatureNonceUsed`/`InvalidTimeStamp.Expired` 400).
struct OpenAPIRequestAuthenticator: Sendable {
    /// The API version every action here belongs to.
    static let version = "2018-01-20"

    /// The parameters every call must carry.
    static let commonParameters = [
        "Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce",
        "Timestamp", "Format",
    ]

    private let accessKeys: [String: String]
    private let tolerance: TimeInterval
    /// Nonce → when it can be forgotten: once its request's timestamp is out of the window, a replay fails on the
    /// timestamp anyway. Pruned as requests come in, so memory stays bounded by the request rate × the window.
    private var nonces: [String: Date] = [:]
    private var nextPrune = Date.distantPast

    /// An authenticator accepting these keys and this timestamp window.
    init(accessKeys: [String: String], timestampTolerance: Duration) {
        self.accessKeys = accessKeys
        let parts = timestampTolerance.components
        self.tolerance = TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }

    /// Checks a request's parameters (query and form body together, as signed) and records its nonce.
    ///
    /// - Parameters:
    ///   - method: the HTTP method, part of the string to sign.
    ///   - parameters: every parameter, `Signature` included.
    ///   - now: the endpoint's clock.
    /// - Returns: the AccessKeyId that signed the request.
    /// - Throws: the gateway's error for the first check that fails.
    mutating func authenticate(
        method: String, parameters: [String: String], now: Date
    ) throws(SimulatedAPIError)
        -> String
    {
        for name in Self.commonParameters where (parameters[name] ?? "").isEmpty {
            throw SimulatedAPIError(
                "Missing\(name)",
                "The input parameter \"\(name)\" that is mandatory for processing this request is not supplied.",
                httpStatus: 400
            )
        }
        let version = parameters["Version"]!
        guard version == Self.version else {
            throw SimulatedAPIError(
                "InvalidVersion",
                "Specified parameter Version \(version) is not valid: this endpoint serves IoT \(Self.version).",
                httpStatus: 400
            )
        }
        guard parameters["SignatureMethod"] == "HMAC-SHA1", parameters["SignatureVersion"] == "1.0" else {
            throw SimulatedAPIError(
                "InvalidSignatureMethod",
                "Specified signature method is not supported: use SignatureMethod HMAC-SHA1, SignatureVersion 1.0.",
                httpStatus: 400
            )
        }
        guard parameters["Format"]?.uppercased() == "JSON" else {
            // The platform defaults to XML; the simulator speaks JSON only, and says so rather than answer JSON
            // to a client that asked for XML.
            throw SimulatedAPIError(
                "InvalidParameter.Format",
                "this simulated endpoint answers JSON only: send Format=JSON.",
                httpStatus: 400
            )
        }
        let stamp = parameters["Timestamp"]!
        guard let sent = Self.parseTimestamp(stamp) else {
            throw SimulatedAPIError(
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted: \(stamp) (want UTC YYYY-MM-DDThh:mm:ssZ).",
                httpStatus: 400
            )
        }
        guard abs(sent.timeIntervalSince(now)) <= self.tolerance else {
            throw SimulatedAPIError(
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired: \(stamp) is more than "
                    + "\(Int(self.tolerance / 60)) minutes from the server's time \(OpenAPISignature.timestamp(now)).",
                httpStatus: 400
            )
        }
        let keyId = parameters["AccessKeyId"]!
        guard let secret = self.accessKeys[keyId] else {
            throw SimulatedAPIError(
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
                httpStatus: 404
            )
        }
        let expected = OpenAPISignature.sign(method: method, parameters: parameters, accessKeySecret: secret)
        guard Self.constantTimeEquals(parameters["Signature"]!, expected) else {
            // The platform echoes the string to sign, so a client can compare its own; it holds no secret.
            throw SimulatedAPIError(
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. server string to sign is:"
                    + OpenAPISignature.stringToSign(method: method, parameters: parameters),
                httpStatus: 400
            )
        }
        self.prune(now: now)
        let nonce = parameters["SignatureNonce"]!
        guard self.nonces[nonce] == nil else {
            throw SimulatedAPIError(
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
                httpStatus: 400
            )
        }
        self.nonces[nonce] = sent.addingTimeInterval(self.tolerance)
        return keyId
    }

    /// How many nonces are remembered (for tests of the pruning).
    var rememberedNonces: Int { self.nonces.count }

    private mutating func prune(now: Date) {
        guard now >= self.nextPrune else { return }
        self.nonces = self.nonces.filter { $0.value >= now }
        self.nextPrune = now.addingTimeInterval(1)
    }

    /// Compares without an early exit, so that response times do not tell how much of a signature was right.
    private static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    /// Parses `YYYY-MM-DDThh:mm:ssZ`, tolerating fractional seconds (`…:ss.SSSZ`), which some SDKs send.
    static func parseTimestamp(_ text: String) -> Date? {
        let pattern = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z/
        guard let match = text.wholeMatch(of: pattern) else { return nil }
        var components = DateComponents()
        components.year = Int(match.output.1)
        components.month = Int(match.output.2)
        components.day = Int(match.output.3)
        components.hour = Int(match.output.4)
        components.minute = Int(match.output.5)
        components.second = Int(match.output.6)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }
}
