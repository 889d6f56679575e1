//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Device tags for `attribute(key)`: the bridge plugs in the platform's tags, tests a fixed table.
public protocol DeviceTagProvider: Sendable {
    /// The value of tag `key` of device `productKey/deviceName`, or `nil` when the device has no such tag.
    func tagValue(forKey key: String, productKey: String, deviceName: String) -> String?
}

/// A fixed table of device tags, keyed by `"productKey/deviceName"` then tag key.
public struct StaticDeviceTags: DeviceTagProvider {
    /// `"productKey/deviceName"` → tag key → value.
    public var tags: [String: [String: String]]

    /// Creates a table.
    public init(_ tags: [String: [String: String]]) {
        self.tags = tags
    }

    /// Looks the tag up in the table.
    public func tagValue(forKey key: String, productKey: String, deviceName: String) -> String? {
        self.tags["\(productKey)/\(deviceName)"]?[key]
    }
}

/// One message as a rule sees it: what the SQL functions and parser-script built-ins read.
///
/// Only the topic and the payload are required. The product key and device name default to the levels
/// of the topic that hold them (levels 1 and 2 of `/${pk}/${dn}/…`, levels 2 and 3 of `/sys/${pk}/${dn}/…`,
/// levels 4 and 5 of `/as/mqtt/status/${pk}/${dn}`), the message ID to the empty string, and "now" to the
/// system clock.
public struct MessageContext: Sendable {
    /// The message's topic, e.g. `/a1HHrkm****/TestDevice1/thing/event/property/post`.
    public var topic: String
    /// The raw payload bytes.
    public var payload: [UInt8]
    /// The product key set explicitly, or `nil` to take it from the topic.
    public var explicitProductKey: String?
    /// The device name set explicitly, or `nil` to take it from the topic.
    public var explicitDeviceName: String?
    /// The platform's message ID (`messageId()`).
    public var messageId: String
    /// A fixed "now" in epoch milliseconds for `timestamp()` and friends; `nil` uses the system clock.
    public var now: Int?
    /// Where `attribute(key)` reads device tags; `nil` makes every tag empty (as in the console's SQL debug).
    public var tags: (any DeviceTagProvider)?
    /// The payload already parsed as JSON, when the caller has it; functions that need the JSON
    /// (`thingPropertyFlatMap`) use it instead of parsing the payload again.
    public var json: JSONValue?

    /// Creates a message context.
    public init(
        topic: String,
        payload: [UInt8],
        productKey: String? = nil,
        deviceName: String? = nil,
        messageId: String = "",
        now: Int? = nil,
        tags: (any DeviceTagProvider)? = nil
    ) {
        self.topic = topic
        self.payload = payload
        self.explicitProductKey = productKey
        self.explicitDeviceName = deviceName
        self.messageId = messageId
        self.now = now
        self.tags = tags
        self.json = nil
    }

    /// Creates a message context with a UTF-8 text payload.
    public init(
        topic: String,
        payload: String,
        productKey: String? = nil,
        deviceName: String? = nil,
        messageId: String = "",
        now: Int? = nil,
        tags: (any DeviceTagProvider)? = nil
    ) {
        self.init(
            topic: topic,
            payload: Array(payload.utf8),
            productKey: productKey,
            deviceName: deviceName,
            messageId: messageId,
            now: now,
            tags: tags
        )
    }

    /// The product key: the explicit one, or the one the topic names.
    public var productKey: String {
        if let explicit = self.explicitProductKey { return explicit }
        return self.topicLevel(TopicLevels.identityLevels(of: self.topic).productKey) ?? ""
    }

    /// The device name: the explicit one, or the one the topic names.
    public var deviceName: String {
        if let explicit = self.explicitDeviceName { return explicit }
        return self.topicLevel(TopicLevels.identityLevels(of: self.topic).deviceName) ?? ""
    }

    /// "Now" in epoch milliseconds: the fixed value when set, the system clock otherwise.
    public var currentTimeMillis: Int {
        if let now = self.now { return now }
        return Int((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Level `number` (1-based) of the topic, as `topic(n)` returns it; `nil` past the last level.
    ///
    /// `/alDbcLe****/TestDevice/user/set` has level 1 `alDbcLe****` and level 2 `TestDevice`.
    public func topicLevel(_ number: Int) -> String? {
        TopicLevels.level(number, of: self.topic)
    }

    /// The payload parsed as JSON.
    public func jsonPayload() throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(self.payload)
    }
}

/// Helpers to read levels of a topic without splitting it into an array.
enum TopicLevels {
    /// The 1-based level `number` of `topic`, ignoring the leading slash.
    static func level(_ number: Int, of topic: String) -> String? {
        guard number >= 1 else { return nil }
        var current = 0
        var utf8 = topic.utf8[...]
        if utf8.first == UInt8(ascii: "/") { utf8 = utf8.dropFirst() }
        while true {
            current += 1
            let end = utf8.firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
            if current == number {
                return String(topic[utf8.startIndex..<end])
            }
            guard end < utf8.endIndex else { return nil }
            utf8 = utf8[utf8.index(after: end)...]
        }
    }

    /// Which levels hold the product key and the device name in the topic forms the platform uses.
    static func identityLevels(of topic: String) -> (productKey: Int, deviceName: Int) {
        if topic.hasPrefix("/sys/") || topic.hasPrefix("/ext/") || topic.hasPrefix("/shadow/") {
            return (2, 3)
        }
        if topic.hasPrefix("/as/mqtt/status/") {
            return (4, 5)
        }
        return (1, 2)
    }
}
