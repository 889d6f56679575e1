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

/// Recording and settling: finished targets recorded in groups, then the upstream deliveries they guard accepted.
extension Bridge {
    /// Records finished targets in groups (one store transaction per group), then settles the upstream
    /// deliveries those records guard.
    func commitLoop() async throws {
        for await _ in self.commitSignal {
            await self.commitOnce()
        }
        await self.commitOnce()
    }

    func commitOnce() async {
        let (updates, settle) = self.table.withLock { $0.takeUpdates() }
        if !updates.isEmpty {
            do {
                try await self.withStoreRetry("record") { try await self.store.record(updates) }
            } catch {
                // Draining with the store failing: nothing is settled; everything is redelivered.
                return
            }
        }
        self.settle(settle + self.table.withLock { $0.recorded(updates) })
        let rechecks = self.recheck.withLock { list -> [(BridgeMessage, Inbound)] in
            defer { list.removeAll() }
            return list
        }
        if !rechecks.isEmpty {
            if updates.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
            await self.claimAndDeliver(rechecks, reserved: true)
        }
    }

    /// Retries a store operation with backoff while the bridge runs: a store error must stop settlement, never
    /// skip it. Throws only when draining.
    func withStoreRetry<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                let result = try await body()
                if attempt > 0 { self.storeRecovered(what, after: attempt) }
                return result
            } catch {
                attempt += 1
                self.storeFailed(error)
                if attempt == 1 || attempt % 20 == 0 {
                    self.logger.error("state store \(what) failed; retrying", metadata: ["error": "\(error)"])
                }
                if self.isDraining && attempt > 3 { throw error }
                try? await Task.sleep(for: .milliseconds(min(2000, 50 * attempt)))
            }
        }
    }

    /// The store fails: /healthz answers 503 with the reason, /status shows it, the state is degraded.
    func storeFailed(_ error: any Error) {
        self.statistics.withLock { statistics in
            statistics.stateStoreError = "\(error)"
            if statistics.state == "flowing" { statistics.state = "degraded" }
        }
    }

    /// The store answers again: /healthz and /status say so, and the log says after how many attempts.
    func storeRecovered(_ what: String, after attempts: Int) {
        let wasFailing = self.statistics.withLock { statistics -> Bool in
            defer {
                statistics.stateStoreError = nil
                if statistics.state == "degraded" { statistics.state = "flowing" }
            }
            return statistics.stateStoreError != nil
        }
        if wasFailing {
            self.logger.notice("state store \(what) succeeded again", metadata: ["attempts": "\(attempts)"])
        }
    }

    /// Accepts deliveries, one hand-over per receiver.
    func settle(_ inbound: [Inbound]) {
        guard !inbound.isEmpty else { return }
        let now = ContinuousClock.now
        var bySlot: [Int: [AMQPDelivery]] = [:]
        for item in inbound {
            bySlot[item.slot, default: []].append(item.delivery)
            let waited = item.receivedAt.duration(to: now).components
            self.metrics.settleLatency.recordNanoseconds(waited.seconds * 1_000_000_000 + waited.attoseconds / 1_000_000_000)
        }
        let receivers = self.receivers.withLock { $0 }
        for (slot, deliveries) in bySlot {
            if let receiver = receivers[slot] {
                receiver.settle(deliveries, .accepted)
            } else {
                for delivery in deliveries { delivery.accept() }
            }
        }
        self.statistics.withLock { $0.settled += inbound.count }
    }
}
