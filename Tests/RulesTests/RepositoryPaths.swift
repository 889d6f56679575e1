//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Paths of the repository's `rules/` folder, found from this file's location.
enum RepositoryPaths {
    /// The repository root (three levels above this file).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `rules/examples`.
    static let examples = root + "/rules/examples"
    /// `rules/corpus/rules`.
    static let corpusRules = root + "/rules/corpus/rules"
    /// `rules/corpus/samples.jsonl`.
    static let corpusSamples = root + "/rules/corpus/samples.jsonl"
}
