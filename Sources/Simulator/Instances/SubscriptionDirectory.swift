//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

/// Where an instance's consumer groups and subscribe relations live: the simulated control plane (which the
/// OpenAPI endpoint changes), or a fixed snapshot.
public protocol SubscriptionDirectory: Sendable {
    /// Every consumer group of the instance.
    func consumerGroupIds() async -> Set<String>
    /// The consumer groups an AMQP subscribe relation of `productKey` with `flag` delivers to.
    func consumerGroups(subscribedTo productKey: String, flag: SubscriptionFlag) async -> [String]
}

/// A directory that never changes: the consumer groups and AMQP relations of a snapshot.
public struct FixedSubscriptions: SubscriptionDirectory {
    /// The snapshot it answers from.
    public let snapshot: InstanceSnapshot

    /// Creates a directory from a snapshot.
    public init(_ snapshot: InstanceSnapshot) {
        self.snapshot = snapshot
    }

    /// The snapshot's consumer group IDs.
    public func consumerGroupIds() async -> Set<String> {
        Set(self.snapshot.consumerGroups.map(\.id))
    }

    /// The groups of the snapshot's AMQP relations for the product that carry the flag.
    public func consumerGroups(subscribedTo productKey: String, flag: SubscriptionFlag) async -> [String] {
        self.snapshot.subscriptions
            .filter { $0.type == .amqp && $0.productKey == productKey && $0.flags.contains(flag) }
            .flatMap(\.consumerGroupIds)
    }
}
