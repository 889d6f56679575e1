//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One item of the platform's pre-migration checklist: a stable ID, the documented reason and where it is written.
public struct ChecklistEntry: Sendable, Hashable {
    /// The stable ID, used in reports and in `--answer CHECK=yes|no`.
    public var id: String
    /// The documented reason, in one or two sentences.
    public var reason: String
    /// Where the reason is documented.
    public var source: String
    /// For items the API cannot check: the question the operator answers.
    public var question: String?
}

/// The platform's checklist for a legacy public → Enterprise Edition instance migration, as published in the
/// "usage notes" (使用前必读), "usage notes on features after a migration" and "typical migration scenarios" pages,
/// and reference §7. Only the facts are taken from those pages; the wording is ours.
public enum Checklist {
    static let usageNotes = "https://www.alibabacloud.com/help/en/iot/user-guide/usage-notes"
    static let afterMigration =
        "https://www.alibabacloud.com/help/en/iot/user-guide/usage-notes-on-features-after-a-migration"
    static let scenarios = "https://www.alibabacloud.com/help/en/iot/user-guide/typical-migration-scenarios"
    static let serverExample =
        "https://www.alibabacloud.com/help/en/iot/user-guide/example-on-how-to-configure-a-server-that-is-related-to-instance-migration"

    /// The devices a product may migrate, unless a ticket raises it.
    public static let maxDevicesPerProduct = 500_000
    /// Device-distribution and migration tasks that may run at the same time.
    public static let maxConcurrentTasks = 5

    /// The source must be a legacy public instance.
    public static let sourceLegacy = ChecklistEntry(
        id: "instance.source-legacy",
        reason: "Instance migration only moves products from a legacy (previous-version) public instance; a "
            + "new-version public instance is upgraded in place instead.",
        source: usageNotes
    )
    /// The target must be an Enterprise Edition instance in the same region.
    public static let targetEnterprise = ChecklistEntry(
        id: "instance.target-enterprise",
        reason: "The destination must be a Standard Enterprise Edition instance of the same account in the same "
            + "region; a product and its devices migrate to exactly one such instance.",
        source: usageNotes
    )
    /// Authorized products cannot migrate.
    public static let authorized = ChecklistEntry(
        id: "product.authorized",
        reason: "Authorized products and devices cannot migrate: Enterprise Edition instances do not support "
            + "product and device authorization.",
        source: usageNotes,
        question: "Is this product authorized to this account by another account?"
    )
    /// Only device-secret and pre-registered product-secret authentication migrate; ID² needs the whitelist.
    public static let authentication = ChecklistEntry(
        id: "product.authentication",
        reason: "Only unique-certificate-per-device and pre-registered unique-certificate-per-product devices "
            + "migrate; ID² devices only for whitelisted accounts (ticket).",
        source: usageNotes,
        question: "Do the devices of this product authenticate with something other than a device secret "
            + "(X.509, or ID² without the whitelist)?"
    )
    /// Gateways and their sub-devices move together.
    public static let gateway = ChecklistEntry(
        id: "product.gateway",
        reason: "Topology is kept: a gateway and its sub-devices must migrate to the same Enterprise instance.",
        source: usageNotes,
        question: "Is this a gateway product whose sub-devices belong to products not in this migration?"
    )
    /// Products using Data Service cannot migrate.
    public static let dataService = ChecklistEntry(
        id: "product.data-service",
        reason: "Products and devices that use the Data Service feature cannot migrate.",
        source: usageNotes,
        question: "Does any product of this migration use Data Service?"
    )
    /// Products with the video service cannot migrate.
    public static let video = ChecklistEntry(
        id: "product.video",
        reason: "Products and devices with the video service activated cannot migrate.",
        source: usageNotes,
        question: "Does any product of this migration have the video service activated?"
    )
    /// Products also connected to Link IoT Edge or Living Link cannot migrate.
    public static let edge = ChecklistEntry(
        id: "product.edge-or-living-link",
        reason: "Products and devices also connected to Link IoT Edge or the Living Link platform cannot migrate.",
        source: usageNotes,
        question: "Is any product of this migration also connected to Link IoT Edge or Living Link?"
    )
    /// NB-IoT devices cannot migrate.
    public static let nbIoT = ChecklistEntry(
        id: "device.nb-iot",
        reason: "Devices that use the NB-IoT network protocol cannot migrate.",
        source: afterMigration,
        question: "Does any product of this migration have NB-IoT devices?"
    )
    /// Devices distributed within the instance cannot migrate.
    public static let distributed = ChecklistEntry(
        id: "device.distributed",
        reason: "Devices distributed within the instance (device distribution) cannot migrate.",
        source: usageNotes,
        question: "Were any devices of these products distributed within the instance?"
    )
    /// Devices must reconnect by themselves.
    public static let reconnect = ChecklistEntry(
        id: "device.reconnect",
        reason: "An online device is forced offline when it migrates and must reconnect by itself; Link SDK devices "
            + "find the Enterprise instance on their own, other devices must change their endpoint.",
        source: usageNotes,
        question: "Do all devices reconnect by themselves to the Enterprise instance (Link SDK, or own reconnect "
            + "and endpoint logic)?"
    )
    /// Devices per product against the limit.
    public static let devicesPerProduct = ChecklistEntry(
        id: "capacity.devices-per-product",
        reason: "At most 500,000 devices of one product can migrate; a ticket raises the limit.",
        source: usageNotes
    )
    /// The target's online-device specification against the devices to migrate.
    public static let targetOnlineDevices = ChecklistEntry(
        id: "capacity.target-online-devices",
        reason: "The Enterprise instance's online-device specification must exceed the number of devices to migrate.",
        source: usageNotes,
        question: "Does the target's online-device specification exceed the number of devices to migrate?"
    )
    /// Concurrent migration tasks.
    public static let concurrentTasks = ChecklistEntry(
        id: "capacity.concurrent-tasks",
        reason: "At most 5 device-distribution and instance-migration tasks run at the same time; one migration "
            + "task covers one product.",
        source: usageNotes
    )
    /// OTA update batches must be stopped first.
    public static let otaJobs = ChecklistEntry(
        id: "ota.active-jobs",
        reason: "OTA update batches of a product still running or scheduled must be stopped (or finish) before the "
            + "product migrates: its devices are forced offline and change instance mid-update.",
        source: usageNotes,
        question: "Does this product have OTA update batches that are running or scheduled?"
    )
    /// MNS subscriptions are not supported on Enterprise Edition.
    public static let mns = ChecklistEntry(
        id: "subscription.mns",
        reason: "Enterprise Edition instances do not support MNS server-side subscriptions; use AMQP server-side "
            + "subscriptions instead.",
        source: scenarios
    )
    /// HTTP/2 subscriptions become AMQP.
    public static let http2 = ChecklistEntry(
        id: "subscription.http2",
        reason: "The HTTP/2 server-subscription SDK is a legacy channel; on the Enterprise instance server-side "
            + "subscriptions are AMQP.",
        source: scenarios
    )
    /// Connected AMQP consumers need a client on the new consumer group.
    public static let connectedClients = ChecklistEntry(
        id: "consumer-group.connected-clients",
        reason: "AMQP subscriptions move with the product, but the Enterprise instance has its own consumer groups "
            + "and endpoint: clients connected to the legacy group now keep receiving only what stays on the legacy "
            + "instance.",
        source: scenarios,
        question: "Are clients connected to this consumer group now?"
    )
    /// Rules and destinations naming consumer groups by ID.
    public static let forwardingToGroup = ChecklistEntry(
        id: "forwarding.consumer-group-id",
        reason: "Forwarding rules and destinations name AMQP consumer groups by ID, and the consumer groups of the "
            + "Enterprise instance have new IDs.",
        source: scenarios
    )
    /// API callers must pass the Enterprise IotInstanceId.
    public static let apiInstanceId = ChecklistEntry(
        id: "api.iot-instance-id",
        reason: "After migration every cloud API call about a migrated device goes to the Enterprise instance: pass "
            + "its IotInstanceId (Pub with an Enterprise instance ID may need a ticket).",
        source: serverExample
    )
    /// Consumers switch to the new consumer group ID.
    public static let newGroupId = ChecklistEntry(
        id: "consumer.new-group-id",
        reason: "Consumers of the Enterprise instance connect with its consumer-group IDs and its AMQP endpoint.",
        source: scenarios
    )

    /// Every entry, for documentation and `--answer` checks.
    public static let all: [ChecklistEntry] = [
        sourceLegacy, targetEnterprise, authorized, authentication, gateway, dataService, video, edge, nbIoT,
        distributed, reconnect, devicesPerProduct, targetOnlineDevices, concurrentTasks, otaJobs, mns, http2,
        connectedClients, forwardingToGroup, apiInstanceId, newGroupId,
    ]
}
