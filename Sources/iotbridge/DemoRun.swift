//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Bridge
import Foundation
import HTTPServer
import Logging
import Migration
import RuleSQL
import ServiceLifecycle
import Simulator
import StateStore
import Synchronization
import UnixSignals

/// One run of `iotbridge demo`, in the order the README tells it: simulator → migration → bridge → traffic and
/// moves → stop publishing → drain → compare. Each phase uses the real component (the simulator's services, the
/// Migration library's planner and runner over the OpenAPI, `Bridge` loaded from a written `bridge.yaml`).
/// It lives in the CLI because it wires four targets together (Simulator, Migration, Bridge, HTTPServer) that only
/// the executable depends on; what can be tested alone (scenario, timeline, report) is in Sources/Simulator/Demo.
struct DemoRun {
    let duration: Duration
    let devices: Int
    let rate: Double
    let json: Bool
    let keep: Bool
    let logLevel: String

    /// How long the bridge may take, after publishing stopped, to deliver the rest.
    static let drainLimit: Duration = .seconds(30)

    func run() async throws -> DemoReport {
        guard let level = Logger.Level(rawValue: self.logLevel) else {
            throw CLIError("--log-level: '\(self.logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        LogBootstrap.once(level: level)
        var logger = Logger(label: "iotbridge.demo")
        logger.logLevel = level
        let display = DemoDisplay(toStandardError: self.json)
        // Before the bridge makes its metrics: /metrics then shows them.
        let metrics = OperationsServer.bootstrapMetrics()

        let folder = NSTemporaryDirectory() + "iotbridge-demo-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder + "/certificates", withIntermediateDirectories: true)
        defer { if !self.keep { try? FileManager.default.removeItem(atPath: folder) } }
        display.say("work folder: \(folder)\(self.keep ? "" : " (deleted at the end; --keep keeps it)")")

        // A fresh secret per run: nothing outside this process can log in to the simulated instances.
        let secret = (0..<24).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
        setenv(DemoFiles.secretVariable, secret, 1)
        let timeline = DemoTimeline(duration: self.duration)
        let scenario = DemoScenario(devices: self.devices, rate: self.rate, syncWindow: timeline.syncWindow, accessKeySecret: secret)

        // 1. The simulated instances and their OpenAPI endpoint.
        let engine = AMQPEngine(logger: logger)
        let ledger = PublicationLedger(tracksMessageIds: true)
        let simulator: SimulatorService
        do {
            simulator = try SimulatorService(
                configuration: scenario.configuration(),
                ledger: ledger,
                engine: engine,
                logger: logger,
                certificateDirectory: folder + "/certificates"
            )
        } catch {
            await engine.shutdown()
            throw CLIError("the simulator: \(error.message)")
        }
        guard let openAPI = simulator.openAPI, let migration = simulator.migration,
            let source = simulator.simulation.instance(DemoScenario.sourceName),
            let target = simulator.simulation.instance(DemoScenario.targetName)
        else {
            await engine.shutdown()
            throw CLIError("the demo's simulation lacks its OpenAPI endpoint, migration or instances")
        }
        let simulatorGroup = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: simulator, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: openAPI, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                logger: logger
            )
        )
        let simulatorTask = Task { try await simulatorGroup.run() }
        func stopSimulator() async {
            await simulatorGroup.triggerGracefulShutdown()
            _ = try? await simulatorTask.value
            await engine.shutdown()
        }

        let bridgeGroup: ServiceGroup
        let bridgeTask: Task<Void, any Error>
        let bridge: Bridge
        let backend = DemoBackend(path: folder + "/backend.jsonl")
        do {
            await simulator.waitStarted()
            let openAPIPort = try await openAPI.listeningPort()
            guard let sourceCA = source.endpoint.certificateFile, let targetCA = target.endpoint.certificateFile,
                source.endpoint.port != nil, target.endpoint.port != nil
            else {
                throw CLIError("the simulated instances did not start (run with --log-level info to see why)")
            }
            display.say("source (legacy public):  \(source.endpoint.url)   consumer group \(DemoScenario.sourceGroup.id)")
            display.say("target (\(DemoScenario.targetInstanceId)): \(target.endpoint.url)   starts empty")
            display.say("openapi: http://127.0.0.1:\(openAPIPort)/   devices: \(self.devices), \(Self.figure(self.rate)) msg/s")

            // 2. Plan and run the migration of consumer groups, subscriptions and rules.
            let groups = try await Self.migrate(folder: folder, openAPIPort: openAPIPort, logger: logger, display: display)

            // 3. The bridge over every consumer group of both instances.
            var upstreams = [
                DemoFiles.Upstream(
                    name: "source", url: source.endpoint.url, caFile: sourceCA, iotInstanceId: "", consumerGroupId: DemoScenario.sourceGroup.id
                )
            ]
            for group in groups {
                upstreams.append(
                    DemoFiles.Upstream(
                        name: "target-\(group.name)", url: target.endpoint.url, caFile: targetCA,
                        iotInstanceId: DemoScenario.targetInstanceId, consumerGroupId: group.id
                    )
                )
            }
            let bridgeFile = folder + "/bridge.yaml"
            try DemoFiles.bridgeYAML(upstreams: upstreams, sink: backend.path, state: folder + "/bridge.sqlite")
                .write(toFile: bridgeFile, atomically: true, encoding: .utf8)
            let loaded = BridgeConfigurationLoader().load(path: bridgeFile)
            guard let configuration = loaded.configuration else {
                throw CLIError("\(bridgeFile): " + loaded.diagnostics.map(\.description).joined(separator: "; "))
            }
            bridge = try Bridge(configuration: configuration, engine: engine, logger: logger)
            let httpPort = DemoSetOnce()
            var server = OperationsServer(
                host: "127.0.0.1",
                port: 0,
                registry: metrics,
                logger: logger,
                onListening: { port in httpPort.set(port) },
                healthy: { bridge.currentStatistics.state != "stopped" },
                status: { bridge.statusJSON() }
            )
            if let instances = bridge.registry {
                server.instanceLookup = { productKey, deviceName in
                    await InstanceLookupResponse.answer(instances, productKey: productKey, deviceName: deviceName)
                }
            }
            bridgeGroup = ServiceGroup(
                configuration: .init(
                    services: [
                        .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                        .init(service: bridge, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                    ],
                    logger: logger
                )
            )
            bridgeTask = Task { try await bridgeGroup.run() }
            try await Self.waitConnected(bridge, upstreams: upstreams.map(\.name), httpPort: httpPort)
            if let port = httpPort.value {
                display.say(
                    "bridge: \(upstreams.count) upstreams connected; http://127.0.0.1:\(port)/status, /metrics, "
                        + "/instances/{productKey}/{deviceName}"
                )
            }
        } catch {
            await stopSimulator()
            throw error
        }

        // 4. Traffic, and the moves on the timeline.
        let traffic = Task { await scenario.traffic.run(simulator.simulation) }
        let live = DemoLiveFigures(bridge: bridge, backend: backend, simulation: simulator.simulation, targetName: DemoScenario.targetName)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                display.live(await live.sample())
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let schedule = Task {
            for (offset, step) in timeline.steps {
                try? await clock.sleep(until: start.advanced(by: offset))
                if Task.isCancelled { return }
                switch step {
                case .batch(let number, let count):
                    do {
                        let moved = try await migration.startBatch(number, of: count)
                        display.say("grayscale batch \(number): \(moved.devices.count) devices move to the target")
                    } catch {
                        display.say("grayscale batch \(number): \(error)")
                    }
                case .full:
                    let moved = await migration.migrateAll()
                    display.say("full migration: the remaining \(moved.devices.count) devices move to the target")
                }
            }
            try? await clock.sleep(until: start.advanced(by: timeline.end))
        }
        // Ctrl-C (or SIGTERM) ends the moves early: publishing stops, the bridge drains, and the report says what
        // it saw. A second one exits at once.
        let interrupted = DemoSetOnce()
        let signals = Task {
            var count = 0
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                count += 1
                if count > 1 { Foundation.exit(130) }
                interrupted.set(1)
                schedule.cancel()
                display.say("interrupted: publishing stops now; draining, then the report (again to quit at once)")
            }
        }
        await schedule.value

        // 5. Stop publishing, then let the bridge drain.
        traffic.cancel()
        _ = await traffic.value
        let published = ledger.messageIds
        display.say("publishing stopped: \(published.count) messages; draining the bridge")
        let drainStart = clock.now
        var drained = false
        while drainStart.duration(to: clock.now) < Self.drainLimit {
            backend.poll()
            if backend.hasReceived(all: published), bridge.currentStatistics.inFlight == 0 {
                drained = true
                break
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let drainTime = drainStart.duration(to: clock.now)
        // A redelivery still on its way would be a duplicate: give it one more moment to show up.
        try? await Task.sleep(for: .milliseconds(500))

        // 6. Compare: the registry and the outbox while the bridge still holds its state, then stop everything.
        let registry = await Self.registryCheck(bridge, simulation: simulator.simulation, target: target)
        let events = (try? await bridge.outbox?.outboxEvents(fromPosition: 0, limit: 10_000_000).count) ?? 0
        ticker.cancel()
        _ = await ticker.value
        let dropped = bridge.currentStatistics.upstreams.values.reduce(0) { $0 + $1.duplicatesOf.values.reduce(0, +) }
        let migrated = simulator.simulation.fleet.devices(on: DemoScenario.targetName).count
        await bridgeGroup.triggerGracefulShutdown()
        _ = try? await bridgeTask.value
        await stopSimulator()
        signals.cancel()
        backend.poll()
        display.finish()
        var report = DemoReport(
            published: published,
            deliveries: backend.deliveries,
            duplicatesDropped: dropped,
            eventsEmitted: events,
            devicesMigrated: migrated,
            registry: registry,
            drainSeconds: Self.seconds(drainTime),
            drained: drained
        )
        report.interrupted = interrupted.value != nil
        return report
    }

    /// Writes migration.yaml, plans, writes plan.yaml, runs the plan; returns the target's consumer groups.
    static func migrate(folder: String, openAPIPort: Int, logger: Logger, display: DemoDisplay) async throws -> [(name: String, id: String)] {
        let configFile = folder + "/migration.yaml"
        let planFile = folder + "/plan.yaml"
        try DemoFiles.migrationYAML(openAPIPort: openAPIPort).write(toFile: configFile, atomically: true, encoding: .utf8)
        let workspace = try MigrationWorkspace(configPath: configFile, logger: logger)
        let plan = try await workspace.plan()
        try PlanFile.write(plan, to: planFile)
        let (runner, _) = try MigrationWorkspace.runner(planPath: planFile, configPath: configFile, storePath: nil, logger: logger)
        let summary = try await runner.run()
        let groups = try await runner.consumerGroupIdMap().compactMap { entry in entry.targetId.map { (name: entry.name, id: $0) } }
        let kinds = Dictionary(grouping: plan.steps, by: { "\($0.action)" }).map { "\($0.value.count) \($0.key)" }.sorted()
        display.say(
            "migration: \(plan.steps.count) steps planned (\(kinds.joined(separator: ", "))), \(summary.created) resources created on the target; "
                + "consumer groups there: " + groups.map { "\($0.name)=\($0.id)" }.joined(separator: ", ")
        )
        guard !groups.isEmpty else { throw CLIError("the migration created no consumer group on the target: nothing for the bridge to read") }
        return groups
    }

    /// Waits until every upstream has a connection open (at most 30 s), so that the display starts with a live bridge.
    static func waitConnected(_ bridge: Bridge, upstreams: [String], httpPort: DemoSetOnce) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(30))
        while clock.now < deadline {
            let statistics = bridge.currentStatistics
            if upstreams.allSatisfy({ (statistics.upstreams[$0]?.connectionsOpen ?? 0) > 0 }), httpPort.value != nil { return }
            if statistics.state == "stopped" { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let errors = bridge.currentStatistics.upstreams.compactMap { name, upstream in upstream.lastError.map { "\(name): \($0)" } }
        throw CLIError(
            "the bridge did not connect to every simulated instance within 30 s\(errors.isEmpty ? "" : ": " + errors.sorted().joined(separator: "; "))")
    }

    /// For every device: the instance the registry names (nil when unknown) and the one the simulator has it on.
    static func registryCheck(_ bridge: Bridge, simulation: Simulation, target: SimulatedInstance) async -> [(registry: String?, actual: String)] {
        var rows: [(registry: String?, actual: String)] = []
        for device in simulation.fleet.devices {
            let home = simulation.fleet.placement(of: device)?.home
            let actual = home == target.name ? (target.iotInstanceId ?? target.name) : ""
            let record = try? await bridge.registry?.lookup(DeviceKey(productKey: device.productKey, deviceName: device.deviceName))
            rows.append((record?.iotInstanceId, actual))
        }
        return rows
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func figure(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}

/// A value set once from another task: the port the bridge's HTTP server reports once it listens (from its
/// `onListening`), or that an interrupt came.
final class DemoSetOnce: Sendable {
    private let port = Mutex<Int?>(nil)

    func set(_ value: Int) { self.port.withLock { $0 = value } }

    var value: Int? { self.port.withLock { $0 } }
}
