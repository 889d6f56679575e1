//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// One `/status` document of a bridge, as far as the live views (``StatusBoard``, the dashboard) use it.
///
/// Decoding is tolerant: members a view does not need, or that an older bridge does not send (`merged`, `devices`,
/// `events`), are optional or ignored, so a newer `iotbridge status` still reads an older bridge.
public struct StatusSnapshot: Sendable, Hashable, Decodable {
    /// One upstream (instance).
    public struct Upstream: Sendable, Hashable, Decodable {
        /// Its configured name.
        public var name: String
        /// connecting, flowing, stalled, backing-off, draining, stopped.
        public var state: String
        /// Connections open now.
        public var connectionsOpen: Int
        /// Connections configured.
        public var connections: Int
        /// Messages received (only grows during a run).
        public var received: Int
        /// Duplicates of this upstream's deliveries settled without delivery (only grows).
        public var duplicates: Int
        /// The last connection error.
        public var lastError: String?
    }

    /// One sink, the dead letter last.
    public struct Sink: Sendable, Hashable, Decodable {
        /// Its configured name (`deadLetter` for the dead letter).
        public var name: String
        /// connecting, flowing, retrying, holding, stopped.
        public var state: String
        /// Messages handed to it and not yet confirmed or refused: its backlog.
        public var inFlight: Int
        /// Messages it confirmed: delivered (only grows).
        public var confirmed: Int
        /// Messages it refused, gone to the dead letter: failed (only grows).
        public var refused: Int
        /// Transient failures retried (only grows).
        public var retries: Int
        /// The last error.
        public var lastError: String?
    }

    /// The merged stream.
    public struct Merged: Sendable, Hashable, Decodable {
        /// Messages the merge passed on to the sinks (new messageIds and messages without one).
        public var forwarded: Int
        /// Duplicates settled without delivery, over all upstreams.
        public var duplicatesDropped: Int
    }

    /// The instance registry's totals.
    public struct Devices: Sendable, Hashable, Decodable {
        /// Devices the registry knows.
        public var known: Int
        /// Devices on an instance other than their source.
        public var migrated: Int
    }

    /// The event outbox's totals.
    public struct Events: Sendable, Hashable, Decodable {
        /// Events ever written (only grows).
        public var emitted: Int
        /// Events not yet delivered to every event sink.
        public var pending: Int
    }

    /// starting, flowing, degraded, draining, stopped.
    public var state: String
    /// The run: a new one each time the bridge starts (its counters start at zero again).
    public var run: String
    /// The bridge's wall clock when it answered, in milliseconds since 1970; 0 from an older bridge.
    public var time: Int64
    /// Seconds since the bridge started, on its monotonic clock: what rates are computed over.
    public var uptimeSeconds: Double
    /// The upstreams, in configuration order.
    public var upstreams: [Upstream]
    /// The sinks, in configuration order, then the dead letter.
    public var sinks: [Sink]
    /// The merged stream; nil from an older bridge.
    public var merged: Merged?
    /// The registry; nil without one (a PostgreSQL state) or before its first count.
    public var devices: Devices?
    /// The outbox; nil without one.
    public var events: Events?
    /// Messages being delivered now.
    public var inFlight: Int
    /// Dead-lettered messages by reason.
    public var deadLettered: [String: Int]
    /// The sink holding the stream back, if one is.
    public var heldBackBy: String?

    enum CodingKeys: String, CodingKey {
        case state, run, time, uptimeSeconds, upstreams, sinks, merged, devices, events, inFlight, deadLettered
        case heldBackBy
    }

    /// Decodes, with defaults for what an older bridge does not send.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.state = try container.decode(String.self, forKey: .state)
        self.run = try container.decode(String.self, forKey: .run)
        self.time = try container.decodeIfPresent(Int64.self, forKey: .time) ?? 0
        self.uptimeSeconds = try container.decodeIfPresent(Double.self, forKey: .uptimeSeconds) ?? 0
        self.upstreams = try container.decode([Upstream].self, forKey: .upstreams)
        self.sinks = try container.decode([Sink].self, forKey: .sinks)
        self.merged = try container.decodeIfPresent(Merged.self, forKey: .merged)
        self.devices = try container.decodeIfPresent(Devices.self, forKey: .devices)
        self.events = try container.decodeIfPresent(Events.self, forKey: .events)
        self.inFlight = try container.decodeIfPresent(Int.self, forKey: .inFlight) ?? 0
        self.deadLettered = try container.decodeIfPresent([String: Int].self, forKey: .deadLettered) ?? [:]
        self.heldBackBy = try container.decodeIfPresent(String.self, forKey: .heldBackBy)
    }

    /// Parses a `/status` body; the error names what is wrong (not JSON, or a member missing or mistyped).
    public init(json: [UInt8]) throws {
        self = try JSONDecoder().decode(Self.self, from: Data(json))
    }

    /// Messages received over all upstreams.
    public var received: Int { self.upstreams.reduce(0) { $0 + $1.received } }

    /// Duplicates dropped over all upstreams (the merged total when the bridge sends it).
    public var duplicatesDropped: Int {
        self.merged?.duplicatesDropped ?? self.upstreams.reduce(0) { $0 + $1.duplicates }
    }
}
