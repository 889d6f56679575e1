//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Crypto
import Foundation

/// How an AMQP subscription client authenticates (`authMode` in the SASL username, reference §1.3).
public enum AuthMode: String, Sendable, Hashable, CaseIterable {
    /// An AccessKey pair of the main account or of a RAM user with direct permission.
    case aksign
    /// A RAM user acting through a role: the password also signs an STS `securityToken`.
    case ststoken
}

/// The HMAC that signs the SASL password (`signMethod` in the SASL username, reference §1.4).
public enum SignMethod: String, Sendable, Hashable, CaseIterable {
    /// HMAC-MD5.
    case hmacmd5
    /// HMAC-SHA1, the method every official sample uses.
    case hmacsha1
    /// HMAC-SHA256.
    case hmacsha256

    /// Parses a method name without regard to case, because the official Go sample sends `Hmacsha1`.
    public init?(caseInsensitive name: String) {
        self.init(rawValue: name.lowercased())
    }

    /// `base64(HMAC(key, data))` with this method.
    func signature(key: String, data: String) -> String {
        let key = SymmetricKey(data: Data(key.utf8))
        let data = Data(data.utf8)
        switch self {
        case .hmacmd5:
            return Data(HMAC<Insecure.MD5>.authenticationCode(for: data, using: key)).base64EncodedString()
        case .hmacsha1:
            return Data(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key)).base64EncodedString()
        case .hmacsha256:
            return Data(HMAC<SHA256>.authenticationCode(for: data, using: key)).base64EncodedString()
        }
    }
}

/// The SASL PLAIN username and password with which an AMQP client logs in to the IoT Platform's server-side
/// subscription (reference §1.3–1.4).
///
/// ```swift
/// let login = try AMQPPlatformLogin(
///     clientId: "bridge-1", accessKeyId: "LTAI…", accessKeySecret: secret,
///     consumerGroupId: "DEFAULT_GROUP", iotInstanceId: "iot-06z00frq8umvkx2"
/// )
/// // SASL PLAIN with login.username / login.password against
/// // PlatformEndpoint.enterpriseAMQPHost(iotInstanceId:) : PlatformEndpoint.amqpPort
/// ```
///
/// `description`, `debugDescription` and `dump` never print the secret, the security token or the password.
public struct AMQPPlatformLogin: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The longest clientId the platform accepts.
    public static let maximumClientIdLength = 64

    /// Made up by the client; shown in the console under the consumer group's clients. At most 64 characters.
    public let clientId: String
    /// The AccessKey ID (`authId`).
    public let accessKeyId: String
    /// The consumer group to consume from, e.g. `DEFAULT_GROUP`.
    public let consumerGroupId: String
    /// The instance ID, or `nil` for a legacy public instance (sent as an empty value, as the samples do).
    public let iotInstanceId: String?
    /// The HMAC that signs the password.
    public let signMethod: SignMethod
    /// aksign or ststoken.
    public let authMode: AuthMode
    /// Epoch milliseconds; the same value goes into the username and the signed string.
    public let timestamp: Int64
    /// The raw AccessKey secret: the HMAC key, with no `&` suffix (unlike the OpenAPI signature).
    private let accessKeySecret: String
    /// The STS token, for `.ststoken` only.
    private let securityToken: String?

    /// Builds a login.
    ///
    /// - Throws: ``PlatformError`` with `.invalidClientId` when the clientId is empty, longer than 64 characters or
    ///   contains `|` or `,` (which would break the username's layout), and `.invalidArgument` when a required
    ///   value is empty or `.ststoken` is asked for without a security token.
    public init(
        clientId: String,
        accessKeyId: String,
        accessKeySecret: String,
        consumerGroupId: String,
        iotInstanceId: String?,
        signMethod: SignMethod = .hmacsha1,
        authMode: AuthMode = .aksign,
        securityToken: String? = nil,
        timestamp: Int64 = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    ) throws {
        try Self.validate(clientId: clientId)
        for (name, value) in [("accessKeyId", accessKeyId), ("consumerGroupId", consumerGroupId)] {
            guard !value.isEmpty, !value.contains(where: { $0 == "|" || $0 == "," }) else {
                throw PlatformError(
                    code: .invalidArgument,
                    message: "\(name) '\(value)' is empty or contains '|' or ',' — copy it from the console"
                )
            }
        }
        guard !accessKeySecret.isEmpty else {
            throw PlatformError(
                code: .invalidArgument,
                message: "the AccessKey secret for \(accessKeyId) is empty — check the environment variable holding it"
            )
        }
        if authMode == .ststoken, (securityToken ?? "").isEmpty {
            throw PlatformError(
                code: .invalidArgument,
                message: "authMode ststoken needs the securityToken returned by STS AssumeRole"
            )
        }
        self.clientId = clientId
        self.accessKeyId = accessKeyId
        self.accessKeySecret = accessKeySecret
        self.consumerGroupId = consumerGroupId
        self.iotInstanceId = iotInstanceId
        self.signMethod = signMethod
        self.authMode = authMode
        self.securityToken = authMode == .ststoken ? securityToken : nil
        self.timestamp = timestamp
    }

    /// Checks a clientId against the platform's rules without building a login.
    public static func validate(clientId: String) throws {
        guard !clientId.isEmpty, clientId.count <= Self.maximumClientIdLength else {
            throw PlatformError(
                code: .invalidClientId,
                message: "clientId must be 1…\(Self.maximumClientIdLength) characters, got \(clientId.count) — "
                    + "use a server UUID, MAC or IP"
            )
        }
        guard !clientId.contains(where: { $0 == "|" || $0 == "," }) else {
            throw PlatformError(
                code: .invalidClientId,
                message: "clientId '\(clientId)' contains '|' or ',', which the SASL username uses as separators"
            )
        }
    }

    /// The SASL PLAIN username, in the layout of the official samples:
    /// `clientId|authMode=…,signMethod=…,[securityToken=…,]timestamp=…,authId=…,iotInstanceId=…,consumerGroupId=…|`.
    public var username: String {
        var pairs = ["authMode=\(self.authMode.rawValue)", "signMethod=\(self.signMethod.rawValue)"]
        if let token = self.securityToken {
            pairs.append("securityToken=\(token)")
        }
        pairs.append("timestamp=\(self.timestamp)")
        pairs.append("authId=\(self.accessKeyId)")
        pairs.append("iotInstanceId=\(self.iotInstanceId ?? "")")
        pairs.append("consumerGroupId=\(self.consumerGroupId)")
        return "\(self.clientId)|\(pairs.joined(separator: ","))|"
    }

    /// The string the password signs: the signed parameters sorted by key and joined with `&`.
    public var stringToSign: String {
        if let token = self.securityToken {
            return "authId=\(self.accessKeyId)&securityToken=\(token)&timestamp=\(self.timestamp)"
        }
        return "authId=\(self.accessKeyId)&timestamp=\(self.timestamp)"
    }

    /// The SASL PLAIN password: `base64(HMAC_signMethod(key: AccessKeySecret, data: stringToSign))`.
    public var password: String {
        self.signMethod.signature(key: self.accessKeySecret, data: self.stringToSign)
    }

    /// Identifies the login without any credential: safe for logs and error messages.
    public var description: String {
        "AMQPPlatformLogin(clientId: \(self.clientId), authId: \(self.accessKeyId), "
            + "consumerGroupId: \(self.consumerGroupId), iotInstanceId: \(self.iotInstanceId ?? "<legacy>"), "
            + "authMode: \(self.authMode.rawValue), signMethod: \(self.signMethod.rawValue), "
            + "timestamp: \(self.timestamp), secret: <redacted>)"
    }

    /// Same as ``description``: the debugger must not show the secret either.
    public var debugDescription: String { self.description }

    /// What `dump` and debuggers list: every field but the secret, the token and the password.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "clientId": self.clientId, "accessKeyId": self.accessKeyId, "consumerGroupId": self.consumerGroupId,
                "iotInstanceId": self.iotInstanceId as Any, "signMethod": self.signMethod, "authMode": self.authMode,
                "timestamp": self.timestamp, "accessKeySecret": "<redacted>",
            ],
            displayStyle: .struct
        )
    }
}
