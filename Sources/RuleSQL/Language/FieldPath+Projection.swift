//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

extension JSONProjection {
    /// The projection that builds exactly what the paths read: keys down to each path's end (or to its first
    /// array index), and the whole value there.
    public static func covering(_ paths: [FieldPath]) -> JSONProjection {
        .covering(keyPaths: paths.map(\.leadingKeys))
    }
}

extension FieldPath {
    /// The object keys the path descends through before its first array index.
    var leadingKeys: [String] {
        var keys: [String] = []
        for component in self.components {
            guard case .key(let key) = component else { break }
            keys.append(key)
        }
        return keys
    }
}
