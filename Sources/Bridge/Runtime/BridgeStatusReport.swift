//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

extension Bridge {
    /// `/status` as JSON: the overall state, each upstream's state and counts, the window, each sink's state,
    /// and the sink holding the stream back, if one is.
    public func statusJSON() -> [UInt8] {
        let statistics = self.currentStatistics
        let sinks = self.sinkStates
        var root = JSONObject()
        root.updateValue(.string(statistics.state), forKey: "state")
        root.updateValue(.string(self.runID), forKey: "run")
        var upstreams: [JSONValue] = []
        for upstream in self.configuration.upstreams {
            let counts = statistics.upstreams[upstream.name] ?? .init()
            var object = JSONObject()
            object.updateValue(.string(upstream.name), forKey: "name")
            object.updateValue(.string(counts.state), forKey: "state")
            object.updateValue(.int(counts.connectionsOpen), forKey: "connectionsOpen")
            object.updateValue(.int(upstream.connections), forKey: "connections")
            object.updateValue(.int(counts.received), forKey: "received")
            object.updateValue(.int(counts.duplicatesOf.values.reduce(0, +)), forKey: "duplicates")
            object.updateValue(.object(JSONObject(counts.duplicatesOf.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) })), forKey: "duplicatesOf")
            object.updateValue(.int(counts.withoutMessageId), forKey: "withoutMessageId")
            object.updateValue(.int(counts.presettled), forKey: "presettled")
            object.updateValue(.int(counts.reconnects), forKey: "reconnects")
            object.updateValue(.int(counts.connectsDeferred), forKey: "connectsDeferred")
            if let last = counts.lastMessageAt { object.updateValue(.double(last), forKey: "lastMessageAtSeconds") }
            if let error = counts.lastError { object.updateValue(.string(error), forKey: "lastError") }
            upstreams.append(.object(object))
        }
        root.updateValue(.array(upstreams), forKey: "upstreams")
        var window = JSONObject()
        window.updateValue(.int(statistics.windowSize), forKey: "entries")
        window.updateValue(.int(self.configuration.dedup.maxEntries), forKey: "maxEntries")
        window.updateValue(.int(Int(self.configuration.dedup.window.components.seconds)), forKey: "windowSeconds")
        window.updateValue(.int(statistics.dedupConflicts), forKey: "conflicts")
        window.updateValue(.int(statistics.dedupEvictedEarly), forKey: "evictedEarly")
        window.updateValue(.string(self.configuration.state), forKey: "store")
        if let error = statistics.stateStoreError { window.updateValue(.string(error), forKey: "storeError") }
        root.updateValue(.object(window), forKey: "dedup")
        root.updateValue(.int(statistics.inFlight), forKey: "inFlight")
        root.updateValue(.int(statistics.settled), forKey: "settled")
        root.updateValue(.int(statistics.filtered), forKey: "filtered")
        root.updateValue(.object(JSONObject(statistics.deadLettered.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) })), forKey: "deadLettered")
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
        if let migration = self.migrationStatusJSON() { root.updateValue(.object(migration), forKey: "migration") }
        var bytes: [UInt8] = []
        JSONValue.object(root).writeJSON(into: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    /// The sink that is retrying with messages waiting, else the one with the most in flight when it has many.
    static func sinkHoldingBack(_ sinks: [(name: String, state: SinkState)]) -> String? {
        if let retrying = sinks.first(where: { $0.state.phase == "retrying" && $0.state.inFlight > 0 }) { return retrying.name }
        // A listener whose consumer group has no consumer holds its messages unsettled upstream.
        if let holding = sinks.first(where: { $0.state.phase == "holding" && $0.state.inFlight > 0 }) { return holding.name }
        return nil
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
