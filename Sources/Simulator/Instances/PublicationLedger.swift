//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// What the simulated instances published, so a demo can prove that nothing was lost and nothing duplicated:
/// messages per instance, and (when `tracksMessageIds`) on which instances each messageId was published.
public final class PublicationLedger: Sendable {
    /// Totals, and per messageId the instances it went out on.
    public struct Snapshot: Sendable, Hashable {
        /// Messages published per instance (a message routed to several groups of one instance counts once).
        public var perInstance: [String: Int]
        /// Group deliveries queued per instance (one per consumer group a message was routed to).
        public var groupDeliveriesPerInstance: [String: Int]
        /// Distinct messageIds published anywhere (only when tracked; else 0).
        public var uniqueMessageIds: Int
        /// messageIds published on more than one instance (data synchronisation; only when tracked).
        public var onSeveralInstances: Int
    }

    private struct State {
        var perInstance: [String: Int] = [:]
        var groupDeliveries: [String: Int] = [:]
        var instancesOf: [String: Set<String>] = [:]
        var onSeveral = 0
    }

    /// Whether each messageId is remembered (memory grows with every message: for demos and tests, not for a
    /// long `iotbridge sim`).
    public let tracksMessageIds: Bool
    private let state = Mutex(State())

    /// Creates an empty ledger.
    public init(tracksMessageIds: Bool) {
        self.tracksMessageIds = tracksMessageIds
    }

    /// `messageId` went out on `instance`, to `groups` consumer groups.
    public func published(_ messageId: String, on instance: String, groups: Int) {
        let tracks = self.tracksMessageIds
        self.state.withLock { state in
            state.perInstance[instance, default: 0] += 1
            state.groupDeliveries[instance, default: 0] += groups
            guard tracks else { return }
            let inserted = state.instancesOf[messageId, default: []].insert(instance).inserted
            if inserted, state.instancesOf[messageId]!.count == 2 { state.onSeveral += 1 }
        }
    }

    /// The instances a messageId was published on (empty when not tracked or unknown).
    public func instances(of messageId: String) -> Set<String> {
        self.state.withLock { $0.instancesOf[messageId] ?? [] }
    }

    /// Every messageId published (empty when not tracked).
    public var messageIds: Set<String> { self.state.withLock { Set($0.instancesOf.keys) } }

    /// The totals now.
    public var snapshot: Snapshot {
        self.state.withLock { state in
            Snapshot(
                perInstance: state.perInstance,
                groupDeliveriesPerInstance: state.groupDeliveries,
                uniqueMessageIds: state.instancesOf.count,
                onSeveralInstances: state.onSeveral
            )
        }
    }
}
