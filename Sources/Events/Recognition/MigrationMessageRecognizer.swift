//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import StateStore

/// Recognises the platform's instance-migration messages (reference §7.3) in the merged stream.
///
/// The platform documents little of them: `status` (`GRAY_EXECUTING`, `ALL_EXECUTING` seen), `targetInstance`, and
/// `successDevices`. Our tolerant choices (also in the README):
/// - Without a topic filter, a message is a migration message when its payload is a JSON object whose `status` and
///   `targetInstance` are strings; the device list is optional, so a state change without devices still counts.
///   With a filter, every message on a matching topic is one, and one that is not such an object is malformed.
/// - Rollback statuses were never published: any status containing `ROLLBACK` is a rollback.
/// - Device items are objects with `productKey` and `deviceName`, or `PK/DN` strings; a bad item is counted and
///   skipped, the good ones still count. The list is `successDevices`, else `devices`.
/// - Every member we do not interpret is kept (``RecognizedMigrationMessage/unknownMembers``).
public struct MigrationMessageRecognizer: Sendable {
    /// The topics that carry migration messages; `nil`: recognise by payload shape.
    public var topicFilter: TopicFilter?

    /// Creates a recogniser.
    public init(topicFilter: TopicFilter? = nil) {
        self.topicFilter = topicFilter
    }

    /// What a message is.
    public enum Outcome: Sendable, Hashable {
        /// Not a migration message (ordinary device data).
        case notMigration
        /// A migration message.
        case migration(RecognizedMigrationMessage)
        /// Meant as a migration message, but unusable: why.
        case malformed(String)
    }

    /// The members the recogniser interprets.
    static let knownMembers: Set<String> = [
        "status", "targetInstance", "sourceInstance", "productKey", "successDevices", "devices",
    ]

    /// Classifies one message.
    public func recognize(topic: String, payload: [UInt8]) -> Outcome {
        if let filter = self.topicFilter, !filter.matches(topic) { return .notMigration }
        let filtered = self.topicFilter != nil
        // Cheap rejection first: most payloads of the stream are device data, not migration messages.
        guard filtered || Self.mayBeMigration(payload) else { return .notMigration }
        guard case .object(let object)? = try? JSONParser.parse(payload) else {
            return filtered ? .malformed("payload is not a JSON object") : .notMigration
        }
        guard case .string(let status)? = object["status"], !status.isEmpty else {
            return filtered ? .malformed("member \"status\" is missing or not a non-empty string") : .notMigration
        }
        guard case .string(let targetInstance)? = object["targetInstance"] else {
            return filtered ? .malformed("member \"targetInstance\" is missing or not a string") : .notMigration
        }
        var productKey: String?
        if case .string(let text)? = object["productKey"], !text.isEmpty { productKey = text }
        var sourceInstance: String?
        if case .string(let text)? = object["sourceInstance"] { sourceInstance = text }

        var devices: [DeviceKey] = []
        var badItems = 0
        switch object["successDevices"] ?? object["devices"] {
        case nil, .null?:
            break
        case .array(let items)?:
            for item in items {
                if let device = Self.device(item, productKey: productKey) {
                    devices.append(device)
                } else {
                    badItems += 1
                }
            }
        case let other?:
            return .malformed("the device list is a \(other.typeName), not an array")
        }
        let kind: RecognizedMigrationMessage.Kind =
            if status.uppercased().contains("ROLLBACK") {
                .rolledBack
            } else if status == "GRAY_EXECUTING" || status == "ALL_EXECUTING" {
                .migrated
            } else {
                .other
            }
        if kind != .other, targetInstance.isEmpty {
            return .malformed("status \(status) with an empty targetInstance")
        }
        var unknown = JSONObject()
        for member in object.members where !Self.knownMembers.contains(member.key) {
            unknown.updateValue(member.value, forKey: member.key)
        }
        return .migration(
            RecognizedMigrationMessage(
                status: status,
                kind: kind,
                targetInstance: targetInstance,
                sourceInstance: sourceInstance,
                productKey: productKey,
                devices: devices,
                badItems: badItems,
                unknownMembers: unknown
            )
        )
    }

    /// Whether the payload mentions both keys at all; skips parsing the JSON of ordinary messages.
    static func mayBeMigration(_ payload: [UInt8]) -> Bool {
        guard payload.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{")
        else { return false }
        return Self.contains(payload, Self.statusKey) && Self.contains(payload, Self.targetKey)
    }

    private static let statusKey = Array("\"status\"".utf8)
    private static let targetKey = Array("\"targetInstance\"".utf8)

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return true
            }
            index += 1
        }
        return false
    }

    private static func device(_ item: JSONValue, productKey: String?) -> DeviceKey? {
        switch item {
        case .string(let text):
            return DeviceKey(parsing: text)
        case .object(let object):
            guard case .string(let name)? = object["deviceName"], !name.isEmpty, !name.contains("/") else {
                return nil
            }
            if case .string(let product)? = object["productKey"], !product.isEmpty {
                return DeviceKey(productKey: product, deviceName: name)
            }
            return productKey.map { DeviceKey(productKey: $0, deviceName: name) }
        default:
            return nil
        }
    }
}

/// A platform migration message, read.
public struct RecognizedMigrationMessage: Sendable, Hashable {
    /// What the status means.
    public enum Kind: Sendable, Hashable {
        /// `GRAY_EXECUTING` or `ALL_EXECUTING`: the listed devices now live on the target.
        case migrated
        /// A rollback: the listed devices are back on their source.
        case rolledBack
        /// Any other status: passed on as `migration.state-changed`.
        case other
    }

    /// The platform's status, as sent.
    public var status: String
    /// What it means.
    public var kind: Kind
    /// The Enterprise instance.
    public var targetInstance: String
    /// The source instance, when the message names it.
    public var sourceInstance: String?
    /// The product, when the message names it.
    public var productKey: String?
    /// The devices listed.
    public var devices: [DeviceKey]
    /// Device items that were neither `{productKey, deviceName}` objects nor `PK/DN` strings.
    public var badItems: Int
    /// The members not interpreted, in their order.
    public var unknownMembers: JSONObject
}
