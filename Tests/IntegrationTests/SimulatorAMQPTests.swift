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
import Simulator
import Testing

extension IntegrationSuites {
    /// The simulator's AMQP endpoint against the platform's official Python sample (peers/platform_sample_consumer.py)
    /// and a client that logs in the same way (peers/sim_login_peer.py): logins, the one-link rule, the attach
    /// deadline, the idle-time-out range, redelivery, and a grayscale batch. The simulator runs in this process on
    /// port 0, with short timeouts.
    @Suite(
        "Simulator: the AMQP endpoint behaves as the platform",
        .serialized,
        .timeLimit(.minutes(5)),
        .enabled(if: TestEnvironment.hasPythonPeers && TestEnvironment.openSSL != nil, "needs the Python peers and openssl (scripts/test.sh)")
    )
    struct SimulatorAMQPTests {
        static let secret = "sim-secret"

        static let yaml = """
            accessKeys:
              - { accessKeyId: LTAIsim, accessKeySecret: "${SIM_SECRET}" }
            instances:
              - name: source
                kind: legacy
                amqp: { port: 0, ackTimeout: 2s, attachTimeout: 2s }
                consumerGroups: [ { id: cg-source } ]
                subscriptions:
                  - { productKey: a1Sim, flags: [DeviceDataFlag, DeviceStatusChangeFlag], consumerGroups: [cg-source] }
              - name: target
                kind: enterprise
                iotInstanceId: iot-06z00simtarget
                amqp: { port: 0, ackTimeout: 2s, attachTimeout: 2s }
                consumerGroups: [ { id: cg-target } ]
                subscriptions:
                  - { productKey: a1Sim, flags: [DeviceDataFlag, DeviceStatusChangeFlag], consumerGroups: [cg-target] }
            devices:
              products: [ { productKey: a1Sim, count: 4 } ]
              home: source
              rate: 1
            migration: { source: source, target: target, syncWindow: 1h }
            """

        /// A running simulator (no traffic: the tests send each message themselves).
        final class Setup: Sendable {
            let directory: TemporaryDirectory
            let engine: AMQPEngine
            let service: SimulatorService
            let task: Task<Void, any Error>

            init(_ name: String) async throws {
                self.directory = try TemporaryDirectory("sim-\(name)")
                let result = SimulatorConfigurationReader(environment: ["SIM_SECRET": SimulatorAMQPTests.secret])
                    .load(text: SimulatorAMQPTests.yaml, file: self.directory.file("sim.yaml"))
                var configuration = try #require(result.configuration, "\(result.errors)")
                // No background traffic: every message in these tests is sent by the test.
                configuration.devices.traffic.mix = [:]
                var logger = Logger(label: "sim-test")
                logger.logLevel = .notice
                self.engine = AMQPEngine(logger: logger)
                self.service = try SimulatorService(
                    configuration: configuration,
                    ledger: PublicationLedger(tracksMessageIds: true),
                    engine: self.engine,
                    logger: logger,
                    certificateDirectory: self.directory.file("certs")
                )
                let service = self.service
                self.task = Task { try await service.run() }
                await service.waitStarted()
                for instance in service.simulation.instances {
                    _ = try #require(instance.endpoint.port, "instance \(instance.name) did not start")
                }
            }

            func instance(_ name: String) throws -> SimulatedInstance {
                try #require(self.service.simulation.instance(name))
            }

            func stop() async {
                self.task.cancel()
                _ = try? await self.task.value
                await self.engine.shutdown()
            }
        }

        func consumer(
            _ setup: Setup,
            instance: String = "source",
            clientId: String,
            group: String = "cg-source",
            extra: [String] = []
        ) throws -> ManagedProcess {
            let endpoint = try setup.instance(instance).endpoint
            return try ManagedProcess(
                try #require(TestEnvironment.python),
                [
                    try #require(TestEnvironment.peers) + "/platform_sample_consumer.py", "localhost", "\(try #require(endpoint.port))",
                    clientId, "LTAIsim", Self.secret, group, "--ca", try #require(endpoint.certificateFile), "--timeout", "120",
                ] + extra,
                name: clientId,
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: setup.directory
            )
        }

        func loginPeer(_ setup: Setup, clientId: String, extra: [String]) throws -> ManagedProcess {
            let endpoint = try setup.instance("source").endpoint
            return try ManagedProcess(
                try #require(TestEnvironment.python),
                [
                    try #require(TestEnvironment.peers) + "/sim_login_peer.py", "localhost", "\(try #require(endpoint.port))",
                    clientId, "LTAIsim", Self.secret, "cg-source", "--ca", try #require(endpoint.certificateFile),
                ] + extra,
                name: clientId,
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: setup.directory
            )
        }

        static func messageIds(_ process: ManagedProcess) -> [String] {
            process.events("message").compactMap { $0["messageId"]?.string }
        }

        @Test func aGoodAksignLoginReceivesTheDevicesMessages() async throws {
            let setup = try await Setup("good")
            defer { Task { await setup.stop() } }
            let consumer = try self.consumer(setup, clientId: "sample-good")
            defer { consumer.stop() }
            try await waitUntil("the sample attached", timeout: .seconds(20)) { !consumer.events("opened").isEmpty }
            let simulation = setup.service.simulation
            let device = simulation.fleet.devices[0]
            var sent: [SimulatedMessage] = []
            for kind in [SimulatedMessageKind.custom, .property, .status] {
                sent += await simulation.send(kind, from: device)
            }
            #expect(sent.count == 4)
            try await waitUntil("the sample received every message", timeout: .seconds(20)) {
                Set(Self.messageIds(consumer)).isSuperset(of: sent.map(\.messageId))
            }
            let topics = Set(consumer.events("message").compactMap { $0["topic"]?.string })
            #expect(topics == Set(sent.map(\.topic)))
            #expect(topics.contains("/a1Sim/\(device.deviceName)/user/update"))
            #expect(topics.contains("/as/mqtt/status/a1Sim/\(device.deviceName)"))
            // Accepted: nothing comes back after the ack timeout.
            try await Task.sleep(for: .seconds(3))
            #expect(Self.messageIds(consumer).count == 4)
            #expect(try setup.instance("source").endpoint.counters(of: "cg-source")?.accepted == 4)
        }

        @Test func aBadSignatureAndAnUnknownGroupAreRefusedWithUnauthorizedAccess() async throws {
            let setup = try await Setup("refused")
            defer { Task { await setup.stop() } }
            let badSignature = try self.consumer(setup, clientId: "sample-bad", extra: ["--password-override", "c2lnbmF0dXJl"])
            let unknownGroup = try self.consumer(setup, clientId: "sample-nogroup", group: "cg-nope")
            defer {
                badSignature.stop()
                unknownGroup.stop()
            }
            for process in [badSignature, unknownGroup] {
                try await waitUntil("\(process.name) was refused", timeout: .seconds(20)) { !process.events("error").isEmpty }
                let error = try #require(process.events("error").first)
                #expect(error["name"]?.string == "amqp:unauthorized-access", "\(process.outputTail)")
                #expect(process.events("opened").isEmpty)
            }
        }

        @Test func aSecondReceiverLinkOnOneConnectionIsRefused() async throws {
            let setup = try await Setup("second-link")
            defer { Task { await setup.stop() } }
            let peer = try self.loginPeer(setup, clientId: "two-links", extra: ["--receivers", "2", "--timeout", "6"])
            defer { peer.stop() }
            try await waitUntil("the second link was refused", timeout: .seconds(20)) {
                peer.events("error").contains { $0["where"]?.string == "link" }
            }
            let refusal = try #require(peer.events("error").first { $0["where"]?.string == "link" })
            #expect(refusal["name"]?.string == "amqp:resource-limit-exceeded")
            #expect(refusal["description"]?.string?.contains("one receiver link per connection") == true)
            #expect(refusal["link"]?.string == "receiver-2")
            #expect(peer.events("opened").contains { $0["link"]?.string == "receiver-1" })
        }

        @Test func aSenderLinkIsRefusedTheEndpointOnlyPushes() async throws {
            let setup = try await Setup("sender")
            defer { Task { await setup.stop() } }
            let peer = try self.loginPeer(setup, clientId: "publisher", extra: ["--sender", "--timeout", "6"])
            defer { peer.stop() }
            try await waitUntil("the sender link was refused", timeout: .seconds(20)) {
                peer.events("error").contains { $0["where"]?.string == "link" }
            }
            let refusal = try #require(peer.events("error").first { $0["where"]?.string == "link" })
            #expect(refusal["name"]?.string == "amqp:not-allowed")
            #expect(refusal["description"]?.string?.contains("attach a receiver link") == true)
        }

        @Test func aConnectionWithoutALinkIsClosedAfterTheAttachDeadline() async throws {
            let setup = try await Setup("no-attach")
            defer { Task { await setup.stop() } }
            let peer = try self.loginPeer(setup, clientId: "no-link", extra: ["--receivers", "0", "--timeout", "15"])
            defer { peer.stop() }
            try await waitUntil("the connection was closed", timeout: .seconds(20)) { !peer.events("error").isEmpty || !peer.events("timeout").isEmpty }
            let closed = try #require(peer.events("error").first, "\(peer.outputTail)")
            #expect(closed["where"]?.string == "connection")
            #expect(closed["description"]?.string?.contains("no link was attached within") == true)
            // The attach deadline is 2 s here; the close comes after it, not at once and not at the peer's timeout.
            guard case .number(let elapsed)? = closed["elapsed"] else {
                Issue.record("no elapsed time in \(closed)")
                return
            }
            #expect(elapsed >= 1.9)
            #expect(elapsed < 12)
        }

        @Test func anOpenWithoutAnIdleTimeoutIsRefused() async throws {
            let setup = try await Setup("idle")
            defer { Task { await setup.stop() } }
            let peer = try self.loginPeer(setup, clientId: "no-heartbeat", extra: ["--heartbeat", "0", "--timeout", "10"])
            defer { peer.stop() }
            try await waitUntil("the connection was refused", timeout: .seconds(15)) { !peer.events("error").isEmpty }
            let refusal = try #require(peer.events("error").first)
            #expect(refusal["name"]?.string == "amqp:invalid-field", "\(peer.outputTail)")
            #expect(refusal["description"]?.string?.contains("idle-time-out") == true)
            #expect(peer.events("opened").isEmpty)
        }

        @Test func aMessageNotAcceptedIsRedeliveredAfterTheAckTimeout() async throws {
            let setup = try await Setup("redelivery")
            defer { Task { await setup.stop() } }
            let consumer = try self.consumer(setup, clientId: "sample-nosettle", extra: ["--no-settle"])
            defer { consumer.stop() }
            try await waitUntil("the sample attached", timeout: .seconds(20)) { !consumer.events("opened").isEmpty }
            let simulation = setup.service.simulation
            let sent = await simulation.send(.custom, from: simulation.fleet.devices[1])
            let id = try #require(sent.first?.messageId)
            try await waitUntil("the message came again", timeout: .seconds(15)) {
                Self.messageIds(consumer).filter { $0 == id }.count >= 2
            }
            let deliveries = consumer.events("message").filter { $0["messageId"]?.string == id }
            #expect(deliveries.first?["deliveryCount"]?.int == 0)
            #expect((deliveries.dropFirst().first?["deliveryCount"]?.int ?? 0) >= 1)
            #expect((try setup.instance("source").endpoint.counters(of: "cg-source")?.redelivered ?? 0) >= 1)
        }

        @Test func aGroupCreatedThroughTheControlPlaneCanBeLoggedInToAndGetsWhatItsSubscriptionRoutes() async throws {
            let setup = try await Setup("control-plane")
            defer { Task { await setup.stop() } }
            let controlPlane = try #require(setup.service.controlPlanes["source"])
            let group = try await controlPlane.createConsumerGroup(name: "late_backend")
            var relation = try await controlPlane.subscribeRelation(productKey: "a1Sim", type: .amqp)
            relation.consumerGroupIds.append(group.id)
            try await controlPlane.updateSubscribeRelation(relation)
            let consumer = try self.consumer(setup, clientId: "late", group: group.id)
            defer { consumer.stop() }
            try await waitUntil("the new group's consumer attached", timeout: .seconds(20)) {
                !consumer.events("opened").isEmpty || !consumer.events("error").isEmpty
            }
            #expect(consumer.events("error").isEmpty, "\(consumer.outputTail)")
            let sent = await setup.service.simulation.send(.custom, from: setup.service.simulation.fleet.devices[0])
            let id = try #require(sent.first?.messageId)
            try await waitUntil("the new group got the message", timeout: .seconds(15)) { Self.messageIds(consumer).contains(id) }
            // The group existing before still gets its own copy.
            #expect(try setup.instance("source").endpoint.counters(of: "cg-source")?.enqueued == 1)
        }

        @Test func aGroupCreatedThroughTheOpenAPIByTheMigrationClientCanLogInOverAMQP() async throws {
            let setup = try await Setup("openapi")
            defer { Task { await setup.stop() } }
            let server = try #require(setup.service.openAPI)
            let serving = Task { try await server.run() }
            defer {
                Task {
                    await server.triggerGracefulShutdown()
                    _ = try? await serving.value
                }
            }
            let port = try await server.listeningPort()
            let backend = try OpenAPIBackend(
                config: InstanceConfig(
                    kind: .sim,
                    regionId: "cn-shanghai",
                    iotInstanceId: "iot-06z00simtarget",
                    endpoint: "http://127.0.0.1:\(port)",
                    accessKeyId: "LTAIsim",
                    accessKeySecret: try SecretReference(parsing: "${SIM_SECRET}", field: "accessKeySecret")
                ),
                options: MigrationOptions(),
                environment: ["SIM_SECRET": Self.secret]
            )
            let id = try await backend.createConsumerGroup(name: "migrated_backend", description: nil)
            // The new group is the target's, not the source's: a login there is refused.
            let wrongInstance = try self.consumer(setup, instance: "source", clientId: "wrong-instance", group: id)
            let consumer = try self.consumer(setup, instance: "target", clientId: "migrated", group: id)
            defer {
                consumer.stop()
                wrongInstance.stop()
            }
            try await waitUntil("the target's new group accepted the login", timeout: .seconds(20)) { !consumer.events("opened").isEmpty }
            try await waitUntil("the source refused it", timeout: .seconds(20)) { !wrongInstance.events("error").isEmpty }
            #expect(wrongInstance.events("error").first?["name"]?.string == "amqp:unauthorized-access")
        }

        @Test func aGrayscaleBatchAnnouncesItselfOnTheSourceAndTheDeviceThenPublishesOnTheTarget() async throws {
            let setup = try await Setup("grayscale")
            defer { Task { await setup.stop() } }
            let onSource = try self.consumer(setup, clientId: "backend-source")
            let onTarget = try self.consumer(setup, instance: "target", clientId: "backend-target", group: "cg-target")
            defer {
                onSource.stop()
                onTarget.stop()
            }
            try await waitUntil("both attached", timeout: .seconds(20)) {
                !onSource.events("opened").isEmpty && !onTarget.events("opened").isEmpty
            }
            let migration = try #require(setup.service.migration)
            let step = try await migration.startBatch(1, of: 2)
            #expect(step.status == "GRAY_EXECUTING")
            #expect(step.devices.count == 2)
            let moved = try #require(step.devices.first)
            let announcement = try #require(step.migrationMessageIds.first)
            try await waitUntil("the migration message reached the source's consumer", timeout: .seconds(15)) {
                Self.messageIds(onSource).contains(announcement)
            }
            let event = try #require(onSource.events("message").first { $0["messageId"]?.string == announcement })
            let text = try #require(event["body"]?.string)
            let body = try #require(JSON(parsing: text))
            #expect(body["status"]?.string == "GRAY_EXECUTING")
            #expect(body["targetInstance"]?.string == "iot-06z00simtarget")
            guard case .array(let devices) = body["successDevices"] else {
                Issue.record("successDevices is not an array: \(event)")
                return
            }
            #expect(devices.compactMap { $0["deviceName"]?.string } == step.devices.map(\.deviceName))
            // The reconnect: offline on the source, online on the target.
            let statusTopic = "/as/mqtt/status/a1Sim/\(moved.deviceName)"
            try await waitUntil("online on the target", timeout: .seconds(15)) {
                onTarget.events("message").contains { $0["topic"]?.string == statusTopic && ($0["body"]?.string ?? "").contains("\"online\"") }
            }
            #expect(onSource.events("message").contains { $0["topic"]?.string == statusTopic && ($0["body"]?.string ?? "").contains("\"offline\"") })
            // Then it publishes on the target (and, inside the sync window, on the source too, with the same messageId).
            let data = try #require(await setup.service.simulation.send(.custom, from: moved).first)
            try await waitUntil("the moved device's message reached the target", timeout: .seconds(15)) {
                Self.messageIds(onTarget).contains(data.messageId) && Self.messageIds(onSource).contains(data.messageId)
            }
            #expect(setup.service.simulation.ledger.instances(of: data.messageId) == ["source", "target"])
            // A device not in the batch stays on the source only.
            let stayed = try #require(setup.service.simulation.fleet.devices.first { !step.devices.contains($0) })
            let local = try #require(await setup.service.simulation.send(.custom, from: stayed).first)
            #expect(setup.service.simulation.ledger.instances(of: local.messageId) == ["source"])
        }
    }
}
