//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// "Did you mean …?": the closest known name to a misspelt one, by edit distance.
public enum Suggestion {
    /// The candidate closest to `name` (case-insensitive edit distance), when it is close enough to be
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

    /// The optimal-string-alignment distance between two scalar arrays: Levenshtein plus adjacent
    /// transpositions, so `FORM` is one edit from `FROM`.
    static func distance(_ lhs: [Unicode.Scalar], _ rhs: [Unicode.Scalar]) -> Int {
        if lhs.isEmpty { return rhs.count }
        if rhs.isEmpty { return lhs.count }
        let width = rhs.count + 1
        var table = [Int](repeating: 0, count: (lhs.count + 1) * width)
        for i in 0...lhs.count { table[i * width] = i }
        for j in 0...rhs.count { table[j] = j }
        for i in 1...lhs.count {
            for j in 1...rhs.count {
                let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
                var best = min(table[(i - 1) * width + j] + 1, table[i * width + j - 1] + 1)
                best = min(best, table[(i - 1) * width + j - 1] + cost)
                if i > 1, j > 1, lhs[i - 1] == rhs[j - 2], lhs[i - 2] == rhs[j - 1] {
                    best = min(best, table[(i - 2) * width + j - 2] + 1)
                }
                table[i * width + j] = best
            }
        }
        return table[lhs.count * width + rhs.count]
    }
}
