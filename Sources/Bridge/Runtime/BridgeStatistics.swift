//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Metrics

/// The bridge's counters: kept here for /status and the live progress line, and mirrored to swift-metrics
/// (exported for Prometheus on the HTTP port).
public struct BridgeStatistics: Sendable, Hashable {
    /// Per upstream.
    public struct Upstream: Sendable, Hashable {
        /// connecting, flowing, stalled, backing-off, draining, stopped.
        public var state = "connecting"
        /// Messages received.
        public var received = 0
        /// Duplicates settled without delivery, by the upstream that delivered the original.
        public var duplicatesOf: [String: Int] = [:]
        /// Messages without a messageId (passed through without de-duplication).
        public var withoutMessageId = 0
        /// Pre-settled deliveries (at-most-once from the peer; nothing to settle).
        public var presettled = 0
        /// Connections open now.
        public var connectionsOpen = 0
        /// Reconnects and link re-attachments.
        public var reconnects = 0
        /// When the last message arrived (seconds since the bridge started), nil if none yet.
        public var lastMessageAt: Double?
        /// The last connection error.
        public var lastError: String?
    }

    /// Per upstream, by name.
    public var upstreams: [String: Upstream] = [:]
    /// Messages settled after all their targets finished.
    public var settled = 0
    /// Messages no rule matched (settled, not forwarded).
    public var filtered = 0
    /// Messages dead-lettered, by reason kind.
    public var deadLettered: [String: Int] = [:]
    /// Same messageId with a different topic/body (delivered as a new message).
    public var dedupConflicts = 0
    /// Claims evicted before their time because the window's count bound was reached.
    public var dedupEvictedEarly = 0
    /// Claims in the window (refreshed periodically).
    public var windowSize = 0
    /// Messages being delivered now.
    public var inFlight = 0
    /// The overall state: starting, flowing, degraded, draining, stopped.
    public var state = "starting"
}

/// swift-metrics handles, created once.
struct BridgeMetrics: Sendable {
    let inFlight = Gauge(label: "iotbridge_in_flight")
    let windowSize = Gauge(label: "iotbridge_dedup_window_entries")
    let settleLatency = Timer(label: "iotbridge_receipt_to_settle_seconds", preferredDisplayUnit: .seconds)
    let dedupConflicts = Counter(label: "iotbridge_dedup_conflicts_total")
    let dedupEvictedEarly = Counter(label: "iotbridge_dedup_evicted_early_total")
    let filtered = Counter(label: "iotbridge_filtered_total")

    func received(_ upstream: String) -> Counter {
        Counter(label: "iotbridge_messages_in_total", dimensions: [("upstream", upstream)])
    }

    func duplicates(_ upstream: String, original: String) -> Counter {
        Counter(label: "iotbridge_duplicates_dropped_total", dimensions: [("upstream", upstream), ("original", original)])
    }

    func out(_ sink: String) -> Counter {
        Counter(label: "iotbridge_messages_out_total", dimensions: [("sink", sink)])
    }

    func deadLettered(_ reason: String) -> Counter {
        Counter(label: "iotbridge_dead_lettered_total", dimensions: [("reason", reason)])
    }

    func reconnects(_ upstream: String) -> Counter {
        Counter(label: "iotbridge_reconnects_total", dimensions: [("upstream", upstream)])
    }

    func lastMessageAge(_ upstream: String) -> Gauge {
        Gauge(label: "iotbridge_last_message_age_seconds", dimensions: [("upstream", upstream)])
    }

    func stalled(_ upstream: String) -> Gauge {
        Gauge(label: "iotbridge_upstream_stalled", dimensions: [("upstream", upstream)])
    }
}
