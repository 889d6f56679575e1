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
        /// Connection attempts that waited for the shared connect budget (counted over the whole budget, which
        /// upstreams on one consumer group share).
        public var connectsDeferred = 0
        /// When the last message arrived (seconds since the bridge started), nil if none yet.
        public var lastMessageAt: Double?
        /// The last connection error.
        public var lastError: String?
    }

    /// The registry's and the outbox's totals (SQLite state only), refreshed by the maintenance loop.
    public struct StoreTotals: Sendable, Hashable {
        /// Devices the registry knows.
        public var devices = 0
        /// Devices on an instance other than their source (a rollback lowers it: a count, not a counter).
        public var devicesMigrated = 0
        /// Devices by the instance they are on now.
        public var devicesByInstance: [String: Int] = [:]
        /// Events ever written to the outbox (only grows).
        public var eventsEmitted = 0
        /// Events written and not yet delivered to every event sink.
        public var eventsPending = 0
        /// When these were read (seconds since the bridge started).
        public var readAt: Double = 0
    }

    /// Per upstream, by name.
    public var upstreams: [String: Upstream] = [:]
    /// Messages the merge passed on to routing: new messageIds, messages without one, and messages whose earlier
    /// delivery never completed (after a crash). Duplicates are not among them.
    public var forwarded = 0
    /// The registry and outbox totals; nil until first read, and always with a PostgreSQL state.
    public var storeTotals: StoreTotals?
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
    /// Why the state store fails right now (claims and settlement wait, nothing is settled upstream meanwhile);
    /// nil while it answers.
    public var stateStoreError: String?
    /// The overall state: starting, flowing, degraded, draining, stopped.
    public var state = "starting"
}

/// swift-metrics handles, created once (making a handle looks it up in the registry: not per message).
struct BridgeMetrics: Sendable {
    let inFlight = Gauge(label: "iotbridge_in_flight")
    let windowSize = Gauge(label: "iotbridge_dedup_window_entries")
    let settleLatency = Timer(label: "iotbridge_receipt_to_settle_seconds", preferredDisplayUnit: .seconds)
    let dedupConflicts = Counter(label: "iotbridge_dedup_conflicts_total")
    let dedupEvictedEarly = Counter(label: "iotbridge_dedup_evicted_early_total")
    let filtered = Counter(label: "iotbridge_filtered_total")
    private let receivedBy: [String: Counter]
    private let duplicatesBy: [String: Counter]
    private let outBy: [String: Counter]
    private let deadLetteredBy: [String: Counter]
    private let reconnectsBy: [String: Counter]
    private let lastMessageAgeBy: [String: Gauge]
    private let stalledBy: [String: Gauge]

    /// The reasons dead-lettered messages are counted under.
    static let deadLetterReasons = ["refused", "undecodable", "too-large", "invalid", "rule-failed"]

    init(upstreams: [String], sinks: [String]) {
        func map<T>(_ names: [String], _ make: (String) -> T) -> [String: T] {
            Dictionary(uniqueKeysWithValues: names.map { ($0, make($0)) })
        }
        self.receivedBy = map(upstreams) { Counter(label: "iotbridge_messages_in_total", dimensions: [("upstream", $0)]) }
        var duplicates: [String: Counter] = [:]
        for upstream in upstreams {
            for original in upstreams {
                duplicates[upstream + "\u{0}" + original] = Counter(
                    label: "iotbridge_duplicates_dropped_total",
                    dimensions: [("upstream", upstream), ("original", original)]
                )
            }
        }
        self.duplicatesBy = duplicates
        self.outBy = map(sinks) { Counter(label: "iotbridge_messages_out_total", dimensions: [("sink", $0)]) }
        self.deadLetteredBy = map(Self.deadLetterReasons) { Counter(label: "iotbridge_dead_lettered_total", dimensions: [("reason", $0)]) }
        self.reconnectsBy = map(upstreams) { Counter(label: "iotbridge_reconnects_total", dimensions: [("upstream", $0)]) }
        self.lastMessageAgeBy = map(upstreams) { Gauge(label: "iotbridge_last_message_age_seconds", dimensions: [("upstream", $0)]) }
        self.stalledBy = map(upstreams) { Gauge(label: "iotbridge_upstream_stalled", dimensions: [("upstream", $0)]) }
    }

    func received(_ upstream: String, _ count: Int) { self.receivedBy[upstream]?.increment(by: count) }
    func duplicate(_ upstream: String, original: String) { self.duplicatesBy[upstream + "\u{0}" + original]?.increment() }
    func out(_ sink: String) { self.outBy[sink]?.increment() }
    func deadLettered(_ reason: String) { self.deadLetteredBy[reason]?.increment() }
    func reconnect(_ upstream: String) { self.reconnectsBy[upstream]?.increment() }
    func lastMessageAge(_ upstream: String, _ seconds: Double) { self.lastMessageAgeBy[upstream]?.record(seconds) }
    func stalled(_ upstream: String, _ stalled: Bool) { self.stalledBy[upstream]?.record(stalled ? 1 : 0) }
}
