//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An error from the platform helpers: a stable code plus a message a person can act on.
///
/// Messages never contain an AccessKey secret, a password or a security token.
public struct PlatformError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes: new codes do not break `switch`-less callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidClientId
            case invalidArgument
            case loginRefused
        }

        private let base: Base

        /// The clientId is empty, longer than 64 characters, or contains a `|` or `,`.
        public static let invalidClientId = Code(base: .invalidClientId)
        /// Another login or endpoint argument is empty or malformed.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// A subscription login was refused: a malformed username, an unknown consumer group or AccessKey, or a
        /// signature or password that does not match.
        public static let loginRefused = Code(base: .loginRefused)

        /// The code's stable name, e.g. `invalidClientId`.
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

    /// `code: message`, safe to log.
    public var description: String { "\(self.code): \(self.message)" }
}
