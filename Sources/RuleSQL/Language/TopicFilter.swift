//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The FROM topic of a rule: a topic with `+` for one level and, at the end, `#` for the rest.
///
/// The device topic forms (`/sys/${pk}/${dn}/thing/event/property/post`) and the forwarded forms
/// (`/${pk}/${dn}/thing/event/property/post`) match the same messages: a leading `/sys` is dropped from
/// both the filter and the topic before levels are compared.
public struct TopicFilter: Sendable, Hashable, CustomStringConvertible {
    /// The filter as written.
    public let text: String
    /// The levels after normalization (no leading `/sys`).
    let levels: [Level]
    let endsWithHash: Bool

    /// One level of a filter.
    enum Level: Sendable, Hashable {
        case exact([UInt8])
        case any
    }

    /// Parses a filter; the error message says what is wrong.
    public init(_ text: String) throws(PathError) {
        self.text = text
        guard text.hasPrefix("/") else {
            throw PathError(message: "the topic \"\(text)\" must start with '/'")
        }
        var parts = Self.normalized(Array(text.utf8)).split(
            separator: UInt8(ascii: "/"),
            omittingEmptySubsequences: false
        )
        parts.removeFirst()
        var levels: [Level] = []
        var hash = false
        for (position, part) in parts.enumerated() {
            if part.elementsEqual("#".utf8) {
                guard position == parts.count - 1 else {
                    throw PathError(message: "'#' may only be the last level of the topic \"\(text)\"")
                }
                hash = true
            } else if part.elementsEqual("+".utf8) {
                levels.append(.any)
            } else {
                if part.contains(UInt8(ascii: "+")) || part.contains(UInt8(ascii: "#")) {
                    throw PathError(message: "'+' and '#' must fill a whole level of the topic \"\(text)\"")
                }
                if part.isEmpty {
                    throw PathError(message: "empty level in the topic \"\(text)\"")
                }
                levels.append(.exact(Array(part)))
            }
        }
        self.levels = levels
        self.endsWithHash = hash
    }

    /// The filter as written.
    public var description: String { self.text }

    /// `true` when the filter reads a basic-communication or TSL topic (`/sys/…`, `/…/thing/…`,
    /// `/as/mqtt/status/…`, `/…/ota/…`), which BINARY rules may not.
    public var isSystemTopic: Bool {
        self.text.hasPrefix("/sys/") || self.text.hasPrefix("/as/") || self.text.contains("/thing/")
            || self.text.hasPrefix("/ota/") || self.text.contains("/ota/")
    }

    /// `true` when `topic` matches the filter. Allocation-free.
    public func matches(_ topic: String) -> Bool {
        var topic = topic
        return topic.withUTF8 { buffer in
            var bytes = buffer[...]
            if bytes.starts(with: "/sys/".utf8) { bytes = bytes.dropFirst(4) }
            guard bytes.first == UInt8(ascii: "/") else { return false }
            bytes = bytes.dropFirst()
            var levelIndex = 0
            while true {
                let end = bytes.firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
                let part = bytes[bytes.startIndex..<end]
                if levelIndex == self.levels.count {
                    // More topic levels than filter levels: only a trailing '#' takes them.
                    return self.endsWithHash
                }
                switch self.levels[levelIndex] {
                case .any:
                    break
                case .exact(let expected):
                    guard part.elementsEqual(expected) else { return false }
                }
                levelIndex += 1
                if end == bytes.endIndex {
                    // '#' also matches the parent level ("/a/#" matches "/a"), as in MQTT.
                    return levelIndex == self.levels.count
                }
                bytes = bytes[(end + 1)...]
            }
        }
    }

    private static func normalized(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        bytes.starts(with: "/sys/".utf8) ? bytes.dropFirst(4) : bytes[...]
    }
}
