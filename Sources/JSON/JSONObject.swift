//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A JSON object that keeps its keys in insertion order.
///
/// Rule output must list keys in SELECT order, and devices' payloads round-trip unchanged, so a dictionary
/// will not do. Small objects (the common case: a property post has a handful of keys per level) are
/// searched linearly, which beats hashing for a few keys; past ``indexThreshold`` keys an index is kept.
///
/// Equality ignores key order: two objects are equal when they hold the same keys with equal values.
public struct JSONObject: Sendable {
    /// One key and its value.
    public struct Member: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: JSONValue

        /// Creates a member.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Past this many keys a lookup index is kept beside the members.
    static let indexThreshold = 24

    /// The members in insertion order.
    public private(set) var members: [Member]
    /// Key → position in `members`; only for objects with more than `indexThreshold` keys.
    private var index: [String: Int]?

    /// Creates an empty object.
    public init() {
        self.members = []
        self.index = nil
    }

    /// Creates an empty object with room for `capacity` members.
    public init(minimumCapacity capacity: Int) {
        self.members = []
        self.members.reserveCapacity(capacity)
        self.index = nil
    }

    /// Creates an object from key-value pairs; a repeated key keeps its first position and its last value.
    public init(_ pairs: some Sequence<(String, JSONValue)>) {
        self.init()
        for (key, value) in pairs {
            self[key] = value
        }
    }

    /// The number of keys.
    public var count: Int {
        self.members.count
    }

    /// `true` when the object has no keys.
    public var isEmpty: Bool {
        self.members.isEmpty
    }

    /// The keys in order.
    public var keys: [String] {
        self.members.map(\.key)
    }

    /// The values in key order.
    public var values: [JSONValue] {
        self.members.map(\.value)
    }

    /// The position of `key`, if present.
    public func position(of key: String) -> Int? {
        if let index = self.index {
            return index[key]
        }
        for position in self.members.indices where self.members[position].key == key {
            return position
        }
        return nil
    }

    /// The value for `key`; setting `nil` removes the key, setting a value replaces it in place or appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = self.position(of: key) else { return nil }
            return self.members[position].value
        }
        set {
            if let newValue {
                self.updateValue(newValue, forKey: key)
            } else {
                self.removeValue(forKey: key)
            }
        }
    }

    /// Sets the value of `key`, keeping its position when it exists and appending it otherwise.
    public mutating func updateValue(_ value: JSONValue, forKey key: String) {
        if let position = self.position(of: key) {
            self.members[position].value = value
        } else {
            self.appendNew(key: key, value: value)
        }
    }

    /// Appends a key the caller knows is absent; skips the duplicate check.
    mutating func appendNew(key: String, value: JSONValue) {
        self.members.append(Member(key: key, value: value))
        if self.index != nil {
            self.index?[key] = self.members.count - 1
        } else if self.members.count > Self.indexThreshold {
            self.rebuildIndex()
        }
    }

    /// Removes `key` and returns its value, if present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = self.position(of: key) else { return nil }
        let removed = self.members.remove(at: position).value
        if self.index != nil {
            self.rebuildIndex()
        }
        return removed
    }

    /// Appends every member of `other`, replacing the values of keys already present.
    public mutating func merge(_ other: JSONObject) {
        for member in other.members {
            self.updateValue(member.value, forKey: member.key)
        }
    }

    private mutating func rebuildIndex() {
        var index = [String: Int](minimumCapacity: self.members.count * 2)
        for (position, member) in self.members.enumerated() {
            index[member.key] = position
        }
        self.index = index
    }
}

extension JSONObject: Sequence {
    /// Iterates the members in order.
    public func makeIterator() -> IndexingIterator<[Member]> {
        self.members.makeIterator()
    }
}

extension JSONObject: Hashable {
    /// Objects are equal when they have the same keys with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for member in lhs.members {
            guard let other = rhs[member.key], other == member.value else { return false }
        }
        return true
    }

    /// Hashes the members independently of their order.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for member in self.members {
            combined ^= member.hashValue
        }
        hasher.combine(self.count)
        hasher.combine(combined)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object keeping the literal's key order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}
