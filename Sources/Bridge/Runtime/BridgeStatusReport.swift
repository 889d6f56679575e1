//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL
import StateStore
import Synchronization

/// `/status`: what the bridge is doing, as JSON (README, "/status"). The counters only grow during a run (a new
/// `run` starts them at zero again); `time` and `uptimeSeconds` date the snapshot, so a reader computes rates
/// from two of them (the dashboard and `iotbridge status` do).
extension Bridge {
    /// `/status` as JSON: the overall state, each upstream's state and counts, the merged stream, the window, each
    /// sink's state, the sink holding the stream back (if one is), and the registry and outbox totals.
    public func statusJSON() -> [UInt8] {
        let uptime = self.started.duration(to: .now)
        var statistics = self.currentStatistics
        // In flight now, not as the maintenance loop last sampled it: the sinks' backlogs beside it are live too.
        statistics.inFlight = self.table.withLock { $0.count }
        return Self.renderStatus(
            statistics: statistics,
            configuration: self.configuration,
            sinks: self.sinkStates,
            run: self.runID,
            time: Self.nowMilliseconds(),
            uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
            migration: self.migrationStatusJSON()
        )
    }

    /// Renders a `/status` document from its parts (no clock, no lock: tested with fixed values).
    static func renderStatus(
        statistics: BridgeStatistics,
        configuration: BridgeConfiguration,
        sinks: [(name: String, state: SinkState)],
        run: String,
        time: Int64,
        uptimeSeconds: Double,
        migration: JSONObject?
    ) -> [UInt8] {
        var root = JSONObject()
        root.updateValue(.string(statistics.state), forKey: "state")
        root.updateValue(.string(run), forKey: "run")
        root.updateValue(.int(Int(time)), forKey: "time")
        root.updateValue(.double((uptimeSeconds * 1000).rounded() / 1000), forKey: "uptimeSeconds")
        var upstreams: [JSONValue] = []
        var duplicatesDropped = 0
        for upstream in configuration.upstreams {
            let counts = statistics.upstreams[upstream.name] ?? .init()
            let duplicates = counts.duplicatesOf.values.reduce(0, +)
            duplicatesDropped += duplicates
            var object = JSONObject()
            object.updateValue(.string(upstream.name), forKey: "name")
            object.updateValue(.string(counts.state), forKey: "state")
            object.updateValue(.int(counts.connectionsOpen), forKey: "connectionsOpen")
            object.updateValue(.int(upstream.connections), forKey: "connections")
            object.updateValue(.int(counts.received), forKey: "received")
            object.updateValue(.int(duplicates), forKey: "duplicates")
            object.updateValue(.object(Self.counts(counts.duplicatesOf)), forKey: "duplicatesOf")
            object.updateValue(.int(counts.withoutMessageId), forKey: "withoutMessageId")
            object.updateValue(.int(counts.presettled), forKey: "presettled")
            object.updateValue(.int(counts.reconnects), forKey: "reconnects")
            object.updateValue(.int(counts.connectsDeferred), forKey: "connectsDeferred")
            if let last = counts.lastMessageAt { object.updateValue(.double(last), forKey: "lastMessageAtSeconds") }
            if let error = counts.lastError { object.updateValue(.string(error), forKey: "lastError") }
            upstreams.append(.object(object))
        }
        root.updateValue(.array(upstreams), forKey: "upstreams")
        root.updateValue(
            .object(["forwarded": .int(statistics.forwarded), "duplicatesDropped": .int(duplicatesDropped)]),
            forKey: "merged"
        )
        var window = JSONObject()
        window.updateValue(.int(statistics.windowSize), forKey: "entries")
        window.updateValue(.int(configuration.dedup.maxEntries), forKey: "maxEntries")
        window.updateValue(.int(Int(configuration.dedup.window.components.seconds)), forKey: "windowSeconds")
        window.updateValue(.int(statistics.dedupConflicts), forKey: "conflicts")
        window.updateValue(.int(statistics.dedupEvictedEarly), forKey: "evictedEarly")
        window.updateValue(.string(configuration.state), forKey: "store")
        if let error = statistics.stateStoreError { window.updateValue(.string(error), forKey: "storeError") }
        root.updateValue(.object(window), forKey: "dedup")
        root.updateValue(.int(statistics.inFlight), forKey: "inFlight")
        root.updateValue(.int(statistics.settled), forKey: "settled")
        root.updateValue(.int(statistics.filtered), forKey: "filtered")
        root.updateValue(.object(Self.counts(statistics.deadLettered)), forKey: "deadLettered")
        var sinkList: [JSONValue] = []
        for (name, state) in sinks {
            var object = JSONObject()
            object.updateValue(.string(name), forKey: "name")
            object.updateValue(.string(state.phase), forKey: "state")
            object.updateValue(.int(state.inFlight), forKey: "inFlight")
            object.updateValue(.int(state.confirmed), forKey: "confirmed")
            object.updateValue(.int(state.refused), forKey: "refused")
            object.updateValue(.int(state.retries), forKey: "retries")
            if let error = state.lastError { object.updateValue(.string(error), forKey: "lastError") }
            if !state.notes.isEmpty { object.updateValue(.array(state.notes.map { .string($0) }), forKey: "notes") }
            sinkList.append(.object(object))
        }
        root.updateValue(.array(sinkList), forKey: "sinks")
        if let holder = Self.sinkHoldingBack(sinks) { root.updateValue(.string(holder), forKey: "heldBackBy") }
        if let totals = statistics.storeTotals {
            root.updateValue(
                .object([
                    "known": .int(totals.devices),
                    "migrated": .int(totals.devicesMigrated),
                    "byInstance": .object(Self.counts(totals.devicesByInstance)),
                    "readAtSeconds": .double(totals.readAt),
                ]),
                forKey: "devices"
            )
            root.updateValue(
                .object([
                    "emitted": .int(totals.eventsEmitted),
                    "pending": .int(totals.eventsPending),
                    "readAtSeconds": .double(totals.readAt),
                ]),
                forKey: "events"
            )
        }
        if let migration { root.updateValue(.object(migration), forKey: "migration") }
        var bytes: [UInt8] = []
        JSONValue.object(root).writeJSON(into: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    /// A name → count map as a JSON object, in name order (stable output).
    private static func counts(_ counts: [String: Int]) -> JSONObject {
        JSONObject(counts.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) })
    }

    /// The sink that is retrying with messages waiting, else the one with the most in flight when it has many.
    static func sinkHoldingBack(_ sinks: [(name: String, state: SinkState)]) -> String? {
        if let retrying = sinks.first(where: { $0.state.phase == "retrying" && $0.state.inFlight > 0 }) { return retrying.name }
        // A listener whose consumer group has no consumer holds its messages unsettled upstream.
        if let holding = sinks.first(where: { $0.state.phase == "holding" && $0.state.inFlight > 0 }) { return holding.name }
        return nil
    }

    /// Reads the registry's and the outbox's totals into the statistics (SQLite or PostgreSQL); returns how long
    /// the read took. A failed read keeps the last totals: the store's failures are reported by the claims and
    /// settlement that depend on it.
    func refreshStoreTotals() async -> Duration {
        guard let store = self.eventStore as? any RegistryTotals else { return .zero }
        let clock = ContinuousClock()
        let start = clock.now
        guard let (registry, outbox) = try? await store.counts() else { return start.duration(to: clock.now) }
        let readAt = self.started.duration(to: clock.now)
        self.statistics.withLock { statistics in
            statistics.storeTotals = .init(
                devices: registry.devices,
                devicesMigrated: registry.migrated,
                devicesByInstance: registry.byInstance,
                eventsEmitted: outbox.written,
                eventsPending: outbox.undelivered,
                readAt: Double(readAt.components.seconds) + Double(readAt.components.attoseconds) / 1e18
            )
        }
        return start.duration(to: clock.now)
    }

    /// One line for a terminal: rates and counts.
    public func progressLine() -> String {
        let statistics = self.currentStatistics
        let received = statistics.upstreams.values.reduce(0) { $0 + $1.received }
        let duplicates = statistics.upstreams.values.reduce(0) { $0 + $1.duplicatesOf.values.reduce(0, +) }
        let dead = statistics.deadLettered.values.reduce(0, +)
        let flows = self.configuration.upstreams.map { "\($0.name) \(statistics.upstreams[$0.name]?.state ?? "-")" }
        return "in \(received) · settled \(statistics.settled) · duplicates \(duplicates) · dead \(dead) · in flight \(statistics.inFlight) · "
            + flows.joined(separator: ", ")
    }
}
