//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Logging
import StateStore
import Synchronization

/// What the bridge shows the observer: every delivery, before de-duplication.
public struct ObservedMessage: Sendable, Hashable {
    /// The `topic` application property.
    public var topic: String?
    /// The body.
    public var payload: [UInt8]
    /// The instance the upstream consumes (empty: the legacy public instance).
    public var iotInstanceId: String
    /// Epoch milliseconds of receipt.
    public var time: Int64

    /// Creates a message.
    public init(topic: String?, payload: [UInt8], iotInstanceId: String, time: Int64) {
        self.topic = topic
        self.payload = payload
        self.iotInstanceId = iotInstanceId
        self.time = time
    }
}

/// What the observer counted, for `/status` and the metrics.
public struct MigrationStreamCounters: Sendable, Hashable {
    /// Platform migration messages recognised.
    public var migrationMessages = 0
    /// Messages meant as migration messages but unusable (logged; the registry is untouched).
    public var malformedMessages = 0
    /// Device items of migration messages that named no device (skipped).
    public var badDeviceItems = 0
    /// Events written to the outbox.
    public var eventsWritten = 0
    /// `device.observed-on-target` events among them.
    public var observedOnTarget = 0
}

/// Watches the merged stream for migration facts: platform migration messages (events + registry rows), devices
/// reporting on an instance the registry does not have them on (`device.observed-on-target`), and when each device
/// was last seen on each instance (for `registry status`).
///
/// ``observe(_:)`` returns only after the batch's events are committed, so the bridge settles a migration message
/// upstream only after its events and registry rows are durable. Memory: one entry per device and instance seen
/// (about 100 bytes), so 500,000 devices on two instances take about 100 MB.
public final class MigrationStreamObserver: Sendable {
    let recognizer: MigrationMessageRecognizer
    let store: any InstanceRegistryStore
    let logger: Logger
    /// How often a device's sighting on one instance is written at most.
    let sightingInterval: Int64

    /// Per device and instance: when its sighting was last written (an entry also means inference looked at it).
    struct Seen {
        var recordedAt: Int64
    }

    let seen = Mutex<[SightingKey: Seen]>([:])
    /// One batch at a time (see ``observe(_:)``).
    let gate = AsyncGate()
    let counterState = Mutex(MigrationStreamCounters())

    /// A device on an instance.
    struct SightingKey: Hashable {
        var device: DeviceKey
        var instance: String
    }

    /// Creates an observer.
    ///
    /// - Parameters:
    ///   - sightingInterval: milliseconds between two writes of the same device's sighting on one instance.
    public init(
        store: any InstanceRegistryStore,
        recognizer: MigrationMessageRecognizer = MigrationMessageRecognizer(),
        sightingInterval: Int64 = 60_000,
        logger: Logger
    ) {
        self.store = store
        self.recognizer = recognizer
        self.sightingInterval = sightingInterval
        self.logger = logger
    }

    /// The counters so far.
    public var counters: MigrationStreamCounters { self.counterState.withLock { $0 } }

    /// Looks at a batch: commits the events of migration messages and inferences, and writes due sightings.
    /// Throws when the store fails; then nothing of the batch may be settled (a retry is safe: a redelivered
    /// migration message moves no device twice).
    ///
    /// Batches of several receivers are observed one at a time: a message's registry lookups and its commit must
    /// not interleave with another's, or both would move the same device from the same place.
    public func observe(_ messages: [ObservedMessage]) async throws {
        try await self.gate.withGate { try await self.observeAlone(messages) }
    }

    private func observeAlone(_ messages: [ObservedMessage]) async throws {
        var drafts: [OutboxDraft] = []
        var sightings: [DeviceSighting] = []
        // The first message of each device and instance in the batch decides (sightings are samples anyway).
        var inBatch: Set<SightingKey> = []
        var counted = MigrationStreamCounters()
        for message in messages {
            switch self.recognizer.recognize(topic: message.topic ?? "", payload: message.payload) {
            case .notMigration:
                break
            case .malformed(let reason):
                counted.malformedMessages += 1
                self.logger.warning(
                    "malformed migration message ignored",
                    metadata: ["topic": "\(message.topic ?? "")", "reason": "\(reason)"]
                )
            case .migration(let recognized):
                counted.migrationMessages += 1
                counted.badDeviceItems += recognized.badItems
                if recognized.badItems > 0 {
                    self.logger.warning(
                        "migration message: device items without productKey/deviceName skipped",
                        metadata: ["status": "\(recognized.status)", "skipped": "\(recognized.badItems)"]
                    )
                }
                // Commit what came before first: the message's lookups must see the registry after them.
                if !drafts.isEmpty {
                    counted.eventsWritten += try await self.store.commit(drafts).count
                    drafts.removeAll()
                }
                let messageDrafts = try await PlatformMigrationEvents.drafts(
                    for: recognized,
                    time: message.time,
                    registry: self.store
                )
                counted.eventsWritten += try await self.store.commit(messageDrafts).count
                continue
            }
            guard let topic = message.topic, let device = Self.device(topic: topic) else { continue }
            let key = SightingKey(device: device, instance: message.iotInstanceId)
            guard inBatch.insert(key).inserted else { continue }
            let due = self.seen.withLock { seen -> (due: Bool, first: Bool) in
                guard let entry = seen[key] else { return (true, true) }
                return (message.time - entry.recordedAt >= self.sightingInterval, false)
            }
            if due.due {
                sightings.append(DeviceSighting(device: device, iotInstanceId: message.iotInstanceId, at: message.time))
            }
            if due.first {
                let draft = try await self.inference(
                    device: device,
                    instance: message.iotInstanceId,
                    time: message.time
                )
                if let draft {
                    drafts.append(draft)
                    counted.observedOnTarget += 1
                }
            }
        }
        counted.eventsWritten += try await self.store.commit(drafts).count
        try await self.store.recordSightings(sightings)
        self.seen.withLock { seen in
            for sighting in sightings {
                let key = SightingKey(device: sighting.device, instance: sighting.iotInstanceId)
                seen[key] = Seen(recordedAt: sighting.at)
            }
        }
        self.counterState.withLock { counters in
            counters.migrationMessages += counted.migrationMessages
            counters.malformedMessages += counted.malformedMessages
            counters.badDeviceItems += counted.badDeviceItems
            counters.eventsWritten += counted.eventsWritten
            counters.observedOnTarget += counted.observedOnTarget
        }
    }

    /// `device.observed-on-target` when the registry has the device on its source and it reports elsewhere.
    /// A device the registry does not know gives nothing: "source" is unknown for it.
    func inference(device: DeviceKey, instance: String, time: Int64) async throws -> OutboxDraft? {
        guard let record = try await self.store.lookup(device), !record.isMigrated, record.iotInstanceId != instance
        else { return nil }
        // An earlier process (a restart, another replica) already saw the device there and inferred then.
        guard try await self.store.lastSeen(device, on: instance) == nil else { return nil }
        let event = MigrationEvent(
            source: MigrationEvent.bridgeSource,
            type: .deviceObservedOnTarget,
            time: time,
            subject: device.description,
            data: MigrationEventData(
                migrationId: PlatformMigrationEvents.migrationId(
                    targetInstance: instance,
                    productKey: device.productKey
                ),
                productKey: device.productKey,
                deviceName: device.deviceName,
                fromInstanceId: record.iotInstanceId,
                toInstanceId: instance,
                status: "OBSERVED"
            )
        )
        return event.draft()
    }

    /// The device a topic belongs to: `/PK/DN/…`, `/sys/PK/DN/…` and `/as/mqtt/status/PK/DN`; other `/ext/`,
    /// `/as/` and `/shadow/` topics name none we can read.
    public static func device(topic: String) -> DeviceKey? {
        // Reads the first six segments' byte ranges in place, with no array and no substring: this runs for every
        // delivery, and splitting the topic cost more than the rest of the observation.
        var topic = topic
        return topic.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: 6) { segments in
                Self.device(bytes, segments: segments)
            }
        }
    }

    /// ``device(topic:)`` over the topic's bytes; `segments` is room for six segment ranges.
    private static func device(_ bytes: UnsafeBufferPointer<UInt8>, segments: UnsafeMutableBufferPointer<Range<Int>>) -> DeviceKey? {
        var count = 0
        var start = 0
        var index = 0
        while count < segments.count {
            while index < bytes.count, bytes[index] != UInt8(ascii: "/") { index += 1 }
            segments[count] = start..<index
            count += 1
            if index == bytes.count { break }
            index += 1
            start = index
        }
        func part(_ position: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[segments[position]])
        }
        func part(_ position: Int, is text: StaticString) -> Bool {
            part(position).elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        guard count >= 3, part(0).isEmpty else { return nil }
        let product: UnsafeBufferPointer<UInt8>
        let name: UnsafeBufferPointer<UInt8>
        if part(1, is: "sys"), count >= 4 {
            (product, name) = (part(2), part(3))
        } else if part(1, is: "as"), count >= 6, part(2, is: "mqtt"), part(3, is: "status") {
            (product, name) = (part(4), part(5))
        } else if part(1, is: "ext") || part(1, is: "as") || part(1, is: "shadow") {
            return nil
        } else {
            (product, name) = (part(1), part(2))
        }
        guard !product.isEmpty, !name.isEmpty, !product.contains(UInt8(ascii: "+")), !product.contains(UInt8(ascii: "#"))
        else { return nil }
        return DeviceKey(productKey: String(decoding: product, as: UTF8.self), deviceName: String(decoding: name, as: UTF8.self))
    }
}
