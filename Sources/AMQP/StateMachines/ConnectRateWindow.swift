//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A sliding window of connection attempts: at most `limit` attempts in any `period`. The IoT platform allows
/// 100 connects per minute per consumer group, counted over all of the group's clients, so every connection of a
/// group asks one shared window before each attempt. Pure value type: `AMQPConnectBudget` guards it with a lock.
struct ConnectRateWindow {
    /// What the caller may do now.
    enum Decision: Equatable {
        /// Connect now; the attempt is counted.
        case connect
        /// The window is full: ask again after this long (when the oldest attempt leaves the window).
        case wait(Duration)
    }

    /// Attempts allowed per period.
    let limit: Int
    /// The length of the window.
    let period: Duration
    /// The instants of the attempts still in the window, oldest first.
    private(set) var attempts: [ContinuousClock.Instant] = []
    /// How many requests had to wait, in total.
    private(set) var deferred = 0

    /// Creates an empty window; `limit` is at least 1.
    init(limit: Int, period: Duration) {
        self.limit = max(1, limit)
        self.period = period
    }

    /// Counts an attempt at `now` if the window has room, else says how long to wait.
    mutating func request(at now: ContinuousClock.Instant) -> Decision {
        let horizon = now - self.period
        if let keep = self.attempts.firstIndex(where: { $0 > horizon }) {
            self.attempts.removeFirst(keep)
        } else {
            self.attempts.removeAll(keepingCapacity: true)
        }
        if self.attempts.count < self.limit {
            self.attempts.append(now)
            return .connect
        }
        self.deferred += 1
        return .wait(self.attempts[0] + self.period - now)
    }
}
