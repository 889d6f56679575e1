//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A transport failure: the request never produced an HTTP response.
///
/// HTTP error statuses are not errors here; they come back as an ``HTTPResponse``.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, as an extensible set of codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case nameResolution, connectionRefused, timeout, tls, invalidURL, transport
        }

        private let base: Base

        /// The host name did not resolve.
        public static let nameResolution = Code(base: .nameResolution)
        /// Nothing listens at the host and port, or the network is unreachable.
        public static let connectionRefused = Code(base: .connectionRefused)
        /// The connect or request timeout expired.
        public static let timeout = Code(base: .timeout)
        /// TLS failed: handshake, or certificate verification.
        public static let tls = Code(base: .tls)
        /// The URL is malformed or uses an unsupported scheme.
        public static let invalidURL = Code(base: .invalidURL)
        /// Any other transport failure.
        public static let transport = Code(base: .transport)

        /// The code's stable name.
        public var description: String { self.base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The URL the request went to (never carries credentials: signatures travel in the body).
    public var url: String
    /// libcurl's own explanation.
    public var detail: String

    /// Creates an error.
    public init(code: Code, url: String, detail: String) {
        self.code = code
        self.url = url
        self.detail = detail
    }

    /// A sentence a person can act on.
    public var description: String {
        let hint: String
        switch self.code {
        case .nameResolution: hint = "check the host name in the endpoint"
        case .connectionRefused: hint = "check the endpoint's host and port, and that the service is up"
        case .timeout: hint = "the endpoint did not answer in time; check the network or raise the timeout"
        case .tls: hint = "check the CA bundle and that the endpoint's certificate matches its host name"
        case .invalidURL: hint = "use an absolute http:// or https:// URL"
        default: hint = "retry, and check the network"
        }
        return "cannot reach \(self.url): \(self.detail) — \(hint)"
    }
}
