//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Rewrites references between resources: source IDs become plan symbols (`${cg:orders}`) at plan time, and
/// symbols become target IDs at run time.
public enum ReferenceRewriter {
    /// Canonical JSON text: sorted keys, no whitespace. Non-JSON text is returned unchanged.
    public static func canonicalJSON(_ text: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
            object is [String: Any] || object is [Any],
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    /// Replaces the consumer-group ID of an AMQP configuration (`{"groupId": "…"}`) with its symbol.
    ///
    /// - Returns: the rewritten, canonical JSON, and the group ID when it had no symbol (a dangling reference).
    public static func rewriteConsumerGroup(
        inConfiguration configuration: String,
        symbols: [String: String]
    ) -> (configuration: String, dangling: String?) {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(configuration.utf8))) as? [String: Any],
            let groupId = object["groupId"] as? String
        else { return (Self.canonicalJSON(configuration), nil) }
        guard let symbol = symbols[groupId] else { return (Self.canonicalJSON(configuration), groupId) }
        object["groupId"] = "${\(symbol)}"
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return (String(decoding: data, as: UTF8.self), nil)
    }

    /// Replaces the destination IDs in a parser script's forwarding calls (`writeAmqp(1001, …)`,
    /// `writeIotTopic(1002, …)`) with their symbols.
    ///
    /// - Returns: the rewritten script, and the IDs that had no symbol.
    public static func rewriteDestinations(
        inScript script: String,
        symbols: [String: String]
    ) -> (
        script: String, dangling: [String]
    ) {
        var dangling: [String] = []
        let pattern = /(write[A-Za-z]*\s*\(\s*)(\d+)/
        let rewritten = script.replacing(pattern) { match in
            let id = String(match.output.2)
            guard let symbol = symbols[id] else {
                dangling.append(id)
                return String(match.output.0)
            }
            return "\(match.output.1)${\(symbol)}"
        }
        return (rewritten, dangling)
    }

    /// The `${…}` references in a text, in order.
    public static func references(in text: String) -> [String] {
        text.matches(of: /\$\{([^}]+)\}/).map { String($0.output.1) }
    }

    /// Replaces every `${symbol}` with the target ID the run recorded for it.
    ///
    /// - Throws: ``MigrationError`` `.invalidPlan` naming the first reference whose step has not produced an ID.
    public static func resolve(_ text: String, ids: [String: String]) throws -> String {
        var missing: String?
        let resolved = text.replacing(/\$\{([^}]+)\}/) { match in
            let symbol = String(match.output.1)
            guard let id = ids[symbol] else {
                missing = missing ?? symbol
                return String(match.output.0)
            }
            return id
        }
        if let missing {
            throw MigrationError(
                .invalidPlan,
                "reference ${\(missing)} has no target ID: step \(missing) must come earlier in the plan and succeed"
            )
        }
        return resolved
    }
}
