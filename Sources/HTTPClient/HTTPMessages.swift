//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One HTTP request: what ``HTTPClient/execute(_:)`` sends.
public struct HTTPRequest: Sendable, Hashable {
    /// `GET`, `POST`, `DELETE`, …
    public var method: String
    /// The absolute URL, `http://` or `https://`.
    public var url: String
    /// Header fields, sent in this order.
    public var headers: [HTTPHeader]
    /// The body; empty means none.
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// One header field.
public struct HTTPHeader: Sendable, Hashable {
    /// The field name, e.g. `Content-Type`.
    public var name: String
    /// The field value; empty removes a header libcurl would add on its own (e.g. `Expect`).
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// What the server answered.
public struct HTTPResponse: Sendable, Hashable {
    /// The status code, e.g. 200.
    public var status: Int
    /// The body bytes.
    public var body: [UInt8]
    /// The response headers, in arrival order (of the last response, after redirects or 100-continue).
    public var headers: [HTTPHeader]

    /// Creates a response.
    public init(status: Int, body: [UInt8], headers: [HTTPHeader] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// The first value of header `name` (compared case-insensitively).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return self.headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// The body decoded as UTF-8 (invalid bytes replaced).
    public var text: String { String(decoding: self.body, as: UTF8.self) }
}
