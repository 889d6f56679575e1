//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How ``HTTPClient`` connects and how long it waits.
public struct HTTPClientConfiguration: Sendable, Hashable {
    /// Longest time to establish the TCP and TLS connection, in milliseconds. Default: 10 000.
    public var connectTimeoutMilliseconds: Int = 10_000
    /// Longest time for the whole request, connect included, in milliseconds. Default: 30 000.
    public var requestTimeoutMilliseconds: Int = 30_000
    /// Whether TLS verifies the server's certificate and host name against the CA bundle. Default: `true`.
    public var verifyPeer: Bool = true
    /// A PEM CA bundle to verify against instead of the system one. Default: `nil` (system bundle).
    public var caFile: String? = nil
    /// The `User-Agent` header. Default: `iotbridge`.
    public var userAgent: String = "iotbridge"

    /// Creates the default configuration.
    public init() {}
}
