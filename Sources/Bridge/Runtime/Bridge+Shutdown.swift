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

/// Maintenance (window bounds, leases, stalls, long-waiting duplicates) and the graceful drain.
extension Bridge {
    /// Bounds the de-duplication window, refreshes gauges and detects stalled upstreams.
    func maintenanceLoop() async {
        var tick = 0
        // Registry and outbox totals for /status: every second, or every 10 s once counting takes long (a registry
        // of hundreds of thousands of devices), so the count never competes with claims for the store.
        var totalsEvery = 1
        while !self.isDraining {
            try? await Task.sleep(for: .seconds(1))
            tick += 1
            if tick % totalsEvery == 0 {
                totalsEvery = await self.refreshStoreTotals() > .milliseconds(50) ? 10 : 1
            }
            let inFlight = self.table.withLock { $0.count }
            self.metrics.inFlight.record(inFlight)
            self.statistics.withLock { $0.inFlight = inFlight }
            self.detectStalls()
            self.releaseLongWaitingDuplicates()
            // Claims of messages still in flight (a sink retrying for minutes) must not expire under them.
            let lease = self.configuration.dedup.lease
            if tick % max(1, Int(lease.components.seconds / 3)) == 0 {
                do {
                    try await self.store.renewLeases(owner: self.runID, until: Self.nowMilliseconds() + Int64(lease.components.seconds * 1000))
                    // Also tells /healthz that the store is back while no message needs it.
                    self.storeRecovered("renew leases", after: 1)
                } catch {
                    self.storeFailed(error)
                }
            }
            guard tick % 10 == 1 else { continue }
            let window = self.configuration.dedup
            let cutoff = Self.nowMilliseconds() - Int64(window.window.components.seconds * 1000)
            if let expiry = try? await self.store.expire(createdBefore: cutoff, maxEntries: window.maxEntries, now: Self.nowMilliseconds()) {
                if expiry.evictedEarly > 0 {
                    self.logger.warning(
                        "de-dup window full: evicted claims before their time (raise dedup.maxEntries)",
                        metadata: ["evicted": "\(expiry.evictedEarly)"]
                    )
                    self.statistics.withLock { $0.dedupEvictedEarly += expiry.evictedEarly }
                    self.metrics.dedupEvictedEarly.increment(by: expiry.evictedEarly)
                }
            }
            if let size = try? await self.store.claimCount() {
                self.statistics.withLock { $0.windowSize = size }
                self.metrics.windowSize.record(size)
            }
        }
    }

    /// Duplicates that waited `dedup.duplicateWait` for their original go back to their upstream (released): they
    /// must not hold its credit for as long as a sink is down. Redelivered later, they find the original done.
    func releaseLongWaitingDuplicates() {
        let now = ContinuousClock.now
        let limit = self.configuration.dedup.duplicateWait
        let expired = self.table.withLock { table in
            table.detachDuplicates { $0.receivedAt.duration(to: now) > limit }
        }
        guard !expired.isEmpty else { return }
        for item in expired { item.delivery.release() }
        self.logger.debug("released duplicates that waited too long for their original", metadata: ["count": "\(expired.count)"])
    }

    func detectStalls() {
        let now = self.started.duration(to: .now)
        let seconds = Double(now.components.seconds)
        let stallAfter = Double(self.configuration.stallAfter.components.seconds)
        self.statistics.withLock { statistics in
            let flowing = statistics.upstreams.values.contains { ($0.lastMessageAt ?? -1e9) > seconds - stallAfter }
            for name in statistics.upstreams.keys {
                var upstream = statistics.upstreams[name]!
                upstream.connectsDeferred = self.connectBudgets[name]?.deferredAttempts ?? 0
                if let last = upstream.lastMessageAt { self.metrics.lastMessageAge(name, seconds - last) }
                let quiet = (upstream.lastMessageAt ?? 0) < seconds - stallAfter
                if upstream.connectionsOpen > 0, quiet, flowing {
                    if upstream.state != "stalled" {
                        self.logger.warning("upstream stalled: connected but nothing delivered while another flows", metadata: ["upstream": "\(name)"])
                    }
                    upstream.state = "stalled"
                    self.metrics.stalled(name, true)
                } else if upstream.connectionsOpen > 0 {
                    upstream.state = "flowing"
                    self.metrics.stalled(name, false)
                }
                statistics.upstreams[name] = upstream
            }
        }
    }

    func waitUntilDraining() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = self.drainWaiters.withLock { waiters -> Bool in
                if self.isDraining { return true }
                waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Starts a graceful shutdown: no more credit anywhere.
    public func beginDrain() {
        guard !self.draining.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.logger.info("draining: granting no more credit; finishing in-flight messages")
        self.statistics.withLock { statistics in
            statistics.state = "draining"
            for name in statistics.upstreams.keys { statistics.upstreams[name]!.state = "draining" }
        }
        for receiver in self.receivers.withLock({ Array($0.values) }) { receiver.stopCredit() }
        let waiters = self.drainWaiters.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Finishes in-flight work within the deadline, records and settles it, releases the rest, closes.
    func drain() async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: self.configuration.shutdownDeadline)
        while clock.now < deadline {
            let busy = self.table.withLock { $0.count > 0 || $0.hasUpdates }
            if !busy { break }
            self.commitContinuation.yield()
            try? await Task.sleep(for: .milliseconds(20))
        }
        await self.commitOnce()
        let (release, abandon) = self.table.withLock { $0.abandonAll() }
        if !abandon.isEmpty { try? await self.store.abandon(abandon, owner: self.runID) }
        for item in release { item.delivery.release() }
        if !release.isEmpty {
            self.logger.warning("shutdown deadline reached: released unfinished messages for redelivery", metadata: ["count": "\(release.count)"])
        }
        let remaining = max(.milliseconds(100), clock.now.duration(to: deadline))
        for name in self.sinkOrder { await self.sinks[name]!.shutdown(deadline: remaining) }
        await self.deadLetter.shutdown(deadline: .milliseconds(500))
        for receiver in self.receivers.withLock({ Array($0.values) }) { receiver.close() }
        for connection in self.connections.withLock({ Array($0.values) }) { await connection.close() }
        self.statistics.withLock { statistics in
            for name in statistics.upstreams.keys { statistics.upstreams[name]!.state = "stopped" }
        }
    }

    /// A snapshot of the counters.
    public var currentStatistics: BridgeStatistics { self.statistics.withLock { $0 } }

    /// Each sink's state, in configuration order, then the dead letter's.
    public var sinkStates: [(name: String, state: SinkState)] {
        self.sinkOrder.map { ($0, self.sinks[$0]!.state) } + [("deadLetter", self.deadLetter.state)]
    }
}
