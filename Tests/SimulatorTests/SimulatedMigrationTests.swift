//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import IoTPlatform
import Logging
import Migration
import Simulator
import Testing

/// Grayscale batches, the full migration and rollback over two instances whose endpoints are not listening: what
/// each instance publishes (counted by the ledger and the consumer groups' queues) is the observable.
@Suite struct SimulatedMigrationTests {
    let engine = AMQPEngine()

    func simulation(devices: Int = 4) -> Simulation {
        let ledger = PublicationLedger(tracksMessageIds: true)
        func instance(_ name: String, _ id: String?, group: String) -> SimulatedInstance {
            let snapshot = InstanceSnapshot(
                identity: InstanceIdentity(kind: "sim", iotInstanceId: id),
                products: ["a1Sim"],
                consumerGroups: [ConsumerGroup(id: group, name: group)],
                subscriptions: [SubscribeRelation(productKey: "a1Sim", type: .amqp, flags: [.deviceData, .deviceStatusChange], consumerGroupIds: [group])]
            )
            return SimulatedInstance(
                name: name,
                iotInstanceId: id,
                amqp: SimulatedAMQPSettings(accessKeys: [.init(accessKeyId: "LTAIsim", accessKeySecret: "s")]),
                directory: FixedSubscriptions(snapshot),
                ledger: ledger,
                engine: self.engine,
                logger: Logger(label: "test")
            )
        }
        let devices = SimulatedDevice.names(count: devices).map { SimulatedDevice(productKey: "a1Sim", deviceName: $0) }
        return Simulation(
            instances: [instance("source", nil, group: "cg-source"), instance("target", "iot-06z00t", group: "cg-target")],
            devices: devices,
            home: "source",
            ledger: ledger
        )
    }

    @Test func aBatchMovesItsSliceWithAReconnectAndAnAnnouncement() async throws {
        let simulation = self.simulation()
        let migration = try SimulatedMigration(simulation: simulation, source: "source", target: "target", syncWindow: .seconds(3600))
        let step = try await migration.startBatch(2, of: 2)
        #expect(step.devices.map(\.deviceName) == ["device-0003", "device-0004"])
        #expect(step.status == "GRAY_EXECUTING")
        #expect(step.migrationMessageIds.count == 1)
        // Source: two offline notices and the migration message; target: two online notices.
        #expect(simulation.ledger.snapshot.perInstance == ["source": 3, "target": 2])
        #expect(simulation.fleet.devices(on: "target").map(\.deviceName) == ["device-0003", "device-0004"])
        // The same batch again moves nothing and says nothing.
        let again = try await migration.startBatch(2, of: 2)
        #expect(again.devices.isEmpty)
        #expect(again.migrationMessageIds.isEmpty)
        #expect(migration.history.count == 1)
    }

    @Test func insideTheSyncWindowAMovedDevicePublishesOnBothWithOneMessageId() async throws {
        let simulation = self.simulation()
        let migration = try SimulatedMigration(simulation: simulation, source: "source", target: "target", syncWindow: .seconds(3600))
        let moved = simulation.fleet.devices[0]
        await migration.migrate([moved])
        let message = try #require(await simulation.send(.property, from: moved).first)
        #expect(simulation.ledger.instances(of: message.messageId) == ["source", "target"])
        let stayed = try #require(await simulation.send(.custom, from: simulation.fleet.devices[1]).first)
        #expect(simulation.ledger.instances(of: stayed.messageId) == ["source"])
        #expect(simulation.ledger.snapshot.onSeveralInstances == 1)
    }

    @Test func afterTheSyncWindowOnlyTheTargetPublishes() async throws {
        let simulation = self.simulation()
        let migration = try SimulatedMigration(simulation: simulation, source: "source", target: "target", syncWindow: .milliseconds(1))
        await migration.migrateAll()
        try await Task.sleep(for: .milliseconds(20))
        let message = try #require(await simulation.send(.custom, from: simulation.fleet.devices[2]).first)
        #expect(simulation.ledger.instances(of: message.messageId) == ["target"])
        #expect(migration.history.map(\.status) == ["ALL_EXECUTING"])
    }

    @Test func rollbackMovesDevicesBack() async throws {
        let simulation = self.simulation()
        let migration = try SimulatedMigration(simulation: simulation, source: "source", target: "target", syncWindow: .milliseconds(1))
        await migration.migrateAll()
        let back = await migration.rollback()
        #expect(back.status == "ROLLBACK_EXECUTING")
        #expect(back.devices.count == 4)
        #expect(simulation.fleet.devices(on: "source").count == 4)
        #expect(simulation.fleet.devices(on: "target").isEmpty)
    }

    @Test func unknownInstancesAndBatchesAreErrors() async throws {
        let simulation = self.simulation()
        #expect(throws: SimulatorError.self) { try SimulatedMigration(simulation: simulation, source: "source", target: "nowhere", syncWindow: .seconds(1)) }
        let migration = try SimulatedMigration(simulation: simulation, source: "source", target: "target", syncWindow: .seconds(1))
        await #expect(throws: SimulatorError.self) { try await migration.startBatch(3, of: 2) }
    }
}
