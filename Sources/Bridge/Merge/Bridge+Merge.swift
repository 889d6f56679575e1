//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Logging
import Metrics
import StateStore
import Synchronization

/// Merging: each batch claimed in one store transaction; new messages start a flight, duplicates wait or settle.
extension Bridge {
    /// One batch of one receiver: build the messages, claim their keys in one store transaction, and start a
    /// flight for each new one; duplicates wait for or settle after their original.
    func process(_ batch: [AMQPDelivery], upstream: UpstreamConfiguration, slot: Int) async {
        let now = ContinuousClock.now
        var keyed: [(BridgeMessage, Inbound)] = []
        var presettled = 0
        let messages = batch.map { delivery in
            BridgeMessage(
                delivery: delivery,
                upstream: upstream.name,
                instanceLabel: upstream.instanceLabel,
                maxMessageSize: self.configuration.maxMessageSize
            )
        }
        // Migration facts commit before anything of the batch can be settled; when the store fails while
        // draining, the batch stays unsettled and is released at detach.
        guard await self.observeMigrationFacts(messages, upstream: upstream) else { return }
        for (delivery, message) in zip(batch, messages) {
            if delivery.isPresettled { presettled += 1 }
            let inbound = Inbound(slot: slot, delivery: delivery, receivedAt: now)
            if message.claimKey == nil {
                if message.defect == nil { self.upstreamEvent(upstream.name) { $0.withoutMessageId += 1 } }
                await self.deliver(message, inbound: inbound, key: nil, alreadyFinished: [])
            } else {
                keyed.append((message, inbound))
            }
        }
        let elapsed = self.started.duration(to: now)
        self.upstreamEvent(upstream.name) {
            $0.received += batch.count
            $0.presettled += presettled
            $0.lastMessageAt = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        self.metrics.received(upstream.name, batch.count)
        await self.claimAndDeliver(keyed)
    }

    /// Claims the keys of `keyed` and delivers what is new. Each key is first taken in the flight table, so a
    /// second delivery of a key this process holds (being looked up, in flight, or being recorded) waits for the
    /// first without asking the store; the store is asked only for the rest, in one call. `reserved`: the keys
    /// are already this batch's (a recheck).
    func claimAndDeliver(_ keyed: [(BridgeMessage, Inbound)], reserved: Bool = false) async {
        guard !keyed.isEmpty else { return }
        let reservations: [FlightTable<Inbound>.Reservation] =
            reserved
            ? Array(repeating: .reserved, count: keyed.count)
            : self.table.withLock { table in keyed.map { table.reserve(key: $0.0.claimKey!, upstream: $0.0.upstream, delivery: $0.1) } }
        var claiming: [(BridgeMessage, Inbound)] = []
        claiming.reserveCapacity(keyed.count)
        for (item, reservation) in zip(keyed, reservations) {
            switch reservation {
            case .reserved: claiming.append(item)
            case .duplicate(let original): self.countDuplicate(item.0.upstream, original: original)
            }
        }
        guard !claiming.isEmpty else { return }
        let requests = claiming.map { ClaimRequest(key: $0.0.claimKey!, upstream: $0.0.upstream) }
        let results: [ClaimResult]
        do {
            results = try await self.withStoreRetry("claim") {
                let now = Self.nowMilliseconds()
                let lease = now + Int64(self.configuration.dedup.lease.components.seconds * 1000)
                return try await self.store.claim(
                    requests,
                    // Replicas share a PostgreSQL store: their claims hold by lease. A SQLite file is ours alone, so any
                    // other owner there is an earlier run of this bridge, and our claims in flight live in the flight
                    // table only: the lookup writes nothing.
                    options: ClaimOptions(
                        owner: self.runID,
                        now: now,
                        leaseUntil: lease,
                        otherOwnersAreGone: self.sharedStore == nil,
                        inFlightHeldByCaller: self.sharedStore == nil
                    )
                )
            }
        } catch {
            // Draining: the batch and its waiting duplicates stay unsettled and are released at detach.
            self.table.withLock { table in
                for (message, _) in claiming { _ = table.endReservation(message.claimKey!) }
            }
            return
        }
        for ((message, inbound), result) in zip(claiming, results) {
            let key = message.claimKey!
            switch result {
            case .claimed(let finished, let conflict):
                if conflict {
                    self.statistics.withLock { $0.dedupConflicts += 1 }
                    self.metrics.dedupConflicts.increment()
                }
                await self.deliver(message, inbound: inbound, key: key, alreadyFinished: finished)
            case .inFlight:
                // Held by another replica (or by our own claim whose record is on its way): keep the reservation
                // (duplicates go on waiting on it) and ask again shortly.
                self.recheck.withLock { $0.append((message, inbound)) }
                self.commitContinuation.yield()
            case .done(let original, _):
                let waiting = self.table.withLock { $0.endReservation(key) }
                self.countDuplicate(message.upstream, original: original)
                self.settle([inbound] + waiting)
            }
        }
    }

    func countDuplicate(_ upstream: String, original: String) {
        self.upstreamEvent(upstream) { $0.duplicatesOf[original, default: 0] += 1 }
        self.metrics.duplicate(upstream, original: original)
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
