//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import StateStore

/// The messages the bridge is delivering right now, and the duplicates waiting for them: a value type with no
/// I/O, so every rule of the delivery guarantee is tested with transcripts (FlightTableTests).
///
/// - A flight is one message on its way to its targets (sinks, or rule dispatches). It completes when every
///   target is terminal: confirmed, or dead-lettered.
/// - Terminal targets are recorded in the claim store before anything is settled upstream; the table hands out
///   what to record (`takeUpdates`) and, once recorded, what to settle (`recorded`).
/// - A duplicate of a message in flight waits on that flight and is settled with it, after the same record.
/// - A flight given up (shutdown) releases its deliveries and abandons its claim, so the message is delivered
///   again rather than settled as a duplicate.
public struct FlightTable<Delivery: Sendable>: Sendable {
    /// Identifies a flight.
    public typealias ID = UInt64

    struct Flight {
        var key: ClaimKey?
        var pending: Set<String>
        var deadLettered = false
        /// The original delivery and any duplicates waiting for it.
        var deliveries: [Delivery]
    }

    private var flights: [ID: Flight] = [:]
    private var byKey: [ClaimKey: ID] = [:]
    private var nextID: ID = 1
    /// Claim updates not yet handed to the store.
    private var updates: [ClaimKey: ClaimUpdate] = [:]
    /// Deliveries of completed flights waiting for their update to be recorded, by the flight's key (flights
    /// without a key settle without a record and are returned at once).
    private var awaitingRecord: [ClaimKey: [Delivery]] = [:]

    /// Creates an empty table.
    public init() {}

    /// Flights in progress.
    public var count: Int { self.flights.count }

    /// Whether a flight for `key` is in progress.
    public func isInFlight(_ key: ClaimKey) -> Bool { self.byKey[key] != nil }

    /// Starts a flight for `delivery` to `targets`. A flight with no targets completes at once (returned in
    /// `settleNow` for a keyless flight, else queued for the record).
    public mutating func begin(key: ClaimKey?, targets: Set<String>, delivery: Delivery) -> (id: ID, settleNow: [Delivery]) {
        let id = self.nextID
        self.nextID += 1
        guard !targets.isEmpty else {
            if let key {
                self.updates[key, default: ClaimUpdate(key: key, terminalTargets: [], deadLettered: false, complete: true)].complete = true
                self.awaitingRecord[key, default: []].append(delivery)
                return (id, [])
            }
            return (id, [delivery])
        }
        self.flights[id] = Flight(key: key, pending: targets, deliveries: [delivery])
        if let key { self.byKey[key] = id }
        return (id, [])
    }

    /// A duplicate of a message in flight: it waits and is settled with the original. Returns false when no
    /// flight has that key (the caller then treats it as a new message).
    public mutating func attachDuplicate(key: ClaimKey, delivery: Delivery) -> Bool {
        guard let id = self.byKey[key] else { return false }
        self.flights[id]!.deliveries.append(delivery)
        return true
    }

    /// Removes a waiting duplicate (it waited too long and is released back to its upstream). Returns whether
    /// it was still waiting.
    public mutating func detachDuplicate(key: ClaimKey, where matches: (Delivery) -> Bool) -> Bool {
        guard let id = self.byKey[key], var flight = self.flights[id] else { return false }
        // Never the original (index 0): it is the one being delivered.
        guard let index = flight.deliveries.indices.dropFirst().first(where: { matches(flight.deliveries[$0]) }) else {
            return false
        }
        flight.deliveries.remove(at: index)
        self.flights[id] = flight
        return true
    }

    /// Removes every waiting duplicate (never an original) that `expired` selects: duplicates that waited too
    /// long for their original are released back to their upstream, so they do not hold its credit forever.
    public mutating func detachDuplicates(where expired: (Delivery) -> Bool) -> [Delivery] {
        var detached: [Delivery] = []
        for id in Array(self.flights.keys) {
            guard var flight = self.flights[id], flight.deliveries.count > 1 else { continue }
            let original = flight.deliveries[0]
            var kept = [original]
            for duplicate in flight.deliveries.dropFirst() {
                if expired(duplicate) { detached.append(duplicate) } else { kept.append(duplicate) }
            }
            flight.deliveries = kept
            self.flights[id] = flight
        }
        return detached
    }

    /// A target of a flight became terminal. Returns the deliveries to settle now (a keyless flight that
    /// completed); keyed flights settle through `takeUpdates`/`recorded`.
    public mutating func targetFinished(_ id: ID, target: String, deadLettered: Bool) -> [Delivery] {
        // Changed in place: a copy of the flight would copy its set and its deliveries (this runs per message).
        guard let index = self.flights.index(forKey: id), self.flights.values[index].pending.remove(target) != nil else {
            return []
        }
        if deadLettered { self.flights.values[index].deadLettered = true }
        let complete = self.flights.values[index].pending.isEmpty
        let key = self.flights.values[index].key
        if let key {
            var update = self.updates[key] ?? ClaimUpdate(key: key, terminalTargets: [], deadLettered: false, complete: false)
            update.terminalTargets.insert(target)
            update.deadLettered = update.deadLettered || deadLettered
            update.complete = update.complete || complete
            self.updates[key] = update
        }
        guard complete else { return [] }
        let flight = self.flights.remove(at: index).value
        guard let key else { return flight.deliveries }
        self.byKey.removeValue(forKey: key)
        self.awaitingRecord[key, default: []].append(contentsOf: flight.deliveries)
        return []
    }

    /// Whether updates are waiting to be recorded.
    public var hasUpdates: Bool { !self.updates.isEmpty }

    /// The updates to record now, and the deliveries to settle once they are recorded (pass them to
    /// `recorded` … or simply settle them after the store's write returned).
    public mutating func takeUpdates() -> (updates: [ClaimUpdate], settleAfterRecord: [Delivery]) {
        guard !self.updates.isEmpty else { return ([], []) }
        let updates = Array(self.updates.values)
        self.updates.removeAll(keepingCapacity: true)
        var settle: [Delivery] = []
        for update in updates where update.complete {
            if let deliveries = self.awaitingRecord.removeValue(forKey: update.key) { settle.append(contentsOf: deliveries) }
        }
        return (updates, settle)
    }

    /// Gives up every flight (shutdown after the deadline): returns their deliveries to release and their keys
    /// to abandon in the store. Updates already taken stay valid.
    public mutating func abandonAll() -> (release: [Delivery], abandon: [ClaimKey]) {
        var release: [Delivery] = []
        var keys: [ClaimKey] = []
        for flight in self.flights.values {
            release.append(contentsOf: flight.deliveries)
            if let key = flight.key { keys.append(key) }
        }
        self.flights.removeAll()
        self.byKey.removeAll()
        return (release, keys)
    }
}
