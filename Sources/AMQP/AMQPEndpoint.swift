//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Where to connect: parsed from `amqp[s]://[user[:password]@]host[:port][/address]`.
public struct AMQPEndpoint: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// Whether the connection uses TLS (`amqps`).
    public var useTLS: Bool
    /// The host name or IP address. It is also the TLS server name (SNI) and the name the certificate must match.
    public var host: String
    /// The TCP port. Default: 5672 for `amqp`, 5671 for `amqps`.
    public var port: Int
    /// The node address after the first `/` (a queue, a topic), or nil.
    public var address: String?
    /// A user name given in the URL, percent-decoded.
    public var user: String?
    /// A password given in the URL, percent-decoded. Never printed.
    public var password: String?

    /// Creates an endpoint from its parts.
    public init(host: String, port: Int? = nil, useTLS: Bool = false, address: String? = nil) {
        self.host = host
        self.useTLS = useTLS
        self.port = port ?? (useTLS ? 5671 : 5672)
        self.address = address
    }

    /// Parses an `amqp://` or `amqps://` URL. The error names the part that is wrong.
    public init(url: String) throws(AMQPError) {
        let scheme: String
        var rest: Substring
        if let range = url.range(of: "://") {
            scheme = String(url[..<range.lowerBound]).lowercased()
            rest = url[range.upperBound...]
        } else {
            throw AMQPError(.invalidConfiguration, "'\(Self.redacted(url))' is not an AMQP URL: expected amqp://host:port/address or amqps://…")
        }
        guard scheme == "amqp" || scheme == "amqps" else {
            throw AMQPError(.invalidConfiguration, "unsupported URL scheme '\(scheme)': use amqp:// or amqps://")
        }
        self.useTLS = scheme == "amqps"
        self.address = nil
        self.user = nil
        self.password = nil
        if let slash = rest.firstIndex(of: "/") {
            let address = String(rest[rest.index(after: slash)...])
            self.address = address.isEmpty ? nil : Self.percentDecoded(address)
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                self.user = Self.percentDecoded(String(credentials[..<colon]))
                self.password = Self.percentDecoded(String(credentials[credentials.index(after: colon)...]))
            } else {
                self.user = Self.percentDecoded(String(credentials))
            }
        }
        var hostPart = rest
        var portText: Substring?
        if hostPart.hasPrefix("[") {
            // IPv6 literal: [::1]:5672
            guard let close = hostPart.firstIndex(of: "]") else {
                throw AMQPError(.invalidConfiguration, "unterminated IPv6 address in '\(Self.redacted(url))'")
            }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portText = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else {
            throw AMQPError(.invalidConfiguration, "missing host in '\(Self.redacted(url))'")
        }
        self.host = String(hostPart)
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw AMQPError(.invalidConfiguration, "invalid port '\(portText)' in '\(Self.redacted(url))': expected 1–65535")
            }
            self.port = port
        } else {
            self.port = self.useTLS ? 5671 : 5672
        }
    }

    /// `host:port`, for messages.
    public var hostAndPort: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }

    /// The URL without credentials, safe to log.
    public var description: String {
        "\(self.useTLS ? "amqps" : "amqp")://\(self.hostAndPort)" + (self.address.map { "/\($0)" } ?? "")
    }

    /// What `dump()` and debuggers show: the password, if any, as `***`.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "useTLS": self.useTLS,
                "host": self.host,
                "port": self.port,
                "address": self.address as Any,
                "user": self.user as Any,
                "password": self.password == nil ? "nil" : "***",
            ]
        )
    }

    /// The URL with any password replaced by `***`, for error messages about URLs that did not parse.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@")
        else { return url }
        let credentials = url[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    private static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
