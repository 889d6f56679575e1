//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A secret named by an environment variable: `${IOT_TARGET_SECRET}`. Literal secrets are refused, so they can
/// never be copied into plans, journals or logs.
public struct SecretReference: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The environment variable holding the secret.
    public var variable: String

    /// Parses `${NAME}`.
    ///
    /// - Throws: ``MigrationError`` `.config` for anything else, without echoing the value (it may be a secret).
    public init(parsing text: String, field: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("${"), trimmed.hasSuffix("}"), trimmed.count > 3 else {
            throw MigrationError(
                .config,
                "\(field) must be an environment reference such as ${IOT_SOURCE_SECRET}; literal secrets are refused "
                    + "so that they never land in plans, journals or logs"
            )
        }
        let name = String(trimmed.dropFirst(2).dropLast())
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw MigrationError(.config, "\(field): '\(trimmed)' is not a valid environment variable reference")
        }
        self.variable = name
    }

    /// Decodes from the YAML string `${NAME}`.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text, field: decoder.codingPath.map(\.stringValue).joined(separator: "."))
    }

    /// Encodes back as `${NAME}`, never as the value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }

    /// `${NAME}`.
    public var description: String { "${\(self.variable)}" }

    /// Reads the secret from the environment.
    ///
    /// - Throws: ``MigrationError`` `.config` naming the variable when it is unset or empty.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard let value = environment[self.variable], !value.isEmpty else {
            throw MigrationError(
                .config,
                "environment variable \(self.variable) is not set — export it with the AccessKey secret before running"
            )
        }
        return value
    }
}
