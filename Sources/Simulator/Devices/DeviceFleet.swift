//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// The devices and which instance each is connected to. During a migration a device moves; for the data
/// synchronisation window after a move its messages are published on both instances (same messageId).
public final class DeviceFleet: Sendable {
    /// Where a device is.
    public struct Placement: Sendable, Hashable {
        /// The instance the device is connected to.
        public var home: String
        /// The instance it left, and until when its messages are copied there too.
        public var copyTo: String?
        /// The end of the copy window.
        public var copyUntil: ContinuousClock.Instant?

        /// The instances a message sent now goes out on: home first.
        public func instances(now: ContinuousClock.Instant) -> [String] {
            if let copyTo, let copyUntil, now < copyUntil { return [self.home, copyTo] }
            return [self.home]
        }
    }

    /// Every device, sorted.
    public let devices: [SimulatedDevice]
    private let placements: Mutex<[SimulatedDevice: Placement]>

    /// Creates a fleet with every device on `home`.
    public init(devices: [SimulatedDevice], home: String) {
        self.devices = devices.sorted()
        self.placements = Mutex(Dictionary(uniqueKeysWithValues: devices.map { ($0, Placement(home: home)) }))
    }

    /// Where `device` is; nil for a device not in the fleet.
    public func placement(of device: SimulatedDevice) -> Placement? {
        self.placements.withLock { $0[device] }
    }

    /// The devices whose home is `instance`, sorted.
    public func devices(on instance: String) -> [SimulatedDevice] {
        self.placements.withLock { placements in self.devices.filter { placements[$0]?.home == instance } }
    }

    /// Moves devices to `instance`; messages are copied to the instance each left until `copyUntil` (nil: no copy).
    public func move(_ devices: [SimulatedDevice], to instance: String, copyUntil: ContinuousClock.Instant?) {
        self.placements.withLock { placements in
            for device in devices {
                guard let old = placements[device] else { continue }
                placements[device] = Placement(
                    home: instance,
                    copyTo: copyUntil == nil || old.home == instance ? nil : old.home,
                    copyUntil: copyUntil
                )
            }
        }
    }
}
