//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// How MNS and HTTP/2 subscriptions become AMQP ones, and what that changes for their consumers (reference §2.2,
/// §3).
public enum SubscriptionTranslation {
    /// One row of the envelope mapping: a field of the legacy message and where its content goes in AMQP.
    public struct FieldMapping: Sendable, Hashable {
        /// The legacy field.
        public var legacy: String
        /// The AMQP 1.0 message part that carries it now.
        public var amqp: String
    }

    /// MNS JSON envelope → AMQP message (reference §3.1).
    public static let mnsEnvelope: [FieldMapping] = [
        FieldMapping(legacy: "base64decode(payload)", amqp: "body (data section, raw bytes; no base64)"),
        FieldMapping(
            legacy: "topic",
            amqp: "application property `topic` (status messages, whose MNS topic was null, carry "
                + "/as/mqtt/status/${productKey}/${deviceName})"
        ),
        FieldMapping(legacy: "messageid", amqp: "application property `messageId`"),
        FieldMapping(legacy: "timestamp", amqp: "application property `generateTime` (epoch milliseconds)"),
        FieldMapping(legacy: "messagetype", amqp: "not sent: derive it from the topic (see messageType(forTopic:))"),
    ]

    /// HTTP/2 SDK message → AMQP message (reference §3.2).
    public static let http2Message: [FieldMapping] = [
        FieldMapping(legacy: "payload", amqp: "body (data section)"),
        FieldMapping(legacy: "topic", amqp: "application property `topic`"),
        FieldMapping(legacy: "messageId", amqp: "application property `messageId`"),
        FieldMapping(legacy: "qos", amqp: "not sent: AMQP delivers at least once until the message is accepted"),
        FieldMapping(legacy: "(none)", amqp: "application property `generateTime` is new (epoch milliseconds)"),
    ]

    /// MNS `messagetype` → the subscription flag that produces it.
    public static let messageTypeFlags: [String: SubscriptionFlag] = [
        "upload": .deviceData,
        "status": .deviceStatusChange,
        "device_lifecycle": .deviceLifeCycle,
        "topo_lifecycle": .deviceTopoLifeCycle,
        "topo_listfound": .foundDeviceList,
        "thing_history": .thingHistory,
        "ota_event": .otaEvent,
    ]

    /// The MNS `messagetype` an AMQP consumer should infer from a forwarding topic (reference §3.1's last row).
    public static func messageType(forTopic topic: String) -> String {
        if topic.hasPrefix("/as/mqtt/status/") { return "status" }
        if topic.hasSuffix("/thing/topo/lifecycle") { return "topo_lifecycle" }
        if topic.hasSuffix("/thing/lifecycle") { return "device_lifecycle" }
        if topic.hasSuffix("/thing/list/found") { return "topo_listfound" }
        if topic.hasSuffix("/history/post") { return "thing_history" }
        if topic.hasSuffix("/ota/upgrade") { return "ota_event" }
        return "upload"
    }

    /// The AMQP relation a legacy one becomes: same product and flags, on the given consumer groups.
    public static func translate(_ relation: SubscribeRelation, consumerGroups: [String]) -> SubscriptionSpec {
        SubscriptionSpec(
            productKey: relation.productKey,
            flags: relation.flags,
            subscribeFlags: relation.subscribeFlags,
            consumerGroups: consumerGroups
        )
    }

    /// A paragraph for the plan: what the consumer of a translated subscription must change.
    public static func consumerImpact(from type: SubscriptionType, productKey: String, groupName: String) -> String {
        switch type {
        case .mns:
            let fields = Self.mnsEnvelope.map { "\($0.legacy) -> \($0.amqp)" }.joined(separator: "; ")
            return "\(productKey): MNS queue aliyun-iot-\(productKey) is replaced by AMQP consumer group \(groupName). "
                + "Consumers stop popping and deleting MNS messages and instead connect over AMQP 1.0 (TLS, port "
                + "5671, SASL PLAIN aksign login with consumerGroupId of \(groupName)) and accept each message within "
                + "30 s. The JSON envelope is gone: \(fields)."
        case .http2:
            let fields = Self.http2Message.map { "\($0.legacy) -> \($0.amqp)" }.joined(separator: "; ")
            return "\(productKey): the HTTP/2 SDK subscription is replaced by AMQP consumer group \(groupName). "
                + "Consumers switch from iot-client-message to an AMQP 1.0 client (TLS, port 5671, aksign login) and "
                + "accept each message instead of returning CommitSuccess. Fields: \(fields)."
        case .amqp:
            return "\(productKey): AMQP subscription recreated on \(groupName); consumers change host, instance ID "
                + "and consumerGroupId in their login only."
        }
    }
}
