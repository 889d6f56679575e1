//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An error from the platform helpers (login builders, the login verifier, endpoints): a stable `code` to switch
/// on, and a message a person can act on that names the context (the clientId, the consumer group, the user).
///
/// Messages never contain an AccessKey secret, a password, a signature or a security token.
public struct PlatformError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added, so `switch` over it with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidClientId = "invalid-client-id"
            case invalidArgument = "invalid-argument"
            case loginRefused = "login-refused"
        }

        private let base: Base
        private init(base: Base) { self.base = base }

        /// The clientId is empty, longer than 64 characters, or contains a `|` or `,`.
        public static let invalidClientId = Code(base: .invalidClientId)
        /// Another login or endpoint argument is empty or malformed.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// A subscription login was refused: a malformed username, an unknown consumer group or AccessKey, or a
        /// signature or password that does not match.
        public static let loginRefused = Code(base: .loginRefused)

        /// The code as a short, stable string (for logs and exit messages), e.g. `invalid-client-id`.
        public var description: String { self.base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do about it.
    public var message: String

    /// Creates an error with a code and an actionable message.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// Creates an error, in the argument order of the other errors of this project (``code``, message).
    public init(_ code: Code, _ message: String) {
        self.init(code: code, message: message)
    }

    /// `PlatformError(code): message`, safe to log.
    public var description: String { "PlatformError(\(self.code)): \(self.message)" }
}
