//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import Synchronization

/// The simulated world: the instances, the devices (each connected to one instance), and what was published.
/// Devices send through `send(_:from:)`; `migration(from:to:syncWindow:)` moves them.
public final class Simulation: Sendable {
    /// The instances in configuration order.
    public let instances: [SimulatedInstance]
    /// The devices and where each is.
    public let fleet: DeviceFleet
    /// What was published where.
    public let ledger: PublicationLedger
    private let ids = MessageIDSource()
    private let sequence = Atomic<UInt64>(0)

    /// Creates a simulation; every device starts on `home` (an instance name).
    public init(instances: [SimulatedInstance], devices: [SimulatedDevice], home: String, ledger: PublicationLedger) {
        self.instances = instances
        self.fleet = DeviceFleet(devices: devices, home: home)
        self.ledger = ledger
    }

    /// The instance named `name`.
    public func instance(_ name: String) -> SimulatedInstance? {
        self.instances.first { $0.name == name }
    }

    /// The current time, epoch milliseconds.
    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A device sends one message of `kind` (a status kind sends a reconnect: offline, then online). It goes out on
    /// the device's instance and, inside a data-synchronisation window, on the instance it left too, with the same
    /// messageId. Returns the messages sent.
    @discardableResult
    public func send(_ kind: SimulatedMessageKind, from device: SimulatedDevice) async -> [SimulatedMessage] {
        guard let placement = self.fleet.placement(of: device) else { return [] }
        let sequence = self.sequence.wrappingAdd(1, ordering: .relaxed).newValue
        let time = Self.nowMillis()
        var messages: [SimulatedMessage] = []
        switch kind {
        case .custom:
            messages.append(self.message(.custom, device, time: time, payload: MessagePayloads.custom(device, sequence: sequence, time: time)))
        case .property:
            messages.append(
                self.message(.property, device, time: time, payload: MessagePayloads.propertyPost(device, sequence: sequence, time: time))
            )
        case .status:
            messages.append(self.message(.status, device, time: time, payload: MessagePayloads.status(device, online: false, time: time)))
            messages.append(self.message(.status, device, time: time + 1, payload: MessagePayloads.status(device, online: true, time: time + 1)))
        }
        let flag: SubscriptionFlag = kind == .status ? .deviceStatusChange : .deviceData
        for name in placement.instances(now: .now) {
            guard let instance = self.instance(name) else { continue }
            for message in messages { await instance.publish(message, productKey: device.productKey, flag: flag) }
        }
        return messages
    }

    /// A status notice of `device` on one instance (a migration's reconnect).
    func sendStatus(_ device: SimulatedDevice, online: Bool, on instance: SimulatedInstance) async {
        let time = Self.nowMillis()
        let message = self.message(.status, device, time: time, payload: MessagePayloads.status(device, online: online, time: time))
        await instance.publish(message, productKey: device.productKey, flag: .deviceStatusChange)
    }

    /// A new message with a fresh messageId.
    func message(_ kind: SimulatedMessageKind, _ device: SimulatedDevice, time: Int64, payload: [UInt8]) -> SimulatedMessage {
        SimulatedMessage(topic: MessagePayloads.topic(kind, device), messageId: self.ids.next(), generateTime: time, payload: payload)
    }

    /// A message with a fresh messageId on an arbitrary topic.
    func message(topic: String, time: Int64, payload: [UInt8]) -> SimulatedMessage {
        SimulatedMessage(topic: topic, messageId: self.ids.next(), generateTime: time, payload: payload)
    }

    /// Starts every instance's endpoint.
    public func start(certificateDirectory: String) async throws(SimulatorError) {
        for instance in self.instances {
            let directory = certificateDirectory + "/" + instance.name
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try await instance.start(certificateDirectory: directory)
        }
    }

    /// Stops every instance's endpoint.
    public func shutdown() async {
        for instance in self.instances { await instance.shutdown() }
    }
}
