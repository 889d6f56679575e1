//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A transport failure: the request never produced an HTTP response. A stable `code` to switch on, the URL it
/// went to (the context), and a message a person can act on.
///
/// HTTP error statuses are not errors here; they come back as an ``HTTPResponse``. Neither the message nor
/// ``url`` carries a secret: a password in the URL's user-info and the whole query string (where a signed GET
/// would carry `Signature` and `AccessKeyId`) are replaced by `***` when the error is made.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added, so `switch` over it with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case nameResolution = "name-resolution"
            case connectionRefused = "connection-refused"
            case timeout
            case tls
            case invalidURL = "invalid-url"
            case transport
        }

        private let base: Base
        private init(base: Base) { self.base = base }

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

        /// The code as a short, stable string (for logs and exit messages), e.g. `connection-refused`.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The URL the request went to, without secrets (see the type's documentation).
    public var url: String
    /// libcurl's own explanation.
    public var detail: String

    /// Creates an error; secrets in `url` are masked.
    public init(code: Code, url: String, detail: String) {
        self.code = code
        self.url = Self.redacted(url)
        self.detail = detail
    }

    /// Creates an error, in the argument order of the other errors of this project (``code``, detail, context).
    public init(_ code: Code, _ detail: String, url: String) {
        self.init(code: code, url: url, detail: detail)
    }

    /// What happened and what to do about it, e.g. "cannot reach http://127.0.0.1:1/: Couldn't connect to server —
    /// check the endpoint's host and port, and that the service is up".
    public var message: String {
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

    /// Whether retrying may help: a refused connection, a timeout or an I/O failure yes; a malformed URL, a
    /// host that does not resolve or a certificate that does not verify no.
    public var isTransient: Bool {
        switch self.code {
        case .invalidURL, .nameResolution, .tls: false
        default: true
        }
    }

    /// The ``message``; the code is in ``code`` (printed as is to keep the CLI's one-line errors short).
    public var description: String { self.message }

    /// `url` with the password of its user-info and its query string masked.
    static func redacted(_ url: String) -> String {
        var text = Substring(url)
        var fragmentAndQuery = ""
        if let question = text.firstIndex(of: "?") {
            fragmentAndQuery = "?***"
            text = text[..<question]
        }
        if let scheme = text.firstRange(of: "://") {
            let authorityStart = scheme.upperBound
            let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
            let authority = text[authorityStart..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                let user = userInfo.firstIndex(of: ":").map { userInfo[..<$0] + ":***" } ?? userInfo
                return String(text[..<authorityStart]) + user + String(text[at...]) + fragmentAndQuery
            }
        }
        return String(text) + fragmentAndQuery
    }
}
