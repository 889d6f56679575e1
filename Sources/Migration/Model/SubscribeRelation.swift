//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The channel a subscribe relation pushes to.
public enum SubscriptionType: String, Codable, Sendable, Hashable, CaseIterable {
    /// AMQP server-side subscription to consumer groups.
    case amqp = "AMQP"
    /// MNS queue `aliyun-iot-${productKey}`; not supported on Enterprise Edition.
    case mns = "MNS"
    /// The legacy HTTP/2 server-subscription SDK; not supported on Enterprise Edition.
    case http2 = "HTTP2"
}

/// One boolean flag of `CreateSubscribeRelation` (reference §2.2); the set holds the flags that are true.
public enum SubscriptionFlag: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    /// Device upstream messages (custom and TSL topics).
    case deviceData = "DeviceDataFlag"
    /// `/as/mqtt/status/${productKey}/${deviceName}`.
    case deviceStatusChange = "DeviceStatusChangeFlag"
    /// `/${productKey}/${deviceName}/thing/lifecycle`.
    case deviceLifeCycle = "DeviceLifeCycleFlag"
    /// `/${productKey}/${deviceName}/thing/topo/lifecycle` (gateways).
    case deviceTopoLifeCycle = "DeviceTopoLifeCycleFlag"
    /// `/${productKey}/${deviceName}/thing/list/found` (gateways).
    case foundDeviceList = "FoundDeviceListFlag"
    /// TSL history data.
    case thingHistory = "ThingHistoryFlag"
    /// `/${productKey}/${deviceName}/ota/upgrade`.
    case otaEvent = "OtaEventFlag"
    /// OTA module versions; AMQP only.
    case otaVersion = "OtaVersionFlag"
    /// OTA job status; AMQP only.
    case otaJob = "OtaJobFlag"
    /// Device tag changes; AMQP only.
    case deviceTag = "DeviceTagFlag"

    /// Flags only an AMQP relation may carry.
    public var isAMQPOnly: Bool { self == .otaVersion || self == .otaJob || self == .deviceTag }

    /// Orders flags as the reference lists them, so plans are stable.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        Self.allCases.firstIndex(of: lhs)! < Self.allCases.firstIndex(of: rhs)!
    }
}

/// A subscribe relation: which messages of one product go to one channel (reference §6.2).
public struct SubscribeRelation: Codable, Sendable, Hashable {
    /// The product the relation covers.
    public var productKey: String
    /// AMQP, MNS or HTTP/2.
    public var type: SubscriptionType
    /// The flags that are true, in reference order. At least one must be set.
    public var flags: [SubscriptionFlag]
    /// `SubscribeFlags`, a JSON object of extra flags such as `{"jt808DeviceDataFlag": true}`.
    public var subscribeFlags: String?
    /// Consumer groups an AMQP relation delivers to.
    public var consumerGroupIds: [String]
    /// `MnsConfiguration` JSON of an MNS relation.
    public var mnsConfiguration: String?

    /// Creates a relation; flags are sorted into reference order.
    public init(
        productKey: String,
        type: SubscriptionType,
        flags: [SubscriptionFlag],
        subscribeFlags: String? = nil,
        consumerGroupIds: [String] = [],
        mnsConfiguration: String? = nil
    ) {
        self.productKey = productKey
        self.type = type
        self.flags = Array(Set(flags)).sorted()
        self.subscribeFlags = subscribeFlags
        self.consumerGroupIds = consumerGroupIds
        self.mnsConfiguration = mnsConfiguration
    }

    /// The queue an MNS relation feeds: the platform names it after the product (reference §3.1).
    public var mnsQueueName: String? { self.type == .mns ? "aliyun-iot-\(self.productKey)" : nil }

    private enum CodingKeys: String, CodingKey {
        case productKey, type, flags, subscribeFlags, consumerGroupIds, mnsConfiguration
    }

    /// Decodes a relation; `flags` and `consumerGroupIds` may be left out of hand-written files.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            productKey: try container.decode(String.self, forKey: .productKey),
            type: try container.decode(SubscriptionType.self, forKey: .type),
            flags: try container.decodeIfPresent([SubscriptionFlag].self, forKey: .flags) ?? [],
            subscribeFlags: try container.decodeIfPresent(String.self, forKey: .subscribeFlags),
            consumerGroupIds: try container.decodeIfPresent([String].self, forKey: .consumerGroupIds) ?? [],
            mnsConfiguration: try container.decodeIfPresent(String.self, forKey: .mnsConfiguration)
        )
    }
}
