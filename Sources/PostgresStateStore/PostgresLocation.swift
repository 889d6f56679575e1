//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Where a PostgreSQL state store lives: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]`.
///
/// The password is kept apart from everything printable: ``description`` (used in logs, errors and `--check`)
/// never contains it. The configuration loader fills it from a `${ENV}` reference; it is never written in a file.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is encrypted, by the names libpq uses for `sslmode`.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP (the default when the URL names no `sslmode`: TLS only when the URL asks for it).
        case disable
        /// TLS if the server offers it, without verifying its certificate; plain TCP otherwise.
        case prefer
        /// TLS or no connection; the certificate is not verified (libpq's meaning of `require`).
        case require
        /// TLS; the certificate must chain to a trusted root (`sslrootcert` or the system's), any host name.
        case verifyCA = "verify-ca"
        /// TLS; the certificate must chain to a trusted root and name the host.
        case verifyFull = "verify-full"
    }

    /// The user to log in as.
    public var user: String
    /// The password; nil for trust or peer authentication.
    public var password: String?
    /// The server's host name or address.
    public var host: String
    /// The server's port. Default: 5432.
    public var port: Int
    /// The database holding the store's tables.
    public var database: String
    /// TLS; ``TLSMode/disable`` unless the URL says otherwise.
    public var tls: TLSMode
    /// A PEM file of trusted roots (`sslrootcert`), for the verifying modes; nil: the system's roots.
    public var rootCertificatePath: String?

    /// Creates a location.
    public init(
        user: String,
        password: String?,
        host: String,
        port: Int = 5432,
        database: String,
        tls: TLSMode = .disable,
        rootCertificatePath: String? = nil
    ) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
        self.rootCertificatePath = rootCertificatePath
    }

    /// Whether `text` names a PostgreSQL store rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Splits the password part off a URL: `postgres://bridge:${PGPASSWORD}@db/iotbridge` gives
    /// `postgres://bridge@db/iotbridge` and `${PGPASSWORD}`. The caller resolves the reference (or refuses a literal).
    public static func separatingPassword(_ url: String) -> (url: String, password: String?) {
        guard let scheme = url.range(of: "://") else { return (url, nil) }
        let rest = url[scheme.upperBound...]
        // The user info ends at the last '@' before the path: a '${…}' reference holds no '@' or '/'.
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return (url, nil) }
        let userInfo = rest[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return (url, nil) }
        let password = String(userInfo[userInfo.index(after: colon)...])
        return (String(url[..<scheme.upperBound]) + userInfo[..<colon] + rest[at...], password)
    }

    /// Parses a URL whose password part, if any, has already been replaced by `password`.
    ///
    /// - Parameters:
    ///   - url: `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=PATH]`, without a password.
    ///   - password: the password (from the environment), or nil.
    /// - Throws: ``PostgresLocationError`` naming what is wrong; it never repeats a password.
    public init(url: String, password: String?) throws {
        guard Self.isURL(url) else {
            throw PostgresLocationError("'\(url)' is not a postgres:// URL")
        }
        guard let components = URLComponents(string: url) else {
            throw PostgresLocationError("'\(url)' is not a valid URL")
        }
        guard components.password == nil else {
            throw PostgresLocationError("the URL must not contain the password itself; write it as ${ENV_VAR}")
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresLocationError("'\(url)' names no user (postgres://USER@HOST:PORT/DATABASE)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresLocationError("'\(url)' names no host (postgres://USER@HOST:PORT/DATABASE)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError("'\(url)' names no database (postgres://USER@HOST:PORT/DATABASE)")
        }
        var tls = TLSMode.disable
        var rootCertificatePath: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    let known = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw PostgresLocationError("sslmode '\(item.value ?? "")' is not one of \(known)")
                }
                tls = mode
            case "sslrootcert":
                guard let path = item.value, !path.isEmpty else {
                    throw PostgresLocationError("sslrootcert needs a file path")
                }
                rootCertificatePath = path
            default:
                throw PostgresLocationError(
                    "unknown URL parameter '\(item.name)' (known: sslmode, sslrootcert)"
                )
            }
        }
        self.init(
            user: user,
            password: password,
            host: host,
            port: components.port ?? 5432,
            database: database,
            tls: tls,
            rootCertificatePath: rootCertificatePath
        )
    }

    /// The URL without the password, e.g. `postgres://bridge@db.internal:5432/iotbridge?sslmode=require`.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        var text = "postgres://\(self.user)@\(host):\(self.port)/\(self.database)"
        if self.tls != .disable { text += "?sslmode=\(self.tls.rawValue)" }
        return text
    }
}

/// A `postgres://` URL that cannot be used; the message never contains a password.
public struct PostgresLocationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { self.message }
}

extension PostgresLocation {
    /// Parses a configured `state:` URL the way `bridge.yaml` does: the password, if any, only as a `${ENV}`
    /// reference (read from `environment`), `${VAR}` elsewhere in the URL replaced too.
    ///
    /// - Parameter key: the configuration key, for the messages (`state`).
    /// - Throws: ``PostgresLocationError`` naming the problem; it never repeats a password.
    public init(configured text: String, key: String = "state", environment: [String: String]) throws {
        let (url, reference) = Self.separatingPassword(text)
        var password: String?
        if let reference {
            guard reference.hasPrefix("${"), reference.hasSuffix("}"), reference.count > 3 else {
                throw PostgresLocationError(
                    "the password in '\(key)' must be an environment reference, as in "
                        + "postgres://USER:${PGPASSWORD}@HOST:5432/DB, never the password itself"
                )
            }
            let variable = String(reference.dropFirst(2).dropLast())
            guard let value = environment[variable] else {
                throw PostgresLocationError("the environment variable \(variable) (the password in '\(key)') is not set")
            }
            password = value
        }
        var resolved = ""
        var rest = Substring(url)
        while let start = rest.range(of: "${") {
            resolved += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw PostgresLocationError("unclosed '${' in '\(url)'")
            }
            let variable = String(rest[start.upperBound..<end])
            guard let value = environment[variable] else {
                throw PostgresLocationError("the environment variable \(variable) (in '\(key)') is not set")
            }
            resolved += value
            rest = rest[rest.index(after: end)...]
        }
        do {
            try self.init(url: resolved + rest, password: password)
        } catch let error as PostgresLocationError {
            throw PostgresLocationError("\(key): \(error.message)")
        }
    }
}
