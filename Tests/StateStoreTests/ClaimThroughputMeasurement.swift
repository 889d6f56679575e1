//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import PostgresNIO
import PostgresStateStore
import StateStore
import Testing

/// How fast the SQLite claim window is, printed, never asserted (a shared machine's figures vary). Off unless
/// `IOTBRIDGE_MEASURE` is set:
///
///     IOTBRIDGE_MEASURE=1 swift test --skip-build --scratch-path .build-store \
///         --filter ClaimThroughputMeasurement
///
/// `IOTBRIDGE_MEASURE_CLAIMS` changes the count (default 1,000,000); `IOTBRIDGE_MEASURE_SYNC=full` measures
/// `synchronous = FULL`. `IOTBRIDGE_MEASURE_STORE=postgres` measures the PostgreSQL store instead (a fresh
/// database on `IOTBRIDGE_POSTGRES_URL`; the size is `pg_total_relation_size` of the claim table with its
/// indexes), and `claimsByReplicas` then measures 1, 2 and 3 stores claiming at once.
@Suite struct ClaimThroughputMeasurement {
    static let environment = ProcessInfo.processInfo.environment
    static let batch = 500

    @Test(.enabled(if: Self.environment["IOTBRIDGE_MEASURE"] != nil))
    func claimRecordAndExpireAWindow() async throws {
        let total = Int(Self.environment["IOTBRIDGE_MEASURE_CLAIMS"] ?? "") ?? 1_000_000
        let synchronous: SQLiteStateStore.Synchronous =
            Self.environment["IOTBRIDGE_MEASURE_SYNC"] == "full" ? .full : .normal
        let folder = try StateFolder()
        let postgres = Self.environment["IOTBRIDGE_MEASURE_STORE"] == "postgres"
        let location = postgres ? try await TestPostgres.freshDatabase() : nil
        let store: any ClaimStore
        var runner: TestPostgres.Runner?
        if let location {
            let shared = try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
            runner = TestPostgres.Runner(shared)
            store = shared
        } else {
            store = try folder.open(synchronous: synchronous, exclusive: true)
        }
        defer { withExtendedLifetime(runner) {} }
        let owner = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"  // a UUID, as the bridge's run id
        let startedAt: Int64 = 1_700_000_000_000
        let rssBefore = Self.memory("VmRSS")

        // As the bridge does: claim a batch, deliver it, record it done; one transaction each.
        let clock = ContinuousClock()
        var claiming = Duration.zero
        var recording = Duration.zero
        var slowestClaim = Duration.zero
        var claimTimes: [Duration] = []
        var claimed = 0
        for (index, start) in stride(from: 0, to: total, by: Self.batch).enumerated() {
            let slice = (start..<min(start + Self.batch, total)).map(Self.key)
            let requests = slice.map { ClaimRequest(key: $0, upstream: "amqps://instance-a/consumer-group-1") }
            let updates = slice.map {
                ClaimUpdate(key: $0, terminalTargets: ["sink-kafka", "sink-http"], deadLettered: false, complete: true)
            }
            let now = startedAt + Int64(index)
            var began = clock.now
            let results = try await store.claim(
                requests,
                options: ClaimOptions(owner: owner, now: now, leaseUntil: now + 60_000, otherOwnersAreGone: true)
            )
            let took = clock.now - began
            claiming += took
            slowestClaim = max(slowestClaim, took)
            claimTimes.append(took)
            claimed += results.count { if case .claimed = $0 { true } else { false } }
            began = clock.now
            try await store.record(updates)
            recording += clock.now - began
        }
        #expect(claimed == total)

        // Duplicates: the first tenth again, all done.
        let duplicates = total / 10
        var duplicateClaiming = Duration.zero
        for start in stride(from: 0, to: duplicates, by: Self.batch) {
            let requests = (start..<min(start + Self.batch, duplicates)).map {
                ClaimRequest(key: Self.key($0), upstream: "amqps://instance-b/consumer-group-1")
            }
            let now = startedAt + Int64(total)
            let began = clock.now
            _ = try await store.claim(
                requests,
                options: ClaimOptions(owner: owner, now: now, leaseUntil: now + 60_000, otherOwnersAreGone: true)
            )
            duplicateClaiming += clock.now - began
        }

        var fileBytes = Self.size(folder.statePath)
        var walBytes = Self.size(folder.statePath + "-wal")
        if let location {
            fileBytes = try await PostgresClaimStoreTests.query(
                location,
                "SELECT pg_total_relation_size('iotbridge_claim')"
            )
            walBytes = 0
        }
        var began = clock.now
        let count = try await store.claimCount()
        let counting = clock.now - began

        // Expiry: a tenth beyond the count bound, then another tenth past the time bound.
        let now = startedAt + Int64(total)
        began = clock.now
        let evicted = try await store.expire(createdBefore: 0, maxEntries: total - total / 10, now: now)
        let evicting = clock.now - began
        began = clock.now
        let cutoff = startedAt + Int64(total / Self.batch / 5)
        let expired = try await store.expire(createdBefore: cutoff, maxEntries: total, now: now)
        let expiring = clock.now - began

        func milliseconds(_ duration: Duration) -> String {
            duration.formatted(.units(allowed: [.milliseconds]))
        }
        func rate(_ count: Int, _ duration: Duration) -> String {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
            return "\(Int(Double(count) / seconds).formatted()) /s (\(milliseconds(duration)))"
        }
        print(
            """
            claim window (\(postgres ? "PostgreSQL" : "SQLite")), \(total.formatted()) claims in batches of \(Self.batch), synchronous \(synchronous):
              claims            \(rate(total, claiming)), batch p99 \(milliseconds(claimTimes.sorted()[claimTimes.count * 99 / 100])), slowest batch \(milliseconds(slowestClaim))
              records (done)    \(rate(total, recording))
              duplicate claims  \(rate(duplicates, duplicateClaiming))
              claimCount        \(count.formatted()) in \(milliseconds(counting))
              file              \(fileBytes.formatted()) bytes (+ WAL \(walBytes.formatted()))
              evict by count    \(evicted.evictedEarly.formatted()) in \(milliseconds(evicting))
              expire by time    \(expired.expired.formatted()) in \(milliseconds(expiring))
              RSS               \(rssBefore) before, VmHWM \(Self.memory("VmHWM"))
            """
        )
    }

    /// Claims and records by 1, 2 and 3 PostgreSQL stores at once (replicas), each its own keys, batches of 500:
    /// the rate of the whole and the round trips per second. `IOTBRIDGE_MEASURE_CLAIMS` is per replica count.
    @Test(
        .enabled(
            if: Self.environment["IOTBRIDGE_MEASURE"] != nil && Self.environment["IOTBRIDGE_MEASURE_STORE"] == "postgres"
        )
    )
    func claimsByReplicas() async throws {
        let total = Int(Self.environment["IOTBRIDGE_MEASURE_REPLICA_CLAIMS"] ?? "") ?? 200_000
        let location = try await TestPostgres.freshDatabase()
        var lines: [String] = []
        var offset = 0
        for replicas in 1...3 {
            let stores = try (0..<replicas).map { _ in
                try PostgresClaimStore(location: location, operationTimeout: .seconds(60), logger: testLogger)
            }
            let runners = stores.map(TestPostgres.Runner.init)
            _ = try await stores[0].claimCount()
            let share = total / replicas
            let base = offset
            offset += total
            let clock = ContinuousClock()
            let began = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        let first = base + index * share
                        for start in stride(from: first, to: first + share, by: Self.batch) {
                            let slice = (start..<min(start + Self.batch, first + share)).map(Self.key)
                            let now: Int64 = 1_700_000_000_000
                            _ = try await store.claim(
                                slice.map { ClaimRequest(key: $0, upstream: "amqps://instance-a/consumer-group-1") },
                                options: ClaimOptions(owner: "replica-\(index)", now: now, leaseUntil: now + 60_000, otherOwnersAreGone: false)
                            )
                            try await store.record(
                                slice.map {
                                    ClaimUpdate(key: $0, terminalTargets: ["sink-kafka"], deadLettered: false, complete: true)
                                }
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            let took = began.duration(to: clock.now)
            let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) * 1e-18
            let batches = (total + Self.batch - 1) / Self.batch
            lines.append(
                "  \(replicas) replica(s): \(Int(Double(total) / seconds).formatted()) claims+records/s, "
                    + "\(Int(Double(2 * batches) / seconds).formatted()) round trips/s (\(Self.batch) claims each), "
                    + "\(took.formatted(.units(allowed: [.milliseconds])))"
            )
            withExtendedLifetime(runners) {}
        }
        print("PostgreSQL claim window, \(total.formatted()) claims per run, batches of \(Self.batch):\n" + lines.joined(separator: "\n"))
    }

    /// Claim `n`: random-looking and the same in every run, computed rather than held (a million keys would
    /// weigh as much as the store's memory).
    private static func key(_ n: Int) -> ClaimKey {
        var generator = SplitMix64(state: UInt64(n))
        let bytes = withUnsafeBytes(of: (generator.next(), generator.next())) { Array($0) }
        return ClaimKey(key: bytes, contentDigest: Int64(bitPattern: generator.next()))
    }

    private static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// A line of /proc/self/status, e.g. "VmHWM: 51234 kB".
    private static func memory(_ field: String) -> String {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        return line.map { $0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces) } ?? "?"
    }
}

/// A small seeded generator, so that every run claims the same keys.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
