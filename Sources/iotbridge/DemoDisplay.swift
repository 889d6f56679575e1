//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Bridge
import Foundation
import Simulator
import StateStore
import Synchronization

/// The figures of one second of `iotbridge demo`, as the live display shows them.
struct DemoLiveSample: Sendable {
    /// Messages per second the bridge received from the source, and from the target (all its groups).
    var sourceRate: Double
    var targetRate: Double
    /// Messages per second written to the backend (after de-duplication).
    var mergedRate: Double
    var delivered: Int
    var duplicatesDropped: Int
    var devicesMigrated: Int
    var devices: Int
    var eventsEmitted: Int
}

/// Samples the running demo once a second: the bridge's per-upstream counters, the backend, the fleet, the outbox.
final class DemoLiveFigures: Sendable {
    let bridge: Bridge
    let backend: DemoBackend
    let simulation: Simulation
    let targetName: String
    private let last = Mutex<(at: ContinuousClock.Instant, source: Int, target: Int, delivered: Int)?>(nil)

    init(bridge: Bridge, backend: DemoBackend, simulation: Simulation, targetName: String) {
        self.bridge = bridge
        self.backend = backend
        self.simulation = simulation
        self.targetName = targetName
    }

    func sample() async -> DemoLiveSample {
        let statistics = self.bridge.currentStatistics
        var source = 0
        var target = 0
        var dropped = 0
        for (name, upstream) in statistics.upstreams {
            if name == DemoScenario.sourceName { source += upstream.received } else { target += upstream.received }
            dropped += upstream.duplicatesOf.values.reduce(0, +)
        }
        let delivered = self.backend.poll()
        let now = ContinuousClock.now
        let previous = self.last.withLock { last in
            defer { last = (now, source, target, delivered) }
            return last
        }
        func rate(_ current: Int, _ before: Int?) -> Double {
            guard let previous, let before else { return 0 }
            let elapsed = previous.at.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return seconds > 0 ? Double(current - before) / seconds : 0
        }
        let events = (try? await self.bridge.outbox?.outboxEvents(fromPosition: 0, limit: 10_000_000).count) ?? 0
        return DemoLiveSample(
            sourceRate: rate(source, previous?.source),
            targetRate: rate(target, previous?.target),
            mergedRate: rate(delivered, previous?.delivered),
            delivered: delivered,
            duplicatesDropped: dropped,
            devicesMigrated: self.simulation.fleet.devices(on: self.targetName).count,
            devices: self.simulation.fleet.devices.count,
            eventsEmitted: events
        )
    }
}

/// Where the demo talks: standard output (standard error with --json, which keeps standard output for the
/// report). On a terminal the live figures are one line redrawn each second; otherwise a plain line every
/// five seconds, so that a log stays readable.
final class DemoDisplay: Sendable {
    private let handle: FileHandle
    private let isTerminal: Bool
    private let state = Mutex<(liveShown: Bool, ticks: Int)>((false, 0))

    init(toStandardError: Bool) {
        self.handle = toStandardError ? FileHandle.standardError : FileHandle.standardOutput
        self.isTerminal = isatty(toStandardError ? STDERR_FILENO : STDOUT_FILENO) == 1
    }

    /// A line that stays (a phase, a step).
    func say(_ line: String) {
        let clear = self.state.withLock { state in
            defer { state.liveShown = false }
            return state.liveShown && self.isTerminal
        }
        self.write((clear ? "\r\u{1B}[K" : "") + line + "\n")
    }

    /// The live figures.
    func live(_ sample: DemoLiveSample) {
        let line = Self.line(sample)
        if self.isTerminal {
            self.state.withLock { $0.liveShown = true }
            self.write("\r\u{1B}[K" + line)
        } else {
            let tick = self.state.withLock { state in
                state.ticks += 1
                return state.ticks
            }
            if tick % 5 == 0 { self.write(line + "\n") }
        }
    }

    /// Ends a live line still shown.
    func finish() {
        let shown = self.state.withLock { state in
            defer { state.liveShown = false }
            return state.liveShown
        }
        if shown, self.isTerminal { self.write("\n") }
    }

    static func line(_ sample: DemoLiveSample) -> String {
        func rate(_ value: Double) -> String { String(Int(value.rounded())) }
        return "source \(rate(sample.sourceRate))/s  target \(rate(sample.targetRate))/s  merged \(rate(sample.mergedRate))/s "
            + "(\(sample.delivered) delivered)  duplicates dropped \(sample.duplicatesDropped)  "
            + "devices migrated \(sample.devicesMigrated)/\(sample.devices)  events \(sample.eventsEmitted)"
    }

    private func write(_ text: String) {
        self.handle.write(Data(text.utf8))
    }
}
