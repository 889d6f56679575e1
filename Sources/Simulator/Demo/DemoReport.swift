//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// What `iotbridge demo` proves at the end, computed from what was observed — never from what should have
/// happened: the messageIds the simulator published (its ledger), the messageIds the backend received (one entry
/// per delivery, repeats included), the events in the bridge's outbox, and per device the instance the registry
/// names next to the instance the simulator has it on.
public struct DemoReport: Sendable, Hashable, Codable {
    /// Distinct messageIds the simulated instances published (a data-synchronisation copy counts once).
    public var published: Int
    /// Distinct messageIds the backend received.
    public var deliveredUnique: Int
    /// Published messageIds the backend never received.
    public var lost: Int
    /// Deliveries to the backend beyond the first of their messageId.
    public var duplicates: Int
    /// Deliveries of a messageId nobody published (should not happen; counted, never hidden).
    public var unexpected: Int
    /// Duplicates the bridge dropped on the way (sync copies, the translated MNS group, redeliveries).
    public var duplicatesDropped: Int
    /// Migration events in the bridge's outbox.
    public var eventsEmitted: Int
    /// Devices on the target when publishing stopped.
    public var devicesMigrated: Int
    /// Devices in the demo.
    public var devices: Int
    /// Devices whose registry instance differs from where the simulator has them (or that the registry lacks).
    public var registryWrong: Int
    /// Whether the registry names the right instance for every device.
    public var registryCorrect: Bool
    /// How long the bridge took to deliver what was still on its way after publishing stopped, in seconds.
    public var drainSeconds: Double
    /// Whether the drain ended because everything arrived (false: its time ran out).
    public var drained: Bool
    /// Up to five lost messageIds, to look for in the logs.
    public var lostSample: [String]
    /// Whether Ctrl-C ended the moves early (the figures are still what was observed).
    public var interrupted = false

    /// Computes the report from observations.
    ///
    /// - Parameters:
    ///   - published: every messageId published on any instance.
    ///   - deliveries: every messageId the backend received, in order, one entry per delivery.
    ///   - registry: per device, the instance the registry names (nil: the registry does not know it) and the
    ///     instance the simulator has it on, in the registry's naming (instance ID, empty for legacy).
    public init(
        published: Set<String>,
        deliveries: [String],
        duplicatesDropped: Int,
        eventsEmitted: Int,
        devicesMigrated: Int,
        registry: [(registry: String?, actual: String)],
        drainSeconds: Double,
        drained: Bool
    ) {
        var seen = Set<String>()
        var repeats = 0
        for id in deliveries where !seen.insert(id).inserted { repeats += 1 }
        let missing = published.subtracting(seen)
        self.published = published.count
        self.deliveredUnique = seen.count
        self.lost = missing.count
        self.duplicates = repeats
        self.unexpected = seen.subtracting(published).count
        self.duplicatesDropped = duplicatesDropped
        self.eventsEmitted = eventsEmitted
        self.devicesMigrated = devicesMigrated
        self.devices = registry.count
        self.registryWrong = registry.filter { $0.registry != $0.actual }.count
        self.registryCorrect = self.registryWrong == 0
        self.drainSeconds = drainSeconds
        self.drained = drained
        self.lostSample = Array(missing.sorted().prefix(5))
    }

    /// Whether the rehearsal passed: something was published, nothing lost, nothing duplicated, nothing
    /// unexpected, and the registry right for every device.
    public var passed: Bool {
        self.published > 0 && self.lost == 0 && self.duplicates == 0 && self.unexpected == 0 && self.registryCorrect
    }

    /// The process exit status: 0 when ``passed``, else 1 (2 stays for errors, as in every command).
    public var exitStatus: Int32 { self.passed ? 0 : 1 }

    /// One JSON object, keys sorted.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The report for a person, one figure a line.
    public var text: String {
        let verdict = self.passed ? "PASS" : "FAIL"
        var lines = [
            "published          \(self.published) messages (distinct messageIds, the simulator's ledger)",
            "delivered unique   \(self.deliveredUnique) (what the backend received)",
            "lost               \(self.lost)\(self.lostSample.isEmpty ? "" : " e.g. " + self.lostSample.joined(separator: ", "))",
            "duplicates         \(self.duplicates) delivered to the backend (\(self.duplicatesDropped) dropped by the bridge)",
            "events emitted     \(self.eventsEmitted) (the bridge's outbox)",
            "devices migrated   \(self.devicesMigrated) of \(self.devices)",
            "registry correct   \(self.registryCorrect ? "yes, for every device" : "no: \(self.registryWrong) device(s) wrong or unknown")",
            "drain              \(String(format: "%.1f", self.drainSeconds)) s\(self.drained ? "" : " (time ran out before everything arrived)")",
        ]
        if self.unexpected > 0 { lines.append("unexpected         \(self.unexpected) messageIds nobody published") }
        if self.interrupted { lines.append("interrupted        the moves stopped early (Ctrl-C); the figures are what was observed until then") }
        lines.append("result             \(verdict)")
        return lines.joined(separator: "\n")
    }
}
