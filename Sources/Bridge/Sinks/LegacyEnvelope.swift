//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL

/// The body a consumer of a legacy subscription channel expects (reference §3.1, §3.2), so that a consumer written
/// for MNS or the HTTP/2 SDK keeps its parsing code after its subscription was translated to AMQP. A sink option
/// (`envelope:`) of the listener, amqp and webhook sinks.
public enum LegacyEnvelope: String, Sendable, Hashable, CaseIterable {
    /// The platform's AMQP form: the payload as the body (the default).
    case platform
    /// The MNS queue message: `{"messageid","messagetype","topic","payload" (base64),"timestamp"}`.
    case mns
    /// The HTTP/2 SDK's message model: `{"topic","messageId","payload" (base64),"qos"}`.
    case http2

    /// The body for `item`, or nil for `.platform` (the payload as it is).
    ///
    /// Choices where the reference is silent: MNS `timestamp` is the message's `generateTime` in epoch
    /// milliseconds (absent: null); `messagetype` is derived from the topic (§3.1's table) and `topic` is null for
    /// a `status` message, as the older MNS doc says; the HTTP/2 `qos` is 1 (the SDK resends unacknowledged QoS 1).
    public func body(for item: SinkMessage) -> [UInt8]? {
        // The default, on every message of every sink: nothing to build.
        if self == .platform { return nil }
        let message = item.message
        let payload = JSONValue.string(Data(item.payload).base64EncodedString())
        var object = JSONObject()
        switch self {
        case .platform:
            return nil
        case .mns:
            let type = Self.messageType(topic: message.topic)
            object.updateValue(message.messageId.map { .string($0) } ?? .null, forKey: "messageid")
            object.updateValue(.string(type), forKey: "messagetype")
            object.updateValue(type == "status" ? .null : message.topic.map { .string($0) } ?? .null, forKey: "topic")
            object.updateValue(payload, forKey: "payload")
            object.updateValue(message.generateTime.map { .int(Int($0)) } ?? .null, forKey: "timestamp")
        case .http2:
            object.updateValue(message.topic.map { .string($0) } ?? .null, forKey: "topic")
            object.updateValue(message.messageId.map { .string($0) } ?? .null, forKey: "messageId")
            object.updateValue(payload, forKey: "payload")
            object.updateValue(.int(1), forKey: "qos")
        }
        var bytes: [UInt8] = []
        JSONValue.object(object).writeJSON(into: &bytes)
        return bytes
    }

    /// MNS's `messagetype` for a topic (reference §3.1's mapping, from the topic patterns of §2.2).
    static func messageType(topic: String?) -> String {
        guard let topic else { return "upload" }
        if topic.hasPrefix("/as/mqtt/status/") { return "status" }
        if topic.hasSuffix("/thing/topo/lifecycle") { return "topo_lifecycle" }
        if topic.hasSuffix("/thing/lifecycle") { return "device_lifecycle" }
        if topic.hasSuffix("/thing/list/found") { return "topo_listfound" }
        if topic.contains("/history/post") { return "thing_history" }
        if topic.contains("/ota/upgrade") { return "ota_event" }
        return "upload"
    }
}
