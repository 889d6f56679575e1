//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The bridge's figures as plain text lines, for a terminal: what `iotbridge status` prints and redraws, and what
/// `iotbridge demo` can show from the same `/status` snapshots.
///
/// A value: snapshot and rates in, lines out, no I/O and no clock (tested with fixed snapshots). Numbers use `,`
/// between thousands whatever the locale, so output is the same on every machine and easy to parse back.
public struct StatusBoard: Sendable, Hashable {
    /// The snapshot shown.
    public var snapshot: StatusSnapshot
    /// The rates since the previous snapshot.
    public var rates: StatusRates

    /// A board of `current`, with rates since `previous` (none for the first snapshot or a new run).
    public init(current: StatusSnapshot, previous: StatusSnapshot?) {
        self.snapshot = current
        self.rates = StatusRates(current: current, previous: previous)
    }

    /// The lines, without trailing newlines or terminal control characters.
    public var lines: [String] {
        let s = self.snapshot
        var lines: [String] = []
        var title = "iotbridge \(s.state) · run \(s.run)"
        if s.time > 0 {
            title += " · " + Self.timestamp(milliseconds: s.time)
        }
        title += " · up " + Self.duration(s.uptimeSeconds)
        lines.append(title)
        var merged = "merged      \(Self.rate(self.rates.forwarded)) msg/s"
        if let forwarded = s.merged?.forwarded { merged += " · forwarded \(Self.count(forwarded))" }
        merged += " · received \(Self.count(s.received)) (\(Self.rate(self.rates.receivedTotal)) msg/s)"
        lines.append(merged)
        let duplicatesRate = Self.rate(self.rates.duplicatesDropped)
        lines.append("duplicates  \(Self.count(s.duplicatesDropped)) dropped (\(duplicatesRate)/s)")
        if let devices = s.devices {
            let known = Self.count(devices.known)
            lines.append("devices     \(Self.count(devices.migrated)) migrated of \(known) in the registry")
        } else {
            lines.append("devices     — (no registry in this bridge's state store)")
        }
        if let events = s.events {
            let pending = Self.count(events.pending)
            lines.append("events      \(Self.count(events.emitted)) emitted, \(pending) not yet delivered")
        } else {
            lines.append("events      — (no outbox in this bridge's state store)")
        }
        let dead = s.deadLettered.values.reduce(0, +)
        lines.append("in flight   \(Self.count(s.inFlight)) · dead-lettered \(Self.count(dead))")
        lines.append("")
        lines += Self.table(
            ["UPSTREAM", "STATE", "CONN", "RECEIVED", "MSG/S", "DUPLICATES", "DUP/S"],
            s.upstreams.map { upstream in
                [
                    upstream.name, upstream.state, "\(upstream.connectionsOpen)/\(upstream.connections)",
                    Self.count(upstream.received), Self.rate(self.rates.received[upstream.name]),
                    Self.count(upstream.duplicates), Self.rate(self.rates.duplicates[upstream.name]),
                ]
            },
            leftColumns: 2
        )
        for upstream in s.upstreams {
            if let error = upstream.lastError { lines.append("  \(upstream.name): last error: \(error)") }
        }
        lines.append("")
        lines += Self.table(
            ["SINK", "STATE", "DELIVERED", "MSG/S", "FAILED", "RETRIES", "BACKLOG"],
            s.sinks.map { sink in
                [
                    sink.name, sink.state, Self.count(sink.confirmed), Self.rate(self.rates.delivered[sink.name]),
                    Self.count(sink.refused), Self.count(sink.retries), Self.count(sink.inFlight),
                ]
            },
            leftColumns: 2
        )
        for sink in s.sinks {
            if let error = sink.lastError { lines.append("  \(sink.name): last error: \(error)") }
        }
        if let holder = s.heldBackBy { lines.append("held back by sink \(holder)") }
        return lines
    }

    /// `1234567` → `1,234,567`.
    public static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// A rate: whole numbers from 100 up, one decimal below, `—` when unknown.
    public static func rate(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "—" }
        if value >= 100 { return Self.count(Int(value.rounded())) }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `2026-11-29T15:07:08Z` from milliseconds since 1970 (UTC: the same on every machine).
    static func timestamp(milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// `42s`, `3m05s`, `2h01m`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m" + Self.twoDigits(whole % 60) + "s" }
        return "\(whole / 3600)h" + Self.twoDigits(whole % 3600 / 60) + "m"
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Columns padded to their widest cell: the first `leftColumns` left-aligned (names), the rest right-aligned.
    static func table(_ header: [String], _ rows: [[String]], leftColumns: Int) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - row[column].count)
                return column < leftColumns ? row[column] + padding : padding + row[column]
            }
            .joined(separator: "  ")
            .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
    }
}
