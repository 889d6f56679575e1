//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Rates between two ``StatusSnapshot``s of one run, per second of the bridge's own (monotonic) clock.
///
/// A rate is nil when it cannot be known: no earlier snapshot, a different run (the bridge restarted and its
/// counters began again), no time between the two, or a counter that went back. Nil is shown as "—", never as 0.
public struct StatusRates: Sendable, Hashable {
    /// Messages received per second, by upstream name.
    public var received: [String: Double] = [:]
    /// Duplicates dropped per second, by upstream name.
    public var duplicates: [String: Double] = [:]
    /// Messages delivered (confirmed) per second, by sink name.
    public var delivered: [String: Double] = [:]
    /// Messages received per second over all upstreams.
    public var receivedTotal: Double?
    /// Messages the merge forwarded per second: the merged rate.
    public var forwarded: Double?
    /// Duplicates dropped per second over all upstreams.
    public var duplicatesDropped: Double?

    /// No rates (the first snapshot of a view).
    public init() {}

    /// The rates from `previous` to `current`.
    public init(current: StatusSnapshot, previous: StatusSnapshot?) {
        guard let previous, previous.run == current.run else { return }
        let seconds = current.uptimeSeconds - previous.uptimeSeconds
        guard seconds > 0 else { return }
        func rate(_ now: Int?, _ before: Int?) -> Double? {
            guard let now, let before, now >= before else { return nil }
            return Double(now - before) / seconds
        }
        for upstream in current.upstreams {
            let old = previous.upstreams.first { $0.name == upstream.name }
            self.received[upstream.name] = rate(upstream.received, old?.received)
            self.duplicates[upstream.name] = rate(upstream.duplicates, old?.duplicates)
        }
        for sink in current.sinks {
            self.delivered[sink.name] = rate(sink.confirmed, previous.sinks.first { $0.name == sink.name }?.confirmed)
        }
        self.receivedTotal = rate(current.received, previous.received)
        self.forwarded = rate(current.merged?.forwarded, previous.merged?.forwarded)
        self.duplicatesDropped = rate(current.duplicatesDropped, previous.duplicatesDropped)
    }
}
