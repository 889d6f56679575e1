//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

/// Makes IDs shaped as the platform's, so that what a simulated instance hands out looks like what an operator
/// sees in the console and in API responses.
///
/// - Consumer groups: 26 characters, 20 random letters and digits then `000100`, the shape of the reference's
///   examples (`ZTh1JmyLGuZcUfv44p4z00****`, `Xs95KifeaSKbi8tKkcoD00****`, §4.5 and §6.2).
/// - Rules and rule actions: `Long`s (`CreateRule` → `RuleId`, `CreateRuleAction` → `ActionId`, §6.3), drawn
///   from one increasing counter per instance, as the platform's database sequences do.
/// - Data sources, destinations and parsers: small numbers (`writeIotTopic(1003, …)` in community scripts, §5),
///   one counter each.
///
/// Counters start above every numeric ID the instance was seeded with, so a seeded ID is never handed out again.
struct PlatformIDGenerator: Sendable {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    private var nextRuleId: Int64 = 100_001
    private var nextActionId: Int64 = 300_001
    private var nextDataSourceId: Int64 = 1_001
    private var nextDestinationId: Int64 = 1_001
    private var nextParserId: Int64 = 1_001
    private var nextItemId: Int64 = 10_001

    /// A generator whose counters start above the numeric IDs in a snapshot.
    init(above snapshot: InstanceSnapshotIDs) {
        self.nextRuleId = max(self.nextRuleId, (snapshot.ruleIds.max() ?? 0) + 1)
        // Actions and rules share the platform's ID space in practice; keep them apart but never colliding.
        self.nextActionId = max(self.nextActionId, (snapshot.actionIds.max() ?? 0) + 1)
        self.nextDataSourceId = max(self.nextDataSourceId, (snapshot.dataSourceIds.max() ?? 0) + 1)
        self.nextDestinationId = max(self.nextDestinationId, (snapshot.destinationIds.max() ?? 0) + 1)
        self.nextParserId = max(self.nextParserId, (snapshot.parserIds.max() ?? 0) + 1)
        self.nextItemId = max(self.nextItemId, (snapshot.itemIds.max() ?? 0) + 1)
    }

    /// A new consumer group ID, e.g. `hN3sX0aQm2LrT8vWc1Ey000100`.
    mutating func consumerGroupId() -> String {
        var generator = SystemRandomNumberGenerator()
        let head = (0..<20).map { _ in Self.alphabet.randomElement(using: &generator)! }
        return String(head) + "000100"
    }

    /// A new rule ID.
    mutating func ruleId() -> String { Self.take(&self.nextRuleId) }
    /// A new rule-action ID.
    mutating func actionId() -> String { Self.take(&self.nextActionId) }
    /// A new data-source ID.
    mutating func dataSourceId() -> String { Self.take(&self.nextDataSourceId) }
    /// A new data-source item ID.
    mutating func dataSourceItemId() -> String { Self.take(&self.nextItemId) }
    /// A new destination ID.
    mutating func destinationId() -> String { Self.take(&self.nextDestinationId) }
    /// A new parser ID.
    mutating func parserId() -> String { Self.take(&self.nextParserId) }

    private static func take(_ counter: inout Int64) -> String {
        defer { counter += 1 }
        return String(counter)
    }
}

/// The numeric IDs a snapshot already uses, per kind (non-numeric IDs, as hand-written exports may have, are
/// ignored: they cannot collide with a number).
struct InstanceSnapshotIDs: Sendable {
    var ruleIds: [Int64] = []
    var actionIds: [Int64] = []
    var dataSourceIds: [Int64] = []
    var itemIds: [Int64] = []
    var destinationIds: [Int64] = []
    var parserIds: [Int64] = []

    init(_ snapshot: InstanceSnapshot) {
        self.ruleIds = snapshot.rules.compactMap { Int64($0.id) }
        self.actionIds = snapshot.rules.flatMap { rule in
            (rule.actions + (rule.errorAction.map { [$0] } ?? [])).compactMap { $0.id.flatMap { Int64($0) } }
        }
        self.dataSourceIds = snapshot.dataSources.compactMap { Int64($0.id) }
        self.itemIds = snapshot.dataSources.flatMap { $0.items.compactMap { $0.id.flatMap { Int64($0) } } }
        self.destinationIds = snapshot.destinations.compactMap { Int64($0.id) }
        self.parserIds = snapshot.parsers.compactMap { Int64($0.id) }
    }
}
