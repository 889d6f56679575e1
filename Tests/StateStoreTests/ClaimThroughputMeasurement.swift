//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore
import Testing

/// How fast the SQLite claim window is, printed, never asserted (a shared machine's figures vary). Off unless
/// `IOTBRIDGE_MEASURE` is set:
///
///     IOTBRIDGE_MEASURE=1 swift test --skip-build --scratch-path .build-store \
///         --filter ClaimThroughputMeasurement
///
/// `IOTBRIDGE_MEASURE_CLAIMS` changes the count (default 1,000,000); `IOTBRIDGE_MEASURE_SYNC=full` measures
/// `synchronous = FULL`.
@Suite struct ClaimThroughputMeasurement {
    static let environment = ProcessInfo.processInfo.environment
    static let batch = 500

    @Test(.enabled(if: Self.environment["IOTBRIDGE_MEASURE"] != nil))
    func claimRecordAndExpireAWindow() async throws {
        let total = Int(Self.environment["IOTBRIDGE_MEASURE_CLAIMS"] ?? "") ?? 1_000_000
        let synchronous: SQLiteStateStore.Synchronous =
            Self.environment["IOTBRIDGE_MEASURE_SYNC"] == "full" ? .full : .normal
        let folder = try StateFolder()
        let store = try folder.open(synchronous: synchronous, exclusive: true)
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

        let fileBytes = Self.size(folder.statePath)
        let walBytes = Self.size(folder.statePath + "-wal")
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
            claim window, \(total.formatted()) claims in batches of \(Self.batch), synchronous \(synchronous):
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
