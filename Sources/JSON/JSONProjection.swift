//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Which parts of a JSON document to build while parsing it.
///
/// A rule reads a few fields of each payload (`items.Temperature.value`), so building the whole tree wastes
/// most of the time and allocations of the hot path. A projection lists the object keys to descend into;
/// everything else is still fully *validated* (a payload that is not JSON is still skipped) but never
/// materialized. A projection of `.all` builds the whole value.
public indirect enum JSONProjection: Sendable, Hashable {
    /// Build the whole value.
    case all
    /// Build only these keys of an object (each with its own projection); any other value is skipped.
    case keys([Member])

    /// One key of a projection, kept as bytes so keys compare without building strings.
    public struct Member: Sendable, Hashable {
        /// The key.
        public let key: String
        /// The key's UTF-8 bytes.
        let bytes: [UInt8]
        /// What to build under the key.
        public var child: JSONProjection

        init(key: String, child: JSONProjection) {
            self.key = key
            self.bytes = Array(key.utf8)
            self.child = child
        }
    }

    /// The projection that builds exactly what the key paths read: keys down to each path's end, and the whole
    /// value there. A path is the run of object keys it descends through; a path that goes on through an array
    /// index stops before the index (the whole array is needed). An empty path asks for the whole value.
    public static func covering(keyPaths: [[String]]) -> JSONProjection {
        var root = JSONProjection.keys([])
        for path in keyPaths {
            root.add(path[...])
        }
        return root
    }

    private mutating func add(_ keys: ArraySlice<String>) {
        guard case .keys(var members) = self else { return }
        guard let key = keys.first else {
            // The end of the path: the whole value is needed.
            self = .all
            return
        }
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].child.add(keys.dropFirst())
        } else {
            var child = JSONProjection.keys([])
            child.add(keys.dropFirst())
            members.append(Member(key: key, child: child))
        }
        self = .keys(members)
    }
}

extension JSONParser {
    /// Parses one JSON document, building only what `projection` asks for and validating the rest.
    ///
    /// A document that is not valid JSON throws exactly as ``parse(_:)-(String)`` does.
    public static func parse(_ bytes: [UInt8], projection: JSONProjection) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(bytes: buffer)
            return Result { () throws(JSONParseError) -> JSONValue in try scanner.parseDocument(projection: projection)
            }
        }
        return try result.get()
    }
}
