//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An error of the bridge runtime: a code to branch on and a sentence a person can act on.
public struct BridgeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure it is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { self.rawValue }

        /// The configuration is invalid.
        public static let configuration = Code("configuration")
        /// A sink could not start (wrong password, missing folder, refused address).
        public static let sinkUnavailable = Code("sink-unavailable")
        /// The state store failed.
        public static let stateStore = Code("state-store")
        /// The bridge is shutting down.
        public static let shuttingDown = Code("shutting-down")
        /// A rule cannot be run by the bridge.
        public static let rules = Code("rules")
    }

    /// What kind of failure it is.
    public var code: Code
    /// What happened and what to do about it. Never holds a secret.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { self.message }
}
