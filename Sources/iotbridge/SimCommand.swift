//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Foundation
import IoTPlatform
import Logging
import Migration
import ServiceLifecycle
import Simulator
import UnixSignals

/// `iotbridge sim`: simulated IoT Platform instances on this machine.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run simulated IoT Platform instances: AMQP endpoints, devices, migration batches.",
        discussion: """
            Each instance in sim.yaml gets an AMQP 1.0 endpoint that behaves as the platform documents \
            (README.md, "Rehearsing with the simulator"): TLS with a self-signed certificate made at start \
            (or a given one, or plain TCP), aksign/ststoken logins checked against accessKeys, one receiver \
            link per connection attached within 15 s, idle-time-out 30-300 s, consumer groups as queues with \
            redelivery after 30 s without an accept. Devices publish custom-topic JSON, TSL property posts and \
            status notices at the configured rate into the groups their product's subscriptions name.

            An OpenAPI endpoint (HTTP, signature v1, the migration's subset of actions) serves every \
            instance's consumer groups, subscriptions and rules, selected by IotInstanceId (omitted for the \
            legacy instance); a consumer group created there can log in over AMQP at once.

            It prints each instance's endpoint, the certificate to trust and a login to paste (the secret \
            stays in your environment), and the OpenAPI address. SIGTERM or SIGINT stops it.

            A sim.yaml to start from (the full one: docs/examples/sim.yaml):

              accessKeys:
                - accessKeyId: LTAIsimulator
                  accessKeySecret: ${SIM_ACCESS_KEY_SECRET}
              instances:
                - name: source
                  kind: legacy
                  consumerGroups: [ { id: cg-source } ]
                  subscriptions:
                    - productKey: a1SimProduct
                      flags: [DeviceDataFlag, DeviceStatusChangeFlag]
                      consumerGroups: [cg-source]
              devices:
                products: [ { productKey: a1SimProduct, count: 20 } ]
                home: source
                rate: 20

            Examples:
              export SIM_ACCESS_KEY_SECRET=sim-secret
              iotbridge sim --config docs/examples/sim.yaml --check
              iotbridge sim --config docs/examples/sim.yaml
            """
    )

    @Option(name: .shortAndLong, help: "The simulator's configuration file.")
    var config: String = "sim.yaml"

    @Flag(help: "Only check the configuration: print every problem with its line and exit (2 if any error).")
    var check = false

    @Option(help: "Where the self-signed certificates go (default: a new folder under the system's temporary folder).")
    var certificateDirectory: String?

    @OptionGroup var log: LogOptions

    func run() async throws {
        let result = SimulatorConfigurationReader().load(path: self.config)
        for error in result.errors {
            FileHandle.standardError.write(Data((error + "\n").utf8))
        }
        guard let configuration = result.configuration else {
            let count = result.errors.count
            FileHandle.standardError.write(Data("\(self.config): \(count) error\(count == 1 ? "" : "s")\n".utf8))
            throw ExitCode(2)
        }
        if self.check {
            for instance in configuration.instances {
                print(
                    "instance \(instance.name): \(instance.snapshot.consumerGroups.count) consumer group(s), "
                        + "\(instance.snapshot.subscriptions.count) subscription(s)"
                )
            }
            print("\(self.config): ok — \(configuration.instances.count) instance(s), \(configuration.devices.devices.count) device(s)")
            return
        }
        let logger = try self.log.makeLogger(label: "iotbridge.sim")
        let directory = self.certificateDirectory ?? (NSTemporaryDirectory() + "iotbridge-sim-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let engine = AMQPEngine(logger: logger)
        let service: SimulatorService
        do {
            service = try SimulatorService(configuration: configuration, engine: engine, logger: logger, certificateDirectory: directory)
        } catch {
            await engine.shutdown()
            throw CLIError(error.message)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let openAPI = service.openAPI {
            services.append(.init(service: openAPI, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        let banner = Task {
            await service.waitStarted()
            guard service.simulation.instances.allSatisfy({ $0.endpoint.port != nil }) else { return }
            var openAPIPort: Int?
            if let openAPI = service.openAPI { openAPIPort = try? await openAPI.listeningPort() }
            FileHandle.standardOutput.write(Data(Self.banner(configuration, service.simulation, openAPIPort: openAPIPort).utf8))
        }
        do {
            try await group.run()
        } catch {
            banner.cancel()
            await engine.shutdown()
            throw CLIError("\(error)")
        }
        banner.cancel()
        await engine.shutdown()
    }

    /// What a person needs to connect: endpoints, the certificate, a login to paste (no secret).
    static func banner(_ configuration: SimulatorConfiguration, _ simulation: Simulation, openAPIPort: Int?) -> String {
        var text = ""
        let keyId = configuration.instances.first?.amqp.accessKeys.first?.accessKeyId ?? "<accessKeyId>"
        for (settings, instance) in zip(configuration.instances, simulation.instances) {
            text += "instance \(instance.name) (\(instance.iotInstanceId ?? "legacy public, no instance ID")): \(instance.endpoint.url)\n"
            if let certificate = instance.endpoint.certificateFile {
                text += "  trust: \(certificate)\n"
            }
            for group in settings.snapshot.consumerGroups {
                text +=
                    "  consumer group \(group.id): username "
                    + "client-1|authMode=aksign,signMethod=hmacsha1,timestamp=<ms>,authId=\(keyId),"
                    + "iotInstanceId=\(instance.iotInstanceId ?? ""),consumerGroupId=\(group.id)|\n"
            }
        }
        text += "  password: base64(HMAC-SHA1(<the secret of \(keyId)>, \"authId=\(keyId)&timestamp=<ms>\"))\n"
        if let port = openAPIPort, let openAPI = configuration.openAPI {
            let host = openAPI.host == "0.0.0.0" ? "127.0.0.1" : openAPI.host
            text +=
                "openapi: http://\(host):\(port)/ (signature v1 with the same AccessKeys; IotInstanceId selects the "
                + "instance, omitted for the legacy one)\n"
        }
        text += "devices: \(simulation.fleet.devices.count) sending \(configuration.devices.traffic.rate) msg/s from \(configuration.devices.home)\n"
        return text
    }
}
