//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration

/// The control plane of one simulated instance: its forwarding configuration (consumer groups, subscribe
/// relations, old-version rules with actions, data sources, destinations, parsers) held as an ``InstanceSnapshot``,
/// the same format `iotbridge instance export` writes.
///
/// The OpenAPI endpoint reads and changes it the way the platform's API does (validation, limits, platform error
/// codes: the mutating methods throw ``SimulatedAPIError``); the AMQP endpoint asks it which consumer groups exist
/// and which groups a product's messages go to. IDs it hands out are shaped as the platform's
/// (``PlatformIDGenerator``).
///
/// ```swift
/// let source = try SimulatedControlPlane(snapshot: InstanceSnapshot(identity: .init(kind: "sim"), products: ["a1pk"]))
/// let target = try await SimulatedControlPlane(exportFile: "target.yaml", iotInstanceId: "iot-06z00ab1cd2")
/// ```
public actor SimulatedControlPlane {
    /// Which instance this is: kind `sim`; no `iotInstanceId` for a legacy public instance, one for Enterprise.
    public nonisolated let identity: InstanceIdentity

    /// The instance's configuration. Internal (not private) so that the per-concern extensions can reach it.
    var state: InstanceSnapshot
    /// What `migrate assess` reads beyond the configuration: product details, device counts, OTA jobs, clients.
    var facts: InstanceFacts?
    /// What a running simulation knows instead, when the instance was seeded without facts (``setLiveFacts(_:)``).
    private var liveFacts: (@Sendable () async -> InstanceFacts)?
    /// When each consumer group was created (`CreateTime` of `QueryConsumerGroupList`).
    var groupCreated: [String: Date] = [:]
    /// Hands out new IDs.
    var ids: PlatformIDGenerator
    /// Counts changes, so that observers can tell whether anything happened.
    private var revisionCount: UInt64 = 0
    private var observers: [UUID: AsyncStream<UInt64>.Continuation] = [:]

    /// Creates an instance from a snapshot built in code or read from an export.
    ///
    /// - Parameters:
    ///   - snapshot: the configuration. Rule actions and data-source items without IDs get platform-shaped ones.
    ///   - iotInstanceId: the instance ID; `nil` keeps the snapshot's, `""` makes it a legacy public instance.
    ///   - regionId: the region; `nil` keeps the snapshot's, else `cn-shanghai`.
    ///   - facts: the assessment facts (an export's `assessment:` section), if any.
    /// - Throws: ``SimulatedAPIError`` with code `InvalidSeed` when the snapshot contradicts itself (a duplicate
    ///   consumer group ID, a subscribe relation naming a consumer group that does not exist).
    public init(
        snapshot: InstanceSnapshot,
        iotInstanceId: String? = nil,
        regionId: String? = nil,
        facts: InstanceFacts? = nil
    ) throws {
        let instanceId = iotInstanceId ?? snapshot.identity.iotInstanceId ?? ""
        self.identity = InstanceIdentity(
            kind: "sim",
            regionId: regionId ?? snapshot.identity.regionId ?? "cn-shanghai",
            iotInstanceId: instanceId.isEmpty ? nil : instanceId
        )
        try Self.validate(seed: snapshot)
        var generator = PlatformIDGenerator(above: InstanceSnapshotIDs(snapshot))
        var seeded = snapshot
        seeded.identity = self.identity
        for r in seeded.rules.indices {
            for a in seeded.rules[r].actions.indices where seeded.rules[r].actions[a].id == nil {
                seeded.rules[r].actions[a].id = generator.actionId()
            }
            if seeded.rules[r].errorAction != nil, seeded.rules[r].errorAction?.id == nil {
                seeded.rules[r].errorAction?.id = generator.actionId()
            }
        }
        for d in seeded.dataSources.indices {
            for i in seeded.dataSources[d].items.indices where seeded.dataSources[d].items[i].id == nil {
                seeded.dataSources[d].items[i].id = generator.dataSourceItemId()
            }
        }
        self.state = seeded
        self.facts = facts
        self.ids = generator
        let now = Date()
        for group in seeded.consumerGroups { self.groupCreated[group.id] = now }
    }

    /// Creates an instance from an export file (what `iotbridge instance export` writes), read by ``FileBackend``:
    /// the same parser and the same `file:line:col` errors as `migrate` gives.
    ///
    /// - Parameters:
    ///   - path: the export file; it is read once and never written.
    ///   - iotInstanceId: the instance ID; `nil` keeps the export's, `""` makes it a legacy public instance.
    ///   - regionId: the region; `nil` keeps the export's, else `cn-shanghai`.
    /// - Throws: ``MigrationError`` when the file cannot be read or parsed, ``SimulatedAPIError`` when it
    ///   contradicts itself.
    public init(exportFile path: String, iotInstanceId: String? = nil, regionId: String? = nil) async throws {
        let file = try FileBackend(path: path)
        let snapshot = try await file.exportSnapshot(products: [])
        let facts = try await file.assessmentFacts(products: snapshot.products, consumerGroupIds: [])
        // FileBackend reports a missing section as "everything unavailable"; keep only a section the file has.
        let recorded = facts.products.isEmpty && facts.consumerGroups.isEmpty && facts.onlineDeviceSpec == nil
        try self.init(
            snapshot: snapshot,
            iotInstanceId: iotInstanceId,
            regionId: regionId,
            facts: recorded ? nil : facts
        )
    }

    private static func validate(seed snapshot: InstanceSnapshot) throws {
        var groups = Set<String>()
        for group in snapshot.consumerGroups where !groups.insert(group.id).inserted {
            throw SimulatedAPIError("InvalidSeed", "consumer group id \(group.id) appears twice")
        }
        for relation in snapshot.subscriptions {
            for id in relation.consumerGroupIds where !groups.contains(id) {
                throw SimulatedAPIError(
                    "InvalidSeed",
                    "the \(relation.type.rawValue) subscribe relation of \(relation.productKey) names consumer group "
                        + "\(id), which is not among the instance's consumer groups"
                )
            }
        }
    }

    // MARK: What the AMQP endpoint asks

    /// The IDs of every consumer group: the queues the AMQP endpoint serves.
    public func consumerGroupIds() -> Set<String> {
        Set(self.state.consumerGroups.map(\.id))
    }

    /// The consumer groups a message of a product with a flag goes to: those of the product's AMQP subscribe
    /// relation, when the relation carries the flag; none otherwise. In the relation's order.
    public func consumerGroups(subscribedTo productKey: String, flag: SubscriptionFlag) -> [String] {
        guard
            let relation = self.state.subscriptions.first(where: { $0.productKey == productKey && $0.type == .amqp }),
            relation.flags.contains(flag)
        else { return [] }
        return relation.consumerGroupIds
    }

    /// The whole configuration, as an export would write it.
    public func snapshot() -> InstanceSnapshot {
        self.state
    }

    /// The assessment facts the instance was seeded with, if any.
    public func assessmentFacts() -> InstanceFacts? {
        self.facts
    }

    /// Lets a running simulation answer what `migrate assess` asks (devices per product on this instance, clients
    /// connected to each consumer group) when the instance was seeded without facts, so that a rehearsal does not
    /// report "0 devices" or "no client connected" while devices publish and a bridge consumes.
    public func setLiveFacts(_ provider: @escaping @Sendable () async -> InstanceFacts) {
        self.liveFacts = provider
    }

    /// The facts the OpenAPI answers from: the seeded ones (an export's `assessment:` section), else the running
    /// simulation's, else none.
    public func currentFacts() async -> InstanceFacts? {
        if let facts = self.facts { return facts }
        guard let liveFacts = self.liveFacts else { return nil }
        return await liveFacts()
    }

    /// How many changes the instance has seen since it was created.
    public func revision() -> UInt64 {
        self.revisionCount
    }

    /// The revision after every change from now on (the current one first), until the caller stops iterating.
    /// Only the latest revision is buffered: a slow observer sees fewer values, never a stale one.
    public func changes() -> AsyncStream<UInt64> {
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        let key = UUID()
        self.observers[key] = continuation
        continuation.yield(self.revisionCount)
        continuation.onTermination = { _ in Task { await self.removeObserver(key) } }
        return stream
    }

    private func removeObserver(_ key: UUID) {
        self.observers[key] = nil
    }

    /// Applies a change to the configuration and tells observers. A change that throws leaves nothing behind:
    /// the body works on a copy.
    func mutate<T>(_ body: (inout InstanceSnapshot) throws -> T) throws -> T {
        var copy = self.state
        let result = try body(&copy)
        self.state = copy
        self.revisionCount += 1
        for observer in self.observers.values { observer.yield(self.revisionCount) }
        return result
    }
}
