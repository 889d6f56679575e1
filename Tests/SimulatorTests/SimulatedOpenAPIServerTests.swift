//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import IoTPlatform
import Logging
import Migration
import Testing

@testable import Simulator

/// The endpoint's routing, envelopes and throttling, driven through `handle` (no HTTP), and one round trip over
/// loopback HTTP with the migration's own OpenAPI client.
@Suite struct SimulatedOpenAPIServerTests {
    static let enterpriseId = "iot-06z00ab1cd2ef3"

    static func server(
        throttling: SimulatedOpenAPIConfiguration.Throttling = .init()
    ) throws -> (
        SimulatedOpenAPIServer, legacy: SimulatedControlPlane, enterprise: SimulatedControlPlane
    ) {
        let legacy = try SimulatedControlPlane(snapshot: SimulatedControlPlaneTests.seed())
        let enterprise = try SimulatedControlPlane(
            snapshot: InstanceSnapshot(identity: InstanceIdentity(kind: "sim"), products: ["a1pk0000001"]),
            iotInstanceId: Self.enterpriseId
        )
        let server = try SimulatedOpenAPIServer(
            configuration: SimulatedOpenAPIConfiguration(accessKeys: ["testid": "testsecret"], throttling: throttling),
            controlPlanes: [legacy, enterprise],
            logger: Logger(label: "test")
        )
        return (server, legacy, enterprise)
    }

    static func call(
        _ server: SimulatedOpenAPIServer,
        _ action: String,
        _ parameters: [String: String] = [:]
    ) async -> (status: Int, body: [String: Any]) {
        let signed = OpenAPIRequestAuthenticatorTests.signed(
            parameters.merging(["Action": action]) { a, _ in a },
            at: Date()
        )
        let reply = await server.handle(method: "POST", parameters: signed, now: Date())
        let body = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any] ?? [:]
        return (reply.status, body)
    }

    @Test func theInstanceIsChosenByIotInstanceId() async throws {
        let (server, legacy, enterprise) = try Self.server()
        let absent = await Self.call(server, "CreateConsumerGroup", ["GroupName": "legacy_group"])
        #expect(absent.status == 200)
        #expect(absent.body["Success"] as? Bool == true)
        #expect((absent.body["RequestId"] as? String)?.isEmpty == false)
        let id = try #require(absent.body["GroupId"] as? String)
        #expect(await legacy.consumerGroupIds().contains(id))

        let sent = await Self.call(
            server,
            "CreateConsumerGroup",
            ["GroupName": "ent_group", "IotInstanceId": Self.enterpriseId]
        )
        #expect(await enterprise.consumerGroupIds().contains(try #require(sent.body["GroupId"] as? String)))
        #expect(await !legacy.consumerGroupIds().contains(sent.body["GroupId"] as? String ?? ""))

        let empty = await Self.call(server, "QueryConsumerGroupList", ["IotInstanceId": ""])
        #expect(empty.status == 400)
        #expect(empty.body["Code"] as? String == "InvalidParameter")
        #expect((empty.body["Message"] as? String)?.contains("omit") == true)

        let unknown = await Self.call(server, "QueryConsumerGroupList", ["IotInstanceId": "iot-nope"])
        #expect(unknown.status == 400)
        #expect(unknown.body["Code"] as? String == "InvalidParameter")
    }

    @Test func envelopesAreThePlatforms() async throws {
        let (server, _, _) = try Self.server()
        // An action error: HTTP 200, Success false, Code and ErrorMessage.
        let missing = await Self.call(server, "DeleteConsumerGroup", ["GroupId": "nope"])
        #expect(missing.status == 200)
        #expect(missing.body["Success"] as? Bool == false)
        #expect(missing.body["Code"] as? String == "iot.consumergroup.NotExist")
        #expect((missing.body["ErrorMessage"] as? String)?.contains("nope") == true)
        // A required parameter.
        let noName = await Self.call(server, "CreateConsumerGroup")
        #expect(noName.body["Code"] as? String == "InvalidParameter")
        #expect((noName.body["ErrorMessage"] as? String)?.contains("GroupName") == true)
        // An action the endpoint does not implement: the gateway's 404.
        let unknown = await Self.call(server, "RegisterDevice")
        #expect(unknown.status == 404)
        #expect(unknown.body["Code"] as? String == "InvalidAction.NotFound")
        // A gateway refusal has HostId and Message, no Success.
        var unsigned = OpenAPIRequestAuthenticatorTests.signed(["Action": "ListRule"], at: Date())
        unsigned["Signature"] = "AAAA"
        let reply = await server.handle(method: "POST", parameters: unsigned, now: Date())
        let body = try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any])
        #expect(reply.status == 400)
        #expect(body["Code"] as? String == "SignatureDoesNotMatch")
        #expect(body["HostId"] != nil && body["Success"] == nil)
    }

    @Test func responsesHaveTheShapesTheClientReads() async throws {
        let (server, _, _) = try Self.server()
        let list = await Self.call(server, "QueryConsumerGroupList", ["CurrentPage": "1", "PageSize": "1"])
        let groups = try #require((list.body["Data"] as? [String: Any])?["ConsumerGroupDTO"] as? [[String: Any]])
        #expect(groups.count == 1)
        #expect(list.body["Total"] as? Int == 2)
        #expect(list.body["PageCount"] as? Int == 2)
        #expect((groups[0]["CreateTime"] as? String)?.hasSuffix("Z") == true)

        let relation = await Self.call(server, "QuerySubscribeRelation", ["ProductKey": "a1pk0000001", "Type": "AMQP"])
        #expect(relation.body["DeviceDataFlag"] as? Bool == true)
        #expect(relation.body["OtaJobFlag"] as? Bool == false)
        #expect((relation.body["ConsumerGroupIds"] as? [String])?.count == 2)

        let created = await Self.call(
            server,
            "CreateRule",
            ["Name": "n1", "ProductKey": "a1pk0000001", "ShortTopic": "+/user/x", "TopicType": "1", "Select": "*"]
        )
        let ruleId = try #require(created.body["RuleId"] as? Int)
        let rules = await Self.call(server, "ListRule", ["CurrentPage": "1", "PageSize": "10"])
        let infos = try #require((rules.body["Data"] as? [String: Any])?["RuleInfo"] as? [[String: Any]])
        #expect(infos.first?["Id"] as? Int == ruleId)  // newest first
        #expect(infos.count == 2)

        let bad = await Self.call(server, "QueryConsumerGroupList", ["PageSize": "5000"])
        #expect(bad.body["Code"] as? String == "InvalidParameter")
    }

    @Test func throttlingAnswersThrottlingUser() async throws {
        let (server, legacy, _) = try Self.server(throttling: .init(throttleNext: ["CreateConsumerGroup": 1]))
        let first = await Self.call(server, "CreateConsumerGroup", ["GroupName": "throttled"])
        #expect(first.status == 400)
        #expect(first.body["Code"] as? String == "Throttling.User")
        #expect(first.body["Message"] as? String == "Request was denied due to user flow control.")
        #expect(await legacy.listConsumerGroups().count == 2)
        #expect(await Self.call(server, "CreateConsumerGroup", ["GroupName": "throttled"]).status == 200)

        server.throttleNext(2, of: "ListRule")
        #expect(await Self.call(server, "ListRule").body["Code"] as? String == "Throttling.User")
        #expect(await Self.call(server, "ListRule").body["Code"] as? String == "Throttling.User")
        #expect(await Self.call(server, "ListRule").status == 200)

        server.setQPSLimit(2, for: "GetRule")
        var codes: [String] = []
        for _ in 0..<5 {
            codes.append(await Self.call(server, "GetRule", ["RuleId": "200500"]).body["Code"] as? String ?? "ok")
        }
        // Two per second: the calls run within one or two wall-clock seconds, so 2 to 4 get through.
        #expect(codes.filter { $0 == "ok" }.count <= 4)
        #expect(codes.contains("Throttling.User"))
    }

    @Test func withoutALegacyInstanceAnOmittedIotInstanceIdIsRefused() async throws {
        let enterprise = try SimulatedControlPlane(
            snapshot: InstanceSnapshot(identity: InstanceIdentity(kind: "sim")),
            iotInstanceId: Self.enterpriseId
        )
        let server = try SimulatedOpenAPIServer(
            configuration: SimulatedOpenAPIConfiguration(accessKeys: ["testid": "testsecret"]),
            controlPlanes: [enterprise],
            logger: Logger(label: "test")
        )
        let omitted = await Self.call(server, "QueryConsumerGroupList")
        #expect(omitted.status == 400)
        #expect((omitted.body["Message"] as? String)?.contains(Self.enterpriseId) == true)
        #expect(await Self.call(server, "QueryConsumerGroupList", ["IotInstanceId": Self.enterpriseId]).status == 200)
    }

    @Test func twoInstancesWithOneIdAreRefused() throws {
        let a = try SimulatedControlPlane(snapshot: SimulatedControlPlaneTests.seed())
        let b = try SimulatedControlPlane(snapshot: SimulatedControlPlaneTests.seed())
        #expect(throws: SimulatedAPIError.self) {
            try SimulatedOpenAPIServer(configuration: .init(), controlPlanes: [a, b], logger: Logger(label: "test"))
        }
    }

    @Test func theMigrationClientReadsAndWritesOverHTTP() async throws {
        let (server, legacy, enterprise) = try Self.server()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningPort()
            var options = MigrationOptions()
            options.retry = RetryPolicy(maxAttempts: 3, initialBackoffMilliseconds: 10, maxBackoffMilliseconds: 20)
            let secret = try SecretReference(parsing: "${SIM_SECRET}", field: "accessKeySecret")
            func backend(_ iotInstanceId: String?) throws -> OpenAPIBackend {
                try OpenAPIBackend(
                    config: InstanceConfig(
                        kind: .sim,
                        regionId: "cn-shanghai",
                        iotInstanceId: iotInstanceId,
                        endpoint: "http://127.0.0.1:\(port)",
                        accessKeyId: "testid",
                        accessKeySecret: secret
                    ),
                    options: options,
                    environment: ["SIM_SECRET": "testsecret"]
                )
            }
            // What the client reads is what the instance holds.
            let read = try await backend(nil).exportSnapshot(products: [])
            let expected = await legacy.snapshot()
            #expect(read.fingerprint == expected.fingerprint)
            #expect(read.rules.count == 1 && read.subscriptions.count == 2)
            // A write through the client lands on the Enterprise instance, with a platform-shaped ID.
            let id = try await backend(Self.enterpriseId).createConsumerGroup(name: "over_http", description: nil)
            #expect(id.hasSuffix("000100"))
            #expect(await enterprise.consumerGroupIds() == [id])
            // Throttling is retried by the client and then succeeds.
            server.throttleNext(2, of: "QueryConsumerGroupList")
            #expect(try await backend(Self.enterpriseId).listConsumerGroups().map(\.id) == [id])
            // A wrong secret is an authentication error, not retried.
            let wrong = try OpenAPIBackend(
                config: InstanceConfig(
                    kind: .sim,
                    endpoint: "http://127.0.0.1:\(port)",
                    accessKeyId: "testid",
                    accessKeySecret: secret
                ),
                options: options,
                environment: ["SIM_SECRET": "not-the-secret"]
            )
            await #expect {
                try await wrong.listConsumerGroups()
            } throws: { error in
                (error as? MigrationError)?.code == .authentication
            }
            await server.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        // Stopped: a caller waiting for the port learns it will not come.
        await #expect(throws: SimulatedAPIError.self) { try await server.listeningPort() }
    }

    static let job = OTAJobFacts(jobId: "job1", firmwareId: "fw1", status: "IN_PROGRESS", type: "UPGRADE_FIRMWARE")

    @Test func theAssessmentReadsTheSeededFactsAndTooLargeBodiesAreRefused() async throws {
        let facts = InstanceFacts(
            products: [
                ProductFacts(
                    productKey: "a1pk0000001",
                    name: "Meters",
                    deviceCount: 1200,
                    onlineCount: 1100,
                    owner: true,
                    authType: "secret",
                    id2: false,
                    nodeType: 0,
                    otaJobs: [Self.job]
                )
            ],
            consumerGroups: [ConsumerGroupFacts(id: "gOrders0000000000000000100", connectedClients: ["client-a"])]
        )
        let legacy = try SimulatedControlPlane(snapshot: SimulatedControlPlaneTests.seed(), facts: facts)
        let server = try SimulatedOpenAPIServer(
            configuration: SimulatedOpenAPIConfiguration(accessKeys: ["testid": "testsecret"], maxBodyBytes: 4096),
            controlPlanes: [legacy],
            logger: Logger(label: "test")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningPort()
            var options = MigrationOptions()
            options.retry = RetryPolicy(maxAttempts: 1, initialBackoffMilliseconds: 10, maxBackoffMilliseconds: 10)
            let backend = try OpenAPIBackend(
                config: InstanceConfig(
                    kind: .sim,
                    endpoint: "http://127.0.0.1:\(port)",
                    accessKeyId: "testid",
                    accessKeySecret: try SecretReference(parsing: "${SIM_SECRET}", field: "accessKeySecret")
                ),
                options: options,
                environment: ["SIM_SECRET": "testsecret"]
            )
            let read = try await backend.assessmentFacts(
                products: ["a1pk0000001", "a1pk0000002"],
                consumerGroupIds: ["gOrders0000000000000000100", "gTelemetry00000000000000100"]
            )
            let meters = try #require(read.product("a1pk0000001"))
            #expect(meters.name == "Meters" && meters.deviceCount == 1200 && meters.onlineCount == 1100)
            #expect(meters.owner == true)
            #expect(meters.otaJobs == [Self.job])
            #expect(read.product("a1pk0000002")?.deviceCount == 0)
            #expect(read.consumerGroup("gOrders0000000000000000100")?.connectedClients == ["client-a"])
            #expect(read.consumerGroup("gTelemetry00000000000000100")?.connectedClients == [])

            // A script larger than the body limit: refused with 413, never half-read.
            let parser = try await backend.createParser(name: "big", description: nil)
            await #expect {
                try await backend.saveAndPublishScript(parserId: parser, script: String(repeating: "x", count: 8192))
            } throws: { error in
                "\(error)".contains("RequestTooLarge") || "\(error)".contains("413")
            }
            #expect(try await legacy.parser(id: parser).scriptDraft == nil)
            await server.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
