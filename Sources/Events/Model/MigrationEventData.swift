//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// The `data` of a migration-status event. Every member but `migrationId` and `sequence` is optional: a device
/// event carries the device and the instances, a resource event the resource's old and new IDs.
public struct MigrationEventData: Sendable, Hashable {
    /// The migration: a plan's migration ID, or for platform messages `platform:<targetInstance>:<productKey>`.
    public var migrationId: String
    /// Monotonic per migration, from 1, without gaps (the outbox assigns it).
    public var sequence: Int64
    /// The device's product key (device events), or the product a platform message concerns.
    public var productKey: String?
    /// The device's name (device events).
    public var deviceName: String?
    /// The instance the device or resource moves from; empty for the legacy public instance.
    public var fromInstanceId: String?
    /// The instance it moves to.
    public var toInstanceId: String?
    /// The kind of resource (`consumerGroup`, `subscription`, `rule`, `parser`), for resource events.
    public var resourceKind: String?
    /// The resource's name, for people.
    public var resourceName: String?
    /// The resource's ID on the source instance.
    public var oldId: String?
    /// The resource's ID on the target instance.
    public var newId: String?
    /// The platform status (`GRAY_EXECUTING`, …) or the journal step state that caused the event.
    public var status: String?
    /// The members of the platform message that iotbridge does not interpret, kept as they came.
    public var platform: JSONObject?

    /// Creates data.
    public init(
        migrationId: String,
        sequence: Int64 = 0,
        productKey: String? = nil,
        deviceName: String? = nil,
        fromInstanceId: String? = nil,
        toInstanceId: String? = nil,
        resourceKind: String? = nil,
        resourceName: String? = nil,
        oldId: String? = nil,
        newId: String? = nil,
        status: String? = nil,
        platform: JSONObject? = nil
    ) {
        self.migrationId = migrationId
        self.sequence = sequence
        self.productKey = productKey
        self.deviceName = deviceName
        self.fromInstanceId = fromInstanceId
        self.toInstanceId = toInstanceId
        self.resourceKind = resourceKind
        self.resourceName = resourceName
        self.oldId = oldId
        self.newId = newId
        self.status = status
        self.platform = platform
    }

    /// The optional members in their JSON order, `nil` ones left out.
    var optionalMembers: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        func add(_ key: String, _ value: String?) {
            if let value { members.append((key, .string(value))) }
        }
        add("productKey", self.productKey)
        add("deviceName", self.deviceName)
        add("fromInstanceId", self.fromInstanceId)
        add("toInstanceId", self.toInstanceId)
        add("resourceKind", self.resourceKind)
        add("resourceName", self.resourceName)
        add("oldId", self.oldId)
        add("newId", self.newId)
        add("status", self.status)
        if let platform = self.platform {
            members.append(("platform", .object(platform)))
        }
        return members
    }

    /// The whole `data` object: `migrationId` and `sequence` first.
    public var jsonObject: JSONObject {
        JSONObject(
            [("migrationId", JSONValue.string(self.migrationId)), ("sequence", .int(Int(self.sequence)))]
                + self.optionalMembers
        )
    }

    /// Reads `data` back; `nil` when `migrationId` or `sequence` is missing or a member has the wrong type.
    public init?(_ object: JSONObject) {
        guard case .string(let migrationId)? = object["migrationId"], case .int(let sequence)? = object["sequence"]
        else { return nil }
        self.init(migrationId: migrationId, sequence: Int64(sequence))
        func string(_ key: String) -> String?? {
            switch object[key] {
            case nil: .some(nil)
            case .string(let value)?: .some(value)
            default: nil
            }
        }
        guard let productKey = string("productKey"), let deviceName = string("deviceName"),
            let fromInstanceId = string("fromInstanceId"), let toInstanceId = string("toInstanceId"),
            let resourceKind = string("resourceKind"), let resourceName = string("resourceName"),
            let oldId = string("oldId"), let newId = string("newId"), let status = string("status")
        else { return nil }
        self.productKey = productKey
        self.deviceName = deviceName
        self.fromInstanceId = fromInstanceId
        self.toInstanceId = toInstanceId
        self.resourceKind = resourceKind
        self.resourceName = resourceName
        self.oldId = oldId
        self.newId = newId
        self.status = status
        switch object["platform"] {
        case nil: self.platform = nil
        case .object(let platform)?: self.platform = platform
        default: return nil
        }
    }
}
