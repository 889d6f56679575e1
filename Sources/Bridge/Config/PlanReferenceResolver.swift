//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

extension BridgeConfiguration {
    /// Replaces every `consumerGroupId: { fromPlan:, name: }` with the ID the migration gave that group on the
    /// target (from the plan and its journal, `<plan>.journal.sqlite`; no credentials needed). Throws, naming
    /// the reference's `file:line:col`, when the plan has no such group or `migrate run` has not created it yet.
    public func resolvingPlanReferences() async throws -> BridgeConfiguration {
        var resolved = self
        for (index, upstream) in self.upstreams.enumerated() {
            guard case let (platform, isSTS)? = upstream.auth.platform, let reference = platform.consumerGroupFromPlan else { continue }
            let plan: MigrationPlan
            let entries: [ConsumerGroupIdMapEntry]
            do {
                plan = try PlanFile.load(path: reference.plan)
                let store = try MigrationWorkspace.store(planPath: reference.plan, storePath: nil)
                entries = try await MigrationRunner.consumerGroupIdMap(plan: plan, store: store)
            } catch {
                throw BridgeError(.configuration, "\(reference.location): error: consumerGroupId: \(error)")
            }
            guard let entry = entries.first(where: { $0.name == reference.name }) ?? entries.first(where: { $0.sourceName == reference.name })
            else {
                let names = entries.map(\.name).joined(separator: ", ")
                throw BridgeError(
                    .configuration,
                    "\(reference.location): error: the plan \(reference.plan) has no consumer group '\(reference.name)' (it has: \(names.isEmpty ? "none" : names))"
                )
            }
            guard let id = entry.targetId, !id.isEmpty else {
                throw BridgeError(
                    .configuration,
                    "\(reference.location): error: consumer group '\(entry.name)' has no target ID yet — run `iotbridge migrate run --plan \(reference.plan)` first"
                )
            }
            var updated = platform
            updated.consumerGroupId = id
            updated.consumerGroupFromPlan = nil
            resolved.upstreams[index].auth = isSTS ? .ststoken(updated) : .aksign(updated)
        }
        return resolved
    }
}

extension AuthConfiguration {
    /// The platform login settings and whether it is the STS login; nil for plain and anonymous.
    var platform: (PlatformAuth, Bool)? {
        switch self {
        case .aksign(let platform): return (platform, false)
        case .ststoken(let platform): return (platform, true)
        case .plain, .anonymous: return nil
        }
    }
}
