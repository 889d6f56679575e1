//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Crypto
import Foundation

/// Checks SASL PLAIN logins the way the platform's server-side subscription does (reference §1.3–1.4), for an
/// endpoint that stands in for it: the bridge's `listener` sink, and the instance simulator.
///
/// An aksign or ststoken username names a consumer group and an AccessKey ID; the password must be
/// `base64(HMAC_signMethod(secret, stringToSign))` with the secret configured for that key in that group. A plain
/// user name (no `|`) with its password is the alternative, for clients that cannot sign. Every comparison of a
/// secret-derived value runs in constant time.
///
/// Choices where the reference leaves questions open (the tolerant reading, written in the README too):
/// - the `timestamp` is not checked for freshness: the official Node sample signs a fixed 2019 timestamp and the
///   Go sample signs 0…999, and both are documented as working;
/// - the `iotInstanceId` in the username is not checked: a backend switching to the bridge keeps the one it had;
/// - an STS `securityToken` is covered by the signature but not checked with STS (there is no STS here).
///
/// `description` and `dump` show group and key IDs, never a secret or a password.
public struct PlatformLoginVerifier: Sendable, CustomStringConvertible, CustomReflectable {
    /// An AccessKey allowed to log in to a group.
    public struct AccessKey: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
        /// The AccessKey ID (`authId` in the username).
        public var accessKeyId: String
        fileprivate var secret: [UInt8]

        /// Creates a key; the secret is the HMAC key, as on the platform.
        public init(accessKeyId: String, accessKeySecret: String) {
            self.accessKeyId = accessKeyId
            self.secret = Array(accessKeySecret.utf8)
        }

        /// The key ID, secret redacted.
        public var description: String { "AccessKey(\(self.accessKeyId), secret: <redacted>)" }

        /// What `dump` shows: no secret.
        public var customMirror: Mirror { Mirror(self, children: ["accessKeyId": self.accessKeyId]) }
    }

    /// A SASL PLAIN user name and password allowed to log in to a group.
    public struct PlainUser: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
        /// The user name (must not contain `|`, which marks a platform username).
        public var user: String
        fileprivate var password: [UInt8]

        /// Creates a user.
        public init(user: String, password: String) {
            self.user = user
            self.password = Array(password.utf8)
        }

        /// The user name, password redacted.
        public var description: String { "PlainUser(\(self.user), password: <redacted>)" }

        /// What `dump` shows: no password.
        public var customMirror: Mirror { Mirror(self, children: ["user": self.user]) }
    }

    /// A consumer group clients may log in to, and the credentials that open it.
    public struct ConsumerGroup: Sendable, Hashable {
        /// The consumer group ID (`consumerGroupId` in the username).
        public var id: String
        /// The AccessKeys whose signed logins open it.
        public var accessKeys: [AccessKey]
        /// The plain users who open it.
        public var users: [PlainUser]

        /// Creates a group.
        public init(id: String, accessKeys: [AccessKey] = [], users: [PlainUser] = []) {
            self.id = id
            self.accessKeys = accessKeys
            self.users = users
        }
    }

    /// A login that passed.
    public struct VerifiedLogin: Sendable, Hashable, CustomStringConvertible {
        /// How the client logged in.
        public enum Method: Sendable, Hashable {
            /// A signed platform username (aksign or ststoken).
            case signed(PlatformUsername)
            /// A plain user.
            case plain(user: String)
        }

        /// The group the client consumes from.
        public var consumerGroupId: String
        /// The client's id: the username's clientId, or the plain user name.
        public var clientId: String
        /// How it logged in.
        public var method: Method

        /// `clientId@group (method)`, without any credential.
        public var description: String {
            switch self.method {
            case .signed(let username):
                "\(self.clientId)@\(self.consumerGroupId) (\(username.authMode.rawValue), authId \(username.authId))"
            case .plain(let user):
                "\(self.clientId)@\(self.consumerGroupId) (plain user \(user))"
            }
        }
    }

    /// The groups, by ID.
    public let consumerGroups: [String: ConsumerGroup]

    /// Creates a verifier.
    ///
    /// - Throws: ``PlatformError`` `.invalidArgument` for a group ID given twice, a plain user in two groups (a plain
    ///   login names no group, so the user must), or a plain user name with a `|`.
    public init(consumerGroups: [ConsumerGroup]) throws(PlatformError) {
        var groups: [String: ConsumerGroup] = [:]
        var plainUsers: Set<String> = []
        for group in consumerGroups {
            guard groups[group.id] == nil else {
                throw PlatformError(code: .invalidArgument, message: "consumer group '\(group.id)' is configured twice")
            }
            for user in group.users {
                guard !PlatformUsername.looksLikePlatformUsername(user.user) else {
                    throw PlatformError(
                        code: .invalidArgument,
                        message: "plain user '\(user.user)' contains '|', which marks a platform username"
                    )
                }
                guard plainUsers.insert(user.user).inserted else {
                    throw PlatformError(
                        code: .invalidArgument,
                        message: "plain user '\(user.user)' is configured twice: a plain login names no group, so a user "
                            + "can open only one"
                    )
                }
            }
            groups[group.id] = group
        }
        self.consumerGroups = groups
    }

    /// Checks a login.
    ///
    /// - Returns: the verified login, or a ``PlatformError`` `.loginRefused` whose message names the clientId (or
    ///   plain user) and why — never the password or a secret.
    public func verify(username: String, password: String) -> Result<VerifiedLogin, PlatformError> {
        guard PlatformUsername.looksLikePlatformUsername(username) else {
            return self.verifyPlain(user: username, password: password)
        }
        let parsed: PlatformUsername
        do {
            parsed = try PlatformUsername(parsing: username)
        } catch {
            return .failure(error)
        }
        func refuse(_ problem: String) -> Result<VerifiedLogin, PlatformError> {
            .failure(PlatformError(code: .loginRefused, message: "login of clientId '\(parsed.clientId)' refused: \(problem)"))
        }
        guard let group = self.consumerGroups[parsed.consumerGroupId] else {
            return refuse("unknown consumer group '\(parsed.consumerGroupId)'")
        }
        guard let key = group.accessKeys.first(where: { $0.accessKeyId == parsed.authId }) else {
            return refuse("AccessKey '\(parsed.authId)' may not log in to consumer group '\(group.id)'")
        }
        let expected = parsed.signMethod.signature(key: key.secret, data: Array(parsed.stringToSign.utf8))
        guard Self.constantTimeEquals(Array(password.utf8), Array(expected.utf8)) else {
            return refuse(
                "the password is not the \(parsed.signMethod.rawValue) signature of '\(parsed.stringToSign.redactingToken)' "
                    + "with the secret of AccessKey '\(parsed.authId)'"
            )
        }
        return .success(VerifiedLogin(consumerGroupId: group.id, clientId: parsed.clientId, method: .signed(parsed)))
    }

    private func verifyPlain(user: String, password: String) -> Result<VerifiedLogin, PlatformError> {
        let given = Array(password.utf8)
        for group in self.consumerGroups.values {
            for candidate in group.users where candidate.user == user {
                guard Self.constantTimeEquals(given, candidate.password) else { break }
                return .success(VerifiedLogin(consumerGroupId: group.id, clientId: user, method: .plain(user: user)))
            }
        }
        // One message for an unknown user and a wrong password: the answer must not tell which users exist.
        return .failure(
            PlatformError(code: .loginRefused, message: "login of plain user '\(user)' refused: unknown user or wrong password")
        )
    }

    /// The group a plain user opens, nil for a user not configured.
    public func consumerGroup(ofPlainUser user: String) -> String? {
        self.consumerGroups.values.first { group in group.users.contains { $0.user == user } }?.id
    }

    /// The group a login that passed `verify` opens: the signed username's, or the plain user's.
    public func consumerGroup(ofVerifiedUsername username: String) -> String? {
        guard PlatformUsername.looksLikePlatformUsername(username) else { return self.consumerGroup(ofPlainUser: username) }
        return (try? PlatformUsername(parsing: username))?.consumerGroupId
    }

    /// Whether `given` equals `expected`, visiting every byte of both with no early exit, so the time taken says
    /// nothing about how much of a guess was right (only the lengths can be learned).
    public static func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt64(truncatingIfNeeded: given.count ^ expected.count)
        for index in 0..<max(given.count, expected.count) {
            let a = index < given.count ? given[index] : 0
            let b = index < expected.count ? expected[index] : 0xff
            difference |= UInt64(a ^ b)
        }
        return difference == 0
    }

    /// The groups with their key IDs and user names, no secret.
    public var description: String {
        let groups = self.consumerGroups.keys.sorted().map { id -> String in
            let group = self.consumerGroups[id]!
            return "\(id): keys [\(group.accessKeys.map(\.accessKeyId).joined(separator: ", "))], "
                + "users [\(group.users.map(\.user).joined(separator: ", "))]"
        }
        return "PlatformLoginVerifier(\(groups.joined(separator: "; ")))"
    }

    /// What `dump` and debuggers show: the description, no secret.
    public var customMirror: Mirror { Mirror(self, children: ["groups": self.description]) }
}

extension SignMethod {
    /// `base64(HMAC(key, data))` over bytes: the verifier keeps secrets as bytes, not Strings.
    func signature(key: [UInt8], data: [UInt8]) -> String {
        let key = SymmetricKey(data: key)
        switch self {
        case .hmacmd5: return Data(HMAC<Insecure.MD5>.authenticationCode(for: data, using: key)).base64EncodedString()
        case .hmacsha1: return Data(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key)).base64EncodedString()
        case .hmacsha256: return Data(HMAC<SHA256>.authenticationCode(for: data, using: key)).base64EncodedString()
        }
    }
}

extension String {
    /// The string to sign with an STS token's value hidden (it is a credential too).
    fileprivate var redactingToken: String {
        guard let start = self.range(of: "securityToken=") else { return self }
        let rest = self[start.upperBound...]
        let end = rest.firstIndex(of: "&") ?? rest.endIndex
        return String(self[..<start.upperBound]) + "***" + String(rest[end...])
    }
}
