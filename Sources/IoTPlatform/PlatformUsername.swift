//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A subscription client's SASL username taken apart (reference §1.3):
/// `clientId|authMode=…,signMethod=…,timestamp=…,authId=…,iotInstanceId=…,consumerGroupId=…|`.
///
/// The keys between the two `|` come in any order (the parameter doc and the samples order them differently), so
/// they are read as `key=value` pairs. Keys we do not know are kept (`extra`) and ignored, as the platform
/// evidently ignores `encode=base64` on AMQP. Holds no secret; the security token of an STS login is kept because
/// the password signs it, and is left out of `description`.
public struct PlatformUsername: Sendable, Hashable, CustomStringConvertible {
    /// Made up by the client (before the first `|`).
    public var clientId: String
    /// aksign or ststoken.
    public var authMode: AuthMode
    /// The HMAC the password was signed with (`Hmacsha1` is read as `hmacsha1`, as the Go sample sends it).
    public var signMethod: SignMethod
    /// The timestamp as the client wrote it: the password signs these exact characters.
    public var timestamp: String
    /// The AccessKey ID.
    public var authId: String
    /// The instance the client thinks it talks to; empty or absent for a legacy public instance.
    public var iotInstanceId: String?
    /// The consumer group to consume from.
    public var consumerGroupId: String
    /// The STS token (`ststoken` only).
    public var securityToken: String?
    /// Pairs we do not interpret (e.g. `encode=base64`, meant for STOMP).
    public var extra: [String: String] = [:]

    /// Whether `username` has the platform's layout at all (a `|` in it); a PLAIN user name has none.
    public static func looksLikePlatformUsername(_ username: String) -> Bool {
        username.contains("|")
    }

    /// Parses a username.
    ///
    /// - Throws: ``PlatformError`` `.loginRefused` naming the clientId (when there is one) and the first thing
    ///   missing or malformed.
    public init(parsing username: String) throws(PlatformError) {
        let parts = username.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].isEmpty else {
            throw PlatformError(
                code: .loginRefused,
                message: "the username is not 'clientId|key=value,…|' (the platform's layout, reference §1.3)"
            )
        }
        let clientId = String(parts[0])
        func refuse(_ problem: String) -> PlatformError {
            PlatformError(code: .loginRefused, message: "login of clientId '\(clientId)' refused: \(problem)")
        }
        guard !clientId.isEmpty, clientId.count <= AMQPPlatformLogin.maximumClientIdLength else {
            throw refuse("the clientId must be 1…\(AMQPPlatformLogin.maximumClientIdLength) characters")
        }
        var pairs: [String: String] = [:]
        var extra: [String: String] = [:]
        for item in parts[1].split(separator: ",", omittingEmptySubsequences: true) {
            guard let equals = item.firstIndex(of: "=") else { throw refuse("'\(item)' in the username is not key=value") }
            let key = item[..<equals].trimmingSpaces
            let value = item[item.index(after: equals)...].trimmingSpaces
            guard pairs[key] == nil else { throw refuse("the username names '\(key)' twice") }
            pairs[key] = value
            if !Self.knownKeys.contains(key) { extra[key] = value }
        }
        func required(_ key: String) throws(PlatformError) -> String {
            guard let value = pairs[key], !value.isEmpty else { throw refuse("the username has no \(key)") }
            return value
        }
        guard let authMode = AuthMode(rawValue: try required("authMode").lowercased()) else {
            throw refuse("authMode '\(pairs["authMode"] ?? "")' is neither aksign nor ststoken")
        }
        guard let signMethod = SignMethod(caseInsensitive: try required("signMethod")) else {
            throw refuse("signMethod '\(pairs["signMethod"] ?? "")' is none of hmacmd5, hmacsha1, hmacsha256")
        }
        self.clientId = clientId
        self.authMode = authMode
        self.signMethod = signMethod
        self.timestamp = try required("timestamp")
        self.authId = try required("authId")
        self.consumerGroupId = try required("consumerGroupId")
        let instance = pairs["iotInstanceId"] ?? ""
        self.iotInstanceId = instance.isEmpty ? nil : instance
        if authMode == .ststoken {
            self.securityToken = try required("securityToken")
        } else {
            self.securityToken = nil
        }
        self.extra = extra
    }

    private static let knownKeys: Set<String> = [
        "authMode", "signMethod", "timestamp", "authId", "iotInstanceId", "consumerGroupId", "securityToken",
    ]

    /// The string the password signs (reference §1.4): the signed parameters sorted by key, joined with `&`.
    public var stringToSign: String {
        if let token = self.securityToken {
            return "authId=\(self.authId)&securityToken=\(token)&timestamp=\(self.timestamp)"
        }
        return "authId=\(self.authId)&timestamp=\(self.timestamp)"
    }

    /// Who logs in, without the security token.
    public var description: String {
        "PlatformUsername(clientId: \(self.clientId), authMode: \(self.authMode.rawValue), "
            + "signMethod: \(self.signMethod.rawValue), authId: \(self.authId), "
            + "consumerGroupId: \(self.consumerGroupId), iotInstanceId: \(self.iotInstanceId ?? "<none>"))"
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
