//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Logging
import Migration
import ServiceLifecycle
import Synchronization

/// `iotbridge sim` as a swift-service-lifecycle `Service`: starts every instance's endpoint, keeps each endpoint's
/// consumer groups in step with its control plane (on every change, so a group the OpenAPI creates can be logged
/// in to at once), runs the device traffic, and on graceful shutdown stops the traffic and closes the endpoints.
public final class SimulatorService: Service, Sendable {
    /// The simulated world.
    public let simulation: Simulation
    /// The device traffic.
    public let traffic: DeviceTraffic
    /// The migration of the configuration, if it has one.
    public let migration: SimulatedMigration?
    /// Each instance's control plane (consumer groups, subscriptions, rules), by instance name.
    public let controlPlanes: [String: SimulatedControlPlane]
    /// The OpenAPI endpoint over every instance's control plane, nil when the configuration has `openapi: off`.
    /// It is a `Service` of its own: run it next to this one (`iotbridge sim` puts both in its `ServiceGroup`).
    public let openAPI: SimulatedOpenAPIServer?
    private let engine: AMQPEngine
    private let logger: Logger
    private let certificateDirectory: String
    private let started = AsyncGate()

    /// Builds the simulation of a configuration: one control plane per instance, seeded with its consumer groups
    /// and subscriptions; `ledger` decides whether messageIds are tracked.
    public init(
        configuration: SimulatorConfiguration,
        ledger: PublicationLedger = PublicationLedger(tracksMessageIds: false),
        engine: AMQPEngine,
        logger: Logger,
        certificateDirectory: String
    ) throws(SimulatorError) {
        var controlPlanes: [String: SimulatedControlPlane] = [:]
        for instance in configuration.instances {
            do {
                controlPlanes[instance.name] = try SimulatedControlPlane(
                    snapshot: instance.snapshot,
                    iotInstanceId: instance.identity.iotInstanceId ?? "",
                    regionId: instance.identity.regionId
                )
            } catch {
                throw SimulatorError(.invalidConfiguration, "instance \(instance.name): \(error)")
            }
        }
        self.controlPlanes = controlPlanes
        if let openAPI = configuration.openAPI {
            do {
                self.openAPI = try SimulatedOpenAPIServer(
                    configuration: openAPI,
                    controlPlanes: configuration.instances.compactMap { controlPlanes[$0.name] },
                    logger: logger
                )
            } catch {
                throw SimulatorError(.invalidConfiguration, "the OpenAPI endpoint: \(error)")
            }
        } else {
            self.openAPI = nil
        }
        let instances = configuration.instances.map { instance in
            SimulatedInstance(
                name: instance.name,
                iotInstanceId: instance.identity.iotInstanceId,
                amqp: instance.amqp,
                directory: controlPlanes[instance.name]!,
                ledger: ledger,
                engine: engine,
                logger: logger
            )
        }
        let simulation = Simulation(instances: instances, devices: configuration.devices.devices, home: configuration.devices.home, ledger: ledger)
        self.simulation = simulation
        self.traffic = configuration.devices.traffic
        if let pair = configuration.migration {
            self.migration = try SimulatedMigration(simulation: simulation, source: pair.source, target: pair.target, syncWindow: pair.syncWindow)
        } else {
            self.migration = nil
        }
        self.engine = engine
        self.logger = logger
        self.certificateDirectory = certificateDirectory
    }

    /// Waits until every endpoint listens (or `run` failed).
    public func waitStarted() async {
        await self.started.wait()
    }

    /// Runs until graceful shutdown (SIGTERM/SIGINT in a `ServiceGroup`) or cancellation.
    public func run() async throws {
        do {
            try await self.simulation.start(certificateDirectory: self.certificateDirectory)
        } catch {
            self.started.open()
            await self.simulation.shutdown()
            throw error
        }
        let simulation = self.simulation
        let traffic = self.traffic
        let controlPlanes = self.controlPlanes
        for instance in simulation.instances {
            guard let controlPlane = controlPlanes[instance.name] else { continue }
            await controlPlane.setLiveFacts(Self.liveFacts(of: instance, in: simulation, controlPlane: controlPlane))
        }
        self.started.open()
        let refresh = Task {
            await withTaskGroup(of: Void.self) { group in
                for instance in simulation.instances {
                    guard let controlPlane = controlPlanes[instance.name] else { continue }
                    group.addTask {
                        for await _ in await controlPlane.changes() { await instance.refreshConsumerGroups() }
                    }
                }
            }
        }
        let devices = Task { await traffic.run(simulation) }
        try? await gracefulShutdown()
        devices.cancel()
        refresh.cancel()
        _ = await devices.value
        await self.simulation.shutdown()
        self.logger.info("simulator stopped", metadata: ["published": "\(self.simulation.ledger.snapshot.perInstance)"])
    }
}

extension SimulatorService {
    /// What `migrate assess` reads from a running instance: its devices per product (all connected while the
    /// simulator runs, so online too) and, per consumer group, one client per AMQP consumer attached now (the
    /// simulator does not keep client IDs, so they are named `<instance>-consumer-N`).
    static func liveFacts(
        of instance: SimulatedInstance,
        in simulation: Simulation,
        controlPlane: SimulatedControlPlane
    ) -> @Sendable () async -> InstanceFacts {
        { [weak controlPlane] in
            var counts: [String: Int] = [:]
            for device in simulation.fleet.devices(on: instance.name) { counts[device.productKey, default: 0] += 1 }
            let products = counts.keys.sorted().map { key in
                ProductFacts(productKey: key, deviceCount: counts[key] ?? 0, onlineCount: counts[key] ?? 0)
            }
            let groups = await controlPlane?.consumerGroupIds() ?? []
            let consumerGroups = groups.sorted().map { id in
                let consumers = instance.endpoint.counters(of: id)?.consumers ?? 0
                return ConsumerGroupFacts(id: id, connectedClients: (0..<consumers).map { "\(instance.name)-consumer-\($0 + 1)" })
            }
            return InstanceFacts(products: products, consumerGroups: consumerGroups)
        }
    }
}

/// A one-shot gate: `wait` returns once `open` was called.
final class AsyncGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let ready = self.state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
