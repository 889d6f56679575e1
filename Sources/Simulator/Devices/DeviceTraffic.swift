//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Makes the devices of a simulation send at a steady rate: devices in turn, message kinds in turn by their
/// weights (e.g. custom 2, property 1: two custom-topic messages for each property post).
public struct DeviceTraffic: Sendable {
    /// Messages per second over all devices (a status reconnect counts as one).
    public var rate: Double
    /// Each kind's share; kinds with weight 0 are not sent.
    public var mix: [SimulatedMessageKind: Int]

    /// Creates traffic. Default mix: custom 1, property 1, no status.
    public init(rate: Double, mix: [SimulatedMessageKind: Int] = [.custom: 1, .property: 1]) {
        self.rate = rate
        self.mix = mix
    }

    /// The kinds in the order they are sent, one entry per unit of weight.
    var cycle: [SimulatedMessageKind] {
        SimulatedMessageKind.allCases.flatMap { kind in Array(repeating: kind, count: max(0, self.mix[kind] ?? 0)) }
    }

    /// Sends until the task is cancelled (or `limit` messages were sent); returns how many were sent.
    @discardableResult
    public func run(_ simulation: Simulation, limit: Int? = nil) async -> Int {
        let devices = simulation.fleet.devices
        let kinds = self.cycle
        guard !devices.isEmpty, !kinds.isEmpty, self.rate > 0 else { return 0 }
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        let tick = Duration.milliseconds(10)
        while !Task.isCancelled, sent < (limit ?? Int.max) {
            // How many should have gone by now: catching up after a slow tick keeps the average rate.
            let elapsed = start.duration(to: clock.now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let due = min(Int(seconds * self.rate) + 1, limit ?? Int.max)
            while sent < due, !Task.isCancelled {
                // Every device gets every kind in turn: the kind moves on after each round of the devices.
                await simulation.send(kinds[(sent / devices.count) % kinds.count], from: devices[sent % devices.count])
                sent += 1
            }
            try? await Task.sleep(for: tick)
        }
        return sent
    }
}
