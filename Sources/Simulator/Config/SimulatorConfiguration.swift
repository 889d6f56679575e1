//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import IoTPlatform
import Migration

/// What `iotbridge sim` runs: instances, devices and their traffic, and the migration between two instances.
/// Read from `sim.yaml` by `SimulatorConfigurationReader`; every key and default is in the README
/// ("Rehearsing with the simulator").
public struct SimulatorConfiguration: Sendable {
    /// One simulated instance.
    public struct Instance: Sendable {
        /// The name other keys refer to (`devices.home`, `migration.source`).
        public var name: String
        /// What it looks like: its kind, region and instance ID (none for a legacy public instance).
        public var identity: InstanceIdentity
        /// Its AMQP endpoint.
        public var amqp: SimulatedAMQPSettings
        /// Its consumer groups and subscribe relations when it starts.
        public var snapshot: InstanceSnapshot
    }

    /// The devices and what they send.
    public struct Devices: Sendable {
        /// Every device.
        public var devices: [SimulatedDevice]
        /// The instance every device is connected to at start.
        public var home: String
        /// The rate and mix of their messages.
        public var traffic: DeviceTraffic
    }

    /// The migration the simulator can run (driven by `iotbridge demo`, or by tests through the API).
    public struct MigrationPair: Sendable {
        /// The instance devices leave.
        public var source: String
        /// The instance devices go to.
        public var target: String
        /// How long a moved device's messages are copied to both instances. Default: 30 s.
        public var syncWindow: Duration
    }

    /// The file it was read from.
    public var file: String
    /// The instances, in file order.
    public var instances: [Instance]
    /// The devices.
    public var devices: Devices
    /// The migration, nil when the file has none.
    public var migration: MigrationPair?
    /// The OpenAPI endpoint serving every instance (by `IotInstanceId`), nil when `openapi: off`.
    public var openAPI: SimulatedOpenAPIConfiguration?
}
