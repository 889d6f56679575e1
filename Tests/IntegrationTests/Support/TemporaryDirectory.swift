//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A fresh folder under the system temp dir for one test's files (process output, certificates); `remove()` it
/// in a `defer`.
final class TemporaryDirectory: Sendable {
    /// Its absolute path.
    let path: String

    /// Creates `TMPDIR/iotbridge-it-PREFIX-RANDOM`.
    init(_ prefix: String = "test") throws {
        let name = "iotbridge-it-\(prefix)-\(UUID().uuidString.prefix(8))"
        self.path = (NSTemporaryDirectory() as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    /// The path of `name` inside it.
    func file(_ name: String) -> String {
        (self.path as NSString).appendingPathComponent(name)
    }

    /// Deletes it with everything in it.
    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}
