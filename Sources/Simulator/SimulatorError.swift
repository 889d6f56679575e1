//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// What went wrong in the simulator: a code to match on, a message a person can act on, and where.
public struct SimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The configuration cannot work (names the file, line and column when it came from one).
        case invalidConfiguration
        /// The AMQP endpoint could not listen.
        case endpointUnavailable
        /// The TLS certificate could not be made or read.
        case certificate
        /// A migration request does not fit the instances' state (unknown device, wrong instance).
        case migration
    }

    /// The kind of failure.
    public let code: Code
    /// What happened and what to do, without any secret.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { self.message }
}
