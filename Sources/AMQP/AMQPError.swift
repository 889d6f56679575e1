//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An error from the AMQP layer: a stable `code` to switch on, a message a person can act on, and the
/// context it happened in. The message never contains a password or an AccessKey secret.
public struct AMQPError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added, so `switch` over it with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectionRefused = "connection-refused"
            case nameResolution = "name-resolution"
            case tlsVerification = "tls-verification"
            case authentication
            case remoteClose = "remote-close"
            case idleTimeout = "idle-timeout"
            case linkDetached = "link-detached"
            case overloaded
            case timeout
            case transport
            case invalidConfiguration = "invalid-configuration"
            case closed
            case protocolViolation = "protocol-violation"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a short, stable string (for logs and exit messages).
        public var description: String { self.base.rawValue }

        /// The TCP connection was refused: nothing listens at host:port.
        public static let connectionRefused = Code(.connectionRefused)
        /// The host name could not be resolved.
        public static let nameResolution = Code(.nameResolution)
        /// The TLS handshake failed, usually because the peer's certificate could not be verified.
        public static let tlsVerification = Code(.tlsVerification)
        /// SASL authentication was refused (`amqp:unauthorized-access`).
        public static let authentication = Code(.authentication)
        /// The peer closed the connection with an error condition.
        public static let remoteClose = Code(.remoteClose)
        /// No frame arrived within the idle timeout.
        public static let idleTimeout = Code(.idleTimeout)
        /// A link was detached by the peer or lost with its connection.
        public static let linkDetached = Code(.linkDetached)
        /// A bounded queue is full; the caller is producing faster than the peer accepts.
        public static let overloaded = Code(.overloaded)
        /// An operation did not complete within its deadline.
        public static let timeout = Code(.timeout)
        /// Any other transport failure (I/O error, framing error).
        public static let transport = Code(.transport)
        /// The configuration cannot work (bad URL, missing certificate file, …).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The connection, link or engine was closed by this process.
        public static let closed = Code(.closed)
        /// The peer broke a protocol rule this client relies on.
        public static let protocolViolation = Code(.protocolViolation)
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened and what to do about it, e.g. "authentication failed for clientId … at host:5671 — check
    /// the AccessKey pair and the consumer group".
    public var message: String
    /// The AMQP condition the peer or Proton reported, if any.
    public var condition: AMQPCondition?
    /// The source file that raised the error (for bug reports).
    public var file: String
    /// The source line that raised the error.
    public var line: UInt

    /// Creates an error; `file` and `line` default to the call site.
    public init(
        _ code: Code,
        _ message: String,
        condition: AMQPCondition? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.condition = condition
        self.file = file
        self.line = line
    }

    /// Whether reconnecting may help: I/O trouble yes, a refused login or bad configuration no.
    public var isTransient: Bool {
        switch self.code {
        case .authentication, .tlsVerification, .invalidConfiguration, .closed, .protocolViolation:
            return false
        default:
            return true
        }
    }

    public var description: String {
        var text = "AMQPError(\(self.code)): \(self.message)"
        if let condition = self.condition {
            text += " [\(condition.name)"
            if !condition.description.isEmpty { text += ": \(condition.description)" }
            text += "]"
        }
        return text
    }
}
