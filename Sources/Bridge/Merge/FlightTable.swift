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
/// - Keys are reserved here before the store is asked (`reserve`): while one batch looks a key up, a flight
///   carries it, or its completion is being recorded, a second delivery of it is a duplicate waiting for the
///   first. The store then never has to hold claims in flight for this process (see
///   `ClaimOptions.inFlightHeldByCaller`); only what is recorded needs a row.
public struct FlightTable<Delivery: Sendable>: Sendable {
    /// Identifies a flight.
    public typealias ID = UInt64

    struct Flight {
        var key: ClaimKey?
        /// The upstream of the original (duplicates are counted per upstream pair; recorded with the claim).
        var upstream: String
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
    private var awaitingRecord: [ClaimKey: Waiting] = [:]
    /// Keys a batch is looking up in the store right now, with the duplicates that arrived meanwhile.
    private var reserved: [ClaimKey: Waiting] = [:]
    /// Keys whose completing update was taken for the store and is being written, with the duplicates that
    /// arrived meanwhile (they settle after that write: `recorded`).
    private var recording: [ClaimKey: Waiting] = [:]

    /// Deliveries waiting on a key, and the upstream of the delivery that holds it.
    struct Waiting {
        var upstream: String
        var deliveries: [Delivery]
    }

    /// What `reserve` decided.
    public enum Reservation: Equatable, Sendable {
        /// The key is this delivery's: look it up in the store, then `begin` a flight or `endReservation`.
        case reserved
        /// Another delivery of the same key holds it (looked up, in flight, or being recorded): this one waits
        /// and settles with it. `original` is that delivery's upstream.
        case duplicate(original: String)
    }

    /// Creates an empty table.
    public init() {}

    /// Flights in progress.
    public var count: Int { self.flights.count }

    /// Whether a flight for `key` is in progress.
    public func isInFlight(_ key: ClaimKey) -> Bool { self.byKey[key] != nil }

    /// Takes `key` for `delivery` in this process, before the store is asked. A key another delivery holds — being
    /// looked up, in flight, or completed and being recorded — makes this one a duplicate that waits and settles
    /// with it; otherwise the key is reserved until ``begin(key:targets:delivery:upstream:)`` or
    /// ``endReservation(_:)``.
    public mutating func reserve(key: ClaimKey, upstream: String, delivery: Delivery) -> Reservation {
        if let id = self.byKey[key] {
            self.flights[id]!.deliveries.append(delivery)
            return .duplicate(original: self.flights[id]!.upstream)
        }
        // Spelled out, not a loop over key paths: this runs per message, and key paths are built at run time.
        if let original = Self.wait(delivery, on: key, in: &self.reserved)
            ?? Self.wait(delivery, on: key, in: &self.awaitingRecord)
            ?? Self.wait(delivery, on: key, in: &self.recording)
        {
            return .duplicate(original: original)
        }
        self.reserved[key] = Waiting(upstream: upstream, deliveries: [])
        return .reserved
    }

    /// Adds `delivery` to the deliveries waiting on `key` in `table` when it has the key; returns the upstream of
    /// the one holding it.
    private static func wait(_ delivery: Delivery, on key: ClaimKey, in table: inout [ClaimKey: Waiting]) -> String? {
        guard let index = table.index(forKey: key) else { return nil }
        table.values[index].deliveries.append(delivery)
        return table.values[index].upstream
    }

    /// Ends a reservation without a flight (the store says the message is done, or another process holds it):
    /// returns the duplicates that waited on it.
    public mutating func endReservation(_ key: ClaimKey) -> [Delivery] {
        self.reserved.removeValue(forKey: key)?.deliveries ?? []
    }

    /// Starts a flight for `delivery` to `targets`; duplicates that waited on the key's reservation join it. A
    /// flight with no targets completes at once (returned in `settleNow` for a keyless flight, else queued for
    /// the record).
    public mutating func begin(
        key: ClaimKey?,
        targets: Set<String>,
        delivery: Delivery,
        upstream: String = ""
    ) -> (id: ID, settleNow: [Delivery]) {
        let id = self.nextID
        self.nextID += 1
        let waiting = key.flatMap { self.reserved.removeValue(forKey: $0)?.deliveries } ?? []
        guard !targets.isEmpty else {
            if let key {
                self.updates[key, default: ClaimUpdate(key: key, terminalTargets: [], deadLettered: false, complete: true, upstream: upstream)]
                    .complete = true
                self.awaitingRecord[key, default: Waiting(upstream: upstream, deliveries: [])].deliveries.append(contentsOf: [delivery] + waiting)
                return (id, [])
            }
            return (id, [delivery])
        }
        self.flights[id] = Flight(key: key, upstream: upstream, pending: targets, deliveries: [delivery] + waiting)
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
            let upstream = self.flights.values[index].upstream
            var update = self.updates[key] ?? ClaimUpdate(key: key, terminalTargets: [], deadLettered: false, complete: false, upstream: upstream)
            update.terminalTargets.insert(target)
            update.deadLettered = update.deadLettered || deadLettered
            update.complete = update.complete || complete
            self.updates[key] = update
        }
        guard complete else { return [] }
        let flight = self.flights.remove(at: index).value
        guard let key else { return flight.deliveries }
        self.byKey.removeValue(forKey: key)
        self.awaitingRecord[key, default: Waiting(upstream: flight.upstream, deliveries: [])].deliveries.append(contentsOf: flight.deliveries)
        return []
    }

    /// Whether updates are waiting to be recorded.
    public var hasUpdates: Bool { !self.updates.isEmpty }

    /// The updates to record now, and the deliveries to settle once they are recorded. Until ``recorded(_:)``,
    /// a new delivery of a completed key waits for the write too (`reserve` makes it a duplicate).
    public mutating func takeUpdates() -> (updates: [ClaimUpdate], settleAfterRecord: [Delivery]) {
        guard !self.updates.isEmpty else { return ([], []) }
        let updates = Array(self.updates.values)
        self.updates.removeAll(keepingCapacity: true)
        var settle: [Delivery] = []
        for update in updates where update.complete {
            let waiting = self.awaitingRecord.removeValue(forKey: update.key)
            if let waiting { settle.append(contentsOf: waiting.deliveries) }
            self.recording[update.key] = Waiting(upstream: waiting?.upstream ?? update.upstream, deliveries: [])
        }
        return (updates, settle)
    }

    /// The store wrote `updates` (taken by ``takeUpdates()``): returns the duplicates that arrived for their keys
    /// during the write, to settle now.
    public mutating func recorded(_ updates: [ClaimUpdate]) -> [Delivery] {
        var settle: [Delivery] = []
        for update in updates where update.complete {
            if let waiting = self.recording.removeValue(forKey: update.key) { settle.append(contentsOf: waiting.deliveries) }
        }
        return settle
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
        // Duplicates waiting on a lookup go back too; the delivery that holds the reservation is its batch's.
        for waiting in self.reserved.values { release.append(contentsOf: waiting.deliveries) }
        self.reserved.removeAll()
        self.flights.removeAll()
        self.byKey.removeAll()
        return (release, keys)
    }
}
