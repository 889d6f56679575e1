//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The parameters of one authenticated call, with the reads actions need and the platform's errors when a
/// required one is missing or malformed.
struct OpenAPIParameters: Sendable {
    /// Every parameter, common ones included.
    let values: [String: String]

    /// A parameter that must be present and non-empty.
    ///
    /// - Throws: `InvalidParameter` naming it.
    func required(_ name: String) throws(SimulatedAPIError) -> String {
        guard let value = self.values[name], !value.isEmpty else { throw SimulatedAPIError.missing(name) }
        return value
    }

    /// A parameter if present and non-empty.
    func optional(_ name: String) -> String? {
        guard let value = self.values[name], !value.isEmpty else { return nil }
        return value
    }

    /// A boolean parameter: `true` (any case) is true; absent is `defaultValue`.
    ///
    /// - Throws: `InvalidParameter` for anything but `true`/`false`.
    func bool(_ name: String, default defaultValue: Bool = false) throws(SimulatedAPIError) -> Bool {
        guard let value = self.optional(name) else { return defaultValue }
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw SimulatedAPIError("InvalidParameter", "\(name) must be true or false, not \(value).")
        }
    }

    /// An integer parameter within a range; absent is `defaultValue`.
    ///
    /// - Throws: `InvalidParameter` for a non-number or a number out of range.
    func int(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(SimulatedAPIError) -> Int {
        guard let text = self.optional(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw SimulatedAPIError(
                "InvalidParameter",
                "\(name) must be a number from \(range.lowerBound) to \(range.upperBound), not \(text)."
            )
        }
        return value
    }

    /// A repeated parameter `Name.1`, `Name.2`, … in index order.
    func list(_ name: String) -> [String] {
        let prefix = name + "."
        return self.values.compactMap { key, value -> (Int, String)? in
            guard key.hasPrefix(prefix), let index = Int(key.dropFirst(prefix.count)), !value.isEmpty else {
                return nil
            }
            return (index, value)
        }
        .sorted { $0.0 < $1.0 }
        .map(\.1)
    }

    /// One page of items, 1-based: the items, and the page number and size used.
    ///
    /// - Throws: `InvalidParameter` for a page below 1 or a size out of `sizes`.
    func page<T>(
        _ items: [T],
        pageKey: String,
        defaultSize: Int,
        sizes: ClosedRange<Int>
    ) throws(SimulatedAPIError) -> (items: [T], page: Int, size: Int) {
        let page = try self.int(pageKey, default: 1, in: 1...Int(Int32.max))
        let size = try self.int("PageSize", default: defaultSize, in: sizes)
        let start = min((page - 1) * size, items.count)
        return (Array(items[start..<min(start + size, items.count)]), page, size)
    }
}
