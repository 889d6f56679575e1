//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// "Did you mean …?": the closest known name to a misspelt one, by edit distance.
public enum Suggestion {
    /// The candidate closest to `name` (case-insensitive Levenshtein distance), when it is close enough to be
    /// a plausible typo: at most a third of the name's length, and at least 1 edit allowed. A case-only
    /// difference always wins.
    public static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let target = Array(name.lowercased().unicodeScalars)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = Self.distance(target, Array(candidate.lowercased().unicodeScalars))
            if best == nil || distance < best!.distance {
                best = (candidate, distance)
            }
        }
        guard let best else { return nil }
        let allowed = max(1, target.count / 3)
        return best.distance <= allowed ? best.name : nil
    }

    /// `"; did you mean 'x'?"` for the closest candidate, or the empty string.
    public static func didYouMean(_ name: String, among candidates: some Sequence<String>) -> String {
        guard let match = Self.closest(to: name, among: candidates) else { return "" }
        return "; did you mean '\(match)'?"
    }

    /// The Levenshtein distance between two scalar arrays.
    static func distance(_ lhs: [Unicode.Scalar], _ rhs: [Unicode.Scalar]) -> Int {
        if lhs.isEmpty { return rhs.count }
        if rhs.isEmpty { return lhs.count }
        var previous = Array(0...rhs.count)
        var current = [Int](repeating: 0, count: rhs.count + 1)
        for i in 1...lhs.count {
            current[0] = i
            for j in 1...rhs.count {
                let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[rhs.count]
    }
}
