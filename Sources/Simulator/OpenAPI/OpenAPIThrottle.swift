//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Decides which authenticated calls to refuse with `Throttling.User` (see
/// ``SimulatedOpenAPIConfiguration/Throttling``). A value type, so that its decisions are testable with a given
/// clock.
///
/// QPS limits count calls in whole wall-clock seconds, as a per-second quota does; refused calls do not count,
/// so a client that backs off gets through in the next second.
struct OpenAPIThrottle: Sendable {
    private var actionQPS: [String: Int]
    private var pending: [String: Int]
    /// Action → (second, calls admitted in it).
    private var windows: [String: (second: Int64, calls: Int)] = [:]

    /// A throttle with these settings.
    init(_ settings: SimulatedOpenAPIConfiguration.Throttling) {
        self.actionQPS = settings.actionQPS
        self.pending = settings.throttleNext.filter { $0.value > 0 }
    }

    /// Refuses the next `count` calls of `action` (added to any still pending); 0 cancels.
    mutating func throttleNext(_ count: Int, of action: String) {
        self.pending[action] = count > 0 ? (self.pending[action] ?? 0) + count : nil
    }

    /// Sets or (with `nil`) lifts the QPS limit of an action.
    mutating func setQPS(_ limit: Int?, for action: String) {
        self.actionQPS[action] = limit
    }

    /// How many calls of `action` are still to be refused by ``throttleNext(_:of:)``.
    func pendingRefusals(of action: String) -> Int { self.pending[action] ?? 0 }

    /// Whether a call of `action` at `now` may run; a refused call is not counted against the action's QPS.
    mutating func admit(_ action: String, now: Date) -> Bool {
        if let left = self.pending[action] {
            self.pending[action] = left > 1 ? left - 1 : nil
            return false
        }
        guard let limit = self.actionQPS[action] else { return true }
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        var window = self.windows[action] ?? (second, 0)
        if window.second != second { window = (second, 0) }
        guard window.calls < limit else { return false }
        window.calls += 1
        self.windows[action] = window
        return true
    }
}
