//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Bridge
import Foundation
import HTTPServer
import Logging
import RuleSQL
import ServiceLifecycle
import UnixSignals

/// `iotbridge run`: the bridge as a long-running service.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the bridge: upstreams in, one lossless de-duplicated stream out.",
        discussion: """
            Reads bridge.yaml (see README.md, "Configuration"), consumes every upstream, de-duplicates by \
            messageId in the state file and forwards each message to every sink (or where its rules send \
            it). An upstream delivery is \
            accepted only after every sink confirmed the message (or it went to the dead letter with the \
            reason), so a crash or kill re-delivers and never loses.

            SIGTERM or SIGINT drains: no more credit, in-flight messages finish within shutdown.deadline \
            (default 10 s), the rest are released for redelivery.

            Replicas: with `state: postgres://USER:${PGPASSWORD}@HOST:5432/DB` any number of `run` \
            processes with the same file share one de-duplication window (README.md, "Scaling out"); \
            while PostgreSQL is unreachable nothing is settled and /healthz answers 503 with the reason.

            Examples:
              iotbridge run --config bridge.yaml
              iotbridge run --config bridge.yaml --check
            """
    )

    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = "bridge.yaml"

    @Flag(help: "Only check the configuration: print every problem with its line and exit (2 if any error).")
    var check = false

    @Flag(help: "No live progress line on a terminal.")
    var quiet = false

    @OptionGroup var log: LogOptions

    func run() async throws {
        let result = BridgeConfigurationLoader().load(path: self.config)
        for diagnostic in result.diagnostics {
            FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
        }
        guard var configuration = result.configuration else {
            let errors = result.diagnostics.filter { $0.severity == .error }.count
            FileHandle.standardError.write(Data("\(self.config): \(errors) error\(errors == 1 ? "" : "s")\n".utf8))
            throw ExitCode(2)
        }
        do {
            try configuration.checkRules()
            configuration = try await configuration.resolvingPlanReferences()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        if self.check {
            for upstream in configuration.upstreams {
                if case .aksign(let platform) = upstream.auth {
                    print("upstream \(upstream.name): consumer group \(platform.consumerGroupId), \(upstream.connections) connection(s)")
                } else if case .ststoken(let platform) = upstream.auth {
                    print("upstream \(upstream.name): consumer group \(platform.consumerGroupId), \(upstream.connections) connection(s)")
                }
            }
            print(
                "\(self.config): ok — \(configuration.upstreams.count) upstream(s), \(configuration.sinks.count) sink(s), "
                    + "state \(configuration.state)"
            )
            return
        }
        let logger = try self.log.makeLogger(label: "iotbridge.run")
        let registry = OperationsServer.bootstrapMetrics()
        let engine = AMQPEngine(logger: logger)
        let bridge: Bridge
        do {
            bridge = try Bridge(configuration: configuration, engine: engine, logger: logger)
        } catch {
            await engine.shutdown()
            FileHandle.standardError.write(Data("iotbridge run: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let http = configuration.http {
            var server = OperationsServer(
                host: http.host,
                port: http.port,
                registry: registry,
                logger: logger,
                healthy: {
                    let statistics = bridge.currentStatistics
                    return statistics.state != "stopped" && statistics.stateStoreError == nil
                },
                unhealthyReason: { bridge.currentStatistics.stateStoreError },
                status: { bridge.statusJSON() }
            )
            if let instances = bridge.registry {
                server.instanceLookup = { productKey, deviceName in
                    await InstanceLookupResponse.answer(instances, productKey: productKey, deviceName: deviceName)
                }
            }
            services.append(.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let eventLinks = bridge.eventLinks
        if !configuration.events.sinks.isEmpty || !eventLinks.isEmpty, let outbox = bridge.outbox {
            let delivery = OutboxDelivery(
                settings: configuration.events,
                outbox: outbox,
                engine: engine,
                logger: logger,
                links: eventLinks
            )
            services.append(.init(service: delivery, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        // Last in the list: shut down first, while the HTTP server still answers /status.
        services.append(.init(service: bridge, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        let progress =
            self.quiet || isatty(STDERR_FILENO) == 0
            ? nil
            : Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    FileHandle.standardError.write(Data(("\r\u{1B}[K" + bridge.progressLine()).utf8))
                }
            }
        do {
            try await group.run()
        } catch {
            progress?.cancel()
            await engine.shutdown()
            var message = "\(error)"
            if message.contains("Address already in use"), let http = configuration.http {
                message =
                    "http.listen \(http.host):\(http.port): the address is already in use — another process "
                    + "(another bridge?) listens there; choose another port or 0 for any free one"
            }
            FileHandle.standardError.write(Data("\niotbridge run: \(message)\n".utf8))
            throw ExitCode(1)
        }
        progress?.cancel()
        if progress != nil { FileHandle.standardError.write(Data("\n".utf8)) }
        await engine.shutdown()
    }
}
