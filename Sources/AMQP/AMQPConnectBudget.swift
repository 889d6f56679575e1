//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// Connection attempts that several connections share: the IoT platform accepts at most 100 connects per
/// minute per consumer group, over all of the group's clients. Give every connection of one group the same
/// budget (`AMQPConnectionConfiguration.connectBudget`); an attempt beyond it waits until the window has room
/// instead of being made and refused. Replicas of one service that share a group should divide the limit.
public final class AMQPConnectBudget: Sendable, CustomStringConvertible {
    private let window: Mutex<ConnectRateWindow>

    /// Attempts allowed per period.
    public let limit: Int
    /// The length of the window.
    public let period: Duration

    /// Creates a budget of `limit` attempts (at least 1) per `period`. Default: the platform's 100 per minute.
    public init(limit: Int = 100, per period: Duration = .seconds(60)) {
        self.limit = max(1, limit)
        self.period = period
        self.window = Mutex(ConnectRateWindow(limit: limit, period: period))
    }

    /// How many attempts had to wait for the window so far.
    public var deferredAttempts: Int { self.window.withLock { $0.deferred } }

    /// Takes one attempt now, or says how long to wait before asking again.
    func take() -> Duration? {
        switch self.window.withLock({ $0.request(at: .now) }) {
        case .connect: return nil
        case .wait(let delay): return delay
        }
    }

    /// The limit and the period.
    public var description: String { "AMQPConnectBudget(\(self.limit) per \(self.period))" }
}
