//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Maps items with at most `limit` transforms in flight, keeping the input order.
///
/// Reads of per-resource details (a rule's actions, a parser's destinations) are independent round-trips; a few in
/// parallel cut an export's wall time without approaching the API's QPS limits (throttling is retried anyway).
func concurrentMap<T: Sendable, R: Sendable>(
    _ items: [T],
    limit: Int,
    _ transform: @escaping @Sendable (T) async throws -> R
) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        func start() {
            let index = next
            group.addTask { (index, try await transform(items[index])) }
            next += 1
        }
        while next < min(max(1, limit), items.count) { start() }
        while let (index, result) = try await group.next() {
            results[index] = result
            if next < items.count { start() }
        }
        return results.map { $0! }
    }
}
