//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// What the pre-migration assessment knows about one instance beyond its forwarding configuration: product
/// details, device counts, OTA jobs, connected consumers.
///
/// Every fact is optional. A fact the instance could not tell (an action missing on the legacy public instance, no
/// permission, an export that does not record it) is `nil` with the reason in `unavailable`, so that the assessment
/// asks instead of assuming. In an export file the facts sit under the top-level key `assessment:`.
public struct InstanceFacts: Codable, Sendable, Hashable {
    /// Facts per product.
    public var products: [ProductFacts]
    /// Facts per consumer group.
    public var consumerGroups: [ConsumerGroupFacts]
    /// The instance's online-device specification (target side). No OpenAPI action returns it; an export may.
    public var onlineDeviceSpec: Int?
    /// Instance-wide fact → why it is unknown, e.g. `otaJobs: "ListOTAFirmware failed: …"`.
    public var unavailable: [String: String]

    /// Creates facts.
    public init(
        products: [ProductFacts] = [],
        consumerGroups: [ConsumerGroupFacts] = [],
        onlineDeviceSpec: Int? = nil,
        unavailable: [String: String] = [:]
    ) {
        self.products = products
        self.consumerGroups = consumerGroups
        self.onlineDeviceSpec = onlineDeviceSpec
        self.unavailable = unavailable
    }

    private enum CodingKeys: String, CodingKey { case products, consumerGroups, onlineDeviceSpec, unavailable }

    /// Decodes facts; every key may be left out of a hand-written export.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.products = try c.decodeIfPresent([ProductFacts].self, forKey: .products) ?? []
        self.consumerGroups = try c.decodeIfPresent([ConsumerGroupFacts].self, forKey: .consumerGroups) ?? []
        self.onlineDeviceSpec = try c.decodeIfPresent(Int.self, forKey: .onlineDeviceSpec)
        self.unavailable = try c.decodeIfPresent([String: String].self, forKey: .unavailable) ?? [:]
    }

    /// The facts of one product, or `nil` when nothing was recorded for it.
    public func product(_ productKey: String) -> ProductFacts? {
        self.products.first { $0.productKey == productKey }
    }

    /// The facts of one consumer group, or `nil` when nothing was recorded for it.
    public func consumerGroup(_ id: String) -> ConsumerGroupFacts? {
        self.consumerGroups.first { $0.id == id }
    }
}

/// The names of facts, as keys of `unavailable`.
public enum FactName {
    /// `QueryProduct`: owner, authentication, node type.
    public static let product = "product"
    /// `QueryDeviceStatistics` / `QueryProduct`: device counts.
    public static let deviceCount = "deviceCount"
    /// `ListOTAFirmware` + `ListOTAJobByFirmware`: update batches.
    public static let otaJobs = "otaJobs"
    /// `QueryConsumerGroupStatus`: connected clients.
    public static let connectedClients = "connectedClients"
    /// The target's online-device specification.
    public static let onlineDeviceSpec = "onlineDeviceSpec"
}

/// What `QueryProduct`, `QueryDeviceStatistics` and the OTA actions tell about one product.
public struct ProductFacts: Codable, Sendable, Hashable {
    /// The product.
    public var productKey: String
    /// `ProductName`, if known.
    public var name: String?
    /// Devices of the product (`deviceCount`).
    public var deviceCount: Int?
    /// Devices online now (`onlineCount`).
    public var onlineCount: Int?
    /// `Owner`: false when the product is authorized to this account by another one.
    public var owner: Bool?
    /// `AuthType`: `secret`, `id2` or `x509`.
    public var authType: String?
    /// `Id2`: whether the product uses ID² authentication.
    public var id2: Bool?
    /// `NodeType`: 0 device, 1 gateway.
    public var nodeType: Int?
    /// OTA update batches of the product's firmware.
    public var otaJobs: [OTAJobFacts]?
    /// Fact → why it is unknown.
    public var unavailable: [String: String]

    /// Creates facts.
    public init(
        productKey: String,
        name: String? = nil,
        deviceCount: Int? = nil,
        onlineCount: Int? = nil,
        owner: Bool? = nil,
        authType: String? = nil,
        id2: Bool? = nil,
        nodeType: Int? = nil,
        otaJobs: [OTAJobFacts]? = nil,
        unavailable: [String: String] = [:]
    ) {
        self.productKey = productKey
        self.name = name
        self.deviceCount = deviceCount
        self.onlineCount = onlineCount
        self.owner = owner
        self.authType = authType
        self.id2 = id2
        self.nodeType = nodeType
        self.otaJobs = otaJobs
        self.unavailable = unavailable
    }

    private enum CodingKeys: String, CodingKey {
        case productKey, name, deviceCount, onlineCount, owner, authType, id2, nodeType, otaJobs, unavailable
    }

    /// Decodes facts; only `productKey` is required.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            productKey: try c.decode(String.self, forKey: .productKey),
            name: try c.decodeIfPresent(String.self, forKey: .name),
            deviceCount: try c.decodeIfPresent(Int.self, forKey: .deviceCount),
            onlineCount: try c.decodeIfPresent(Int.self, forKey: .onlineCount),
            owner: try c.decodeIfPresent(Bool.self, forKey: .owner),
            authType: try c.decodeIfPresent(String.self, forKey: .authType),
            id2: try c.decodeIfPresent(Bool.self, forKey: .id2),
            nodeType: try c.decodeIfPresent(Int.self, forKey: .nodeType),
            otaJobs: try c.decodeIfPresent([OTAJobFacts].self, forKey: .otaJobs),
            unavailable: try c.decodeIfPresent([String: String].self, forKey: .unavailable) ?? [:]
        )
    }
}

/// One OTA update batch (`ListOTAJobByFirmware`'s `SimpleOTAJobInfo`).
public struct OTAJobFacts: Codable, Sendable, Hashable {
    /// `JobId`.
    public var jobId: String
    /// `FirmwareId`, if known.
    public var firmwareId: String?
    /// `JobStatus`: `PLANNED`, `IN_PROGRESS`, `COMPLETE` or `CANCELED`.
    public var status: String
    /// `JobType`: `VERFIY_FIRMWARE` (sic) or `UPGRADE_FIRMWARE`, if known.
    public var type: String?

    /// Creates a job.
    public init(jobId: String, firmwareId: String? = nil, status: String, type: String? = nil) {
        self.jobId = jobId
        self.firmwareId = firmwareId
        self.status = status
        self.type = type
    }

    /// Whether the batch still runs or is scheduled: it must be stopped (or finish) before the product moves.
    public var isActive: Bool { self.status == "IN_PROGRESS" || self.status == "PLANNED" }
}

/// What `QueryConsumerGroupStatus` tells about one consumer group.
public struct ConsumerGroupFacts: Codable, Sendable, Hashable {
    /// The group ID.
    public var id: String
    /// The `ClientId`s connected now; `nil` when unknown.
    public var connectedClients: [String]?
    /// Why `connectedClients` is unknown.
    public var unavailable: String?

    /// Creates facts.
    public init(id: String, connectedClients: [String]? = nil, unavailable: String? = nil) {
        self.id = id
        self.connectedClients = connectedClients
        self.unavailable = unavailable
    }
}
