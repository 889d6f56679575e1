//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// A sink's rate cap (`cap: { messagesPerSecond, bytesPerSecond }`) as a token bucket with one second of burst.
///
/// `acquire` waits until the message fits. The wait happens in the upstream loop that is delivering, so that
/// upstream stops being read and its credit is not topped up: the cap is enforced by withholding credit, and
/// nothing is dropped. Credit already granted (and a peer that overruns it) can exceed the cap briefly: best
/// effort, as the README says.
final class RateCapLimiter: Sendable {
    private struct Bucket {
        var messages: Double
        var bytes: Double
        var last: ContinuousClock.Instant
    }

    let messagesPerSecond: Double?
    let bytesPerSecond: Double?
    private let bucket: Mutex<Bucket>

    init(_ cap: RateCap) {
        self.messagesPerSecond = cap.messagesPerSecond
        self.bytesPerSecond = cap.bytesPerSecond
        self.bucket = Mutex(Bucket(messages: cap.messagesPerSecond ?? 0, bytes: cap.bytesPerSecond ?? 0, last: .now))
    }

    /// Waits until one message of `bytes` bytes fits under the cap, then takes it.
    func acquire(bytes: Int) async {
        while true {
            let wait: Double = self.bucket.withLock { bucket in
                let now = ContinuousClock.now
                let elapsed = bucket.last.duration(to: now)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                bucket.last = now
                if let rate = self.messagesPerSecond { bucket.messages = min(rate, bucket.messages + seconds * rate) }
                if let rate = self.bytesPerSecond { bucket.bytes = min(rate, bucket.bytes + seconds * rate) }
                var wait = 0.0
                if let rate = self.messagesPerSecond, bucket.messages < 1 { wait = max(wait, (1 - bucket.messages) / rate) }
                // A message larger than a second's worth of bytes passes once the bucket is full.
                if let rate = self.bytesPerSecond {
                    let needed = min(Double(bytes), rate)
                    if bucket.bytes < needed { wait = max(wait, (needed - bucket.bytes) / rate) }
                }
                if wait == 0 {
                    if self.messagesPerSecond != nil { bucket.messages -= 1 }
                    if self.bytesPerSecond != nil { bucket.bytes -= min(Double(bytes), self.bytesPerSecond!) }
                }
                return wait
            }
            if wait == 0 { return }
            try? await Task.sleep(for: .milliseconds(Int64(max(1, wait * 1000))))
        }
    }
}
