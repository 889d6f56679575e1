//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The top-level keys of the payloads the platform forwards on its own topics (reference §2.3), so a rule
/// that reads a misspelt field of a property post can be told so before any message arrives.
public enum PlatformPayloads {
    /// What kind of platform message a topic filter reads, and the keys its payload has.
    public struct Schema: Sendable, Hashable {
        /// A short name of the message kind, e.g. `property post`.
        public var name: String
        /// The payload's top-level keys.
        public var keys: [String]
    }

    static let propertyPost = [
        "iotId", "productKey", "deviceName", "gmtCreate", "deviceType", "items", "checkFailedData", "requestId",
    ]
    static let eventPost = [
        "identifier", "name", "type", "iotId", "productKey", "deviceName", "gmtCreate", "value", "checkFailedData",
        "time", "requestId",
    ]

    /// The schema of the messages a topic filter reads, or `nil` for custom topics (whose payload is the
    /// device's own).
    public static func schema(for filter: TopicFilter) -> Schema? {
        var text = filter.text
        if text.hasPrefix("/sys/") { text.removeFirst(4) }
        let levels = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        func endsWith(_ suffix: [String]) -> Bool {
            levels.count >= suffix.count + 3 && Array(levels.suffix(suffix.count)) == suffix
        }
        if text.hasPrefix("/as/mqtt/status/") {
            return Schema(
                name: "device status",
                keys: [
                    "status", "iotId", "productKey", "deviceName", "time", "utcTime", "lastTime", "utcLastTime",
                    "clientIp",
                ]
            )
        }
        if endsWith(["thing", "event", "property", "post"])
            || endsWith(["thing", "event", "property", "history", "post"])
        {
            return Schema(name: "property post", keys: Self.propertyPost)
        }
        if levels.count >= 7, levels[3] == "thing", levels[4] == "event", levels.last == "post" {
            if levels[5] == "+" {
                return Schema(
                    name: "property or event post",
                    keys: Array(Set(Self.propertyPost + Self.eventPost)).sorted()
                )
            }
            return Schema(name: "event post", keys: Self.eventPost)
        }
        let fixed: [([String], String, [String])] = [
            (
                ["thing", "lifecycle"], "lifecycle",
                ["action", "iotId", "productKey", "deviceName", "deviceSecret", "messageCreateTime"]
            ),
            (
                ["thing", "topo", "lifecycle"], "topology change",
                ["action", "gwIotId", "gwProductKey", "gwDeviceName", "devices", "messageCreateTime"]
            ),
            (["thing", "list", "found"], "sub-device found", ["gwIotId", "gwProductKey", "gwDeviceName", "devices"]),
            (
                ["thing", "downlink", "reply", "message"], "downlink reply",
                [
                    "gmtCreate", "iotId", "productKey", "deviceName", "requestId", "code", "message", "topic", "data",
                    "checkFailedData",
                ]
            ),
            (
                ["ota", "upgrade"], "OTA upgrade status",
                [
                    "iotId", "productKey", "deviceName", "status", "messageCreateTime", "srcVersion", "destVersion",
                    "desc",
                    "jobId", "taskId",
                ]
            ),
            (
                ["ota", "version", "post"], "OTA version",
                ["iotId", "productKey", "deviceName", "moduleName", "moduleVersion", "messageCreateTime"]
            ),
            (
                ["ota", "job", "status"], "OTA job status",
                ["productKey", "moduleName", "packageId", "jobId", "status", "messageCreateTime"]
            ),
            (
                ["thing", "deviceinfo", "update"], "device tag change",
                ["iotId", "productKey", "deviceName", "value", "messageCreateTime"]
            ),
        ]
        for (suffix, name, keys) in fixed where endsWith(suffix) {
            return Schema(name: name, keys: keys)
        }
        return nil
    }
}

extension SQLRule {
    /// Warnings for fields whose first key the platform's payload for the FROM topic does not have (for
    /// example `itmes.Temperature.value` on a property post), each with the closest key it has. Empty for
    /// custom topics and BINARY rules.
    public func platformFieldWarnings() -> [Diagnostic] {
        guard self.dataType == .json, let schema = PlatformPayloads.schema(for: self.topic) else { return [] }
        var expressions: [Expression] = []
        for item in self.statement.items {
            if case .expression(let expression, _) = item.kind { expressions.append(expression) }
        }
        if let condition = self.statement.condition { expressions.append(condition) }
        var warnings: [Diagnostic] = []
        for root in expressions {
            root.forEach { expression in
                guard case .path(let path) = expression.kind, case .key(let first)? = path.components.first,
                    !schema.keys.contains(first)
                else { return }
                let message =
                    "field '\(first)' is not in the payload of \(schema.name) messages"
                    + (Suggestion.closest(to: first, among: schema.keys).map { "; did you mean '\($0)'?" }
                        ?? " (it has: \(schema.keys.joined(separator: ", ")))")
                warnings.append(
                    self.source.diagnostic(.unknownField, message, at: expression.range, severity: .warning)
                )
            }
        }
        return warnings
    }
}
