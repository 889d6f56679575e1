//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import Simulator
import Testing

extension IntegrationSuites {
    /// The official Alibaba Cloud Python SDK (aliyun-python-sdk-core + aliyun-python-sdk-iot, signing requests
    /// itself) against the simulated OpenAPI endpoint: what it signs, the simulator accepts; what it signs with a
    /// wrong secret or an unknown key, the simulator refuses as the platform does.
    @Suite(
        "Simulator: the official Python SDK against the simulated OpenAPI",
        .enabled(if: TestEnvironment.hasPythonPeers, "needs IOTBRIDGE_PYTHON and IOTBRIDGE_PEERS"),
        .timeLimit(.minutes(2))
    )
    struct SimulatorSDKOpenAPITests {
        static let enterpriseId = "iot-06z00sdk4tst9x"
        static let keyId = "LTAI5tSimSdkTest01"

        /// Runs `sdk_openapi.py` with the steps and returns its JSON lines; fails the test, saying why, when the
        /// SDK is not installed (exit 3) or the peer broke.
        static func sdk(
            _ harness: SimulatorOpenAPIHarness,
            key: String = Self.keyId,
            secret: String,
            instance: String? = nil,
            _ steps: [String],
            in directory: TemporaryDirectory
        ) async throws -> [JSON] {
            var arguments = ["--endpoint", "127.0.0.1:\(harness.port)", "--key", key, "--secret", secret]
            if let instance { arguments += ["--instance", instance] }
            let process = try PythonPeers.start("sdk_openapi.py", arguments + steps, in: directory)
            defer { process.stop() }
            let status = try await process.waitForExit(timeout: .seconds(60))
            if status == 3 {
                let python = TestEnvironment.python ?? "python"
                let hint =
                    "scripts/test.sh installs aliyun-python-sdk-core and aliyun-python-sdk-iot "
                    + "unless --no-install"
                Issue.record("the official SDK is not installed for \(python): \(process.stdout) — \(hint)")
            }
            try #require(status == 0, "sdk_openapi.py exited \(status): \(process.stderr)")
            return process.stdout.split(separator: "\n").compactMap { JSON(parsing: String($0)) }
        }

        @Test("the SDK lists consumer groups and creates one, on the legacy and on the Enterprise instance")
        func listAndCreate() async throws {
            let directory = try TemporaryDirectory("sim-sdk")
            defer { directory.remove() }
            let legacy = try SimulatedControlPlane(
                snapshot: InstanceSnapshot(
                    identity: InstanceIdentity(kind: "sim"),
                    products: ["a1SdkProd01"],
                    consumerGroups: [
                        ConsumerGroup(id: "DEFAULT_GROUP", name: "DEFAULT_GROUP"),
                        ConsumerGroup(id: "nJRaJPn5U1JITGfjKl2m000100", name: "orders"),
                    ]
                )
            )
            let enterprise = try SimulatedControlPlane(
                snapshot: InstanceSnapshot(identity: InstanceIdentity(kind: "sim")),
                iotInstanceId: Self.enterpriseId
            )
            let secret = SimulatorOpenAPIHarness.randomSecret()
            let harness = try await SimulatorOpenAPIHarness.start(
                [legacy, enterprise],
                accessKeys: [Self.keyId: secret]
            )

            let lines = try await Self.sdk(
                harness,
                secret: secret,
                ["list", "create:sdk_created", "list", "query:sdk_"],
                in: directory
            )
            let errors = lines.filter { $0["error"] != nil }
            #expect(errors.isEmpty, "\(errors)")
            try #require(lines.count == 4, "\(lines)")
            let listed = lines[0]["groups"]?.arrayValue?.compactMap { $0["GroupName"]?.string }
            #expect(listed == ["DEFAULT_GROUP", "orders"])
            #expect(lines[0]["success"]?.boolValue == true)
            let created = try #require(lines[1]["groupId"]?.string)
            #expect(created.wholeMatch(of: /[A-Za-z0-9]{20}000100/) != nil, "\(created)")
            #expect(await legacy.consumerGroupIds().contains(created))
            #expect(await !enterprise.consumerGroupIds().contains(created))
            #expect(lines[2]["groups"]?.arrayValue?.compactMap { $0["GroupId"]?.string }.contains(created) == true)
            // Fuzzy search by name, as QueryConsumerGroupList documents it.
            #expect(lines[3]["groups"]?.arrayValue?.compactMap { $0["GroupName"]?.string } == ["sdk_created"])

            // The SDK sends IotInstanceId for the Enterprise instance: the group lands there.
            let onEnterprise = try await Self.sdk(
                harness,
                secret: secret,
                instance: Self.enterpriseId,
                ["create:ent_created", "list"],
                in: directory
            )
            let enterpriseGroup = try #require(onEnterprise.first?["groupId"]?.string, "\(onEnterprise)")
            #expect(await enterprise.consumerGroupIds() == [enterpriseGroup])
            #expect(onEnterprise.last?["groups"]?.arrayValue?.count == 1)
            #expect(harness.server.callCounts()["CreateConsumerGroup"] == 2)
            await harness.stop()
        }

        @Test("a wrong secret and an unknown key are refused with the platform's codes")
        func refusals() async throws {
            let directory = try TemporaryDirectory("sim-sdk-refused")
            defer { directory.remove() }
            let legacy = try SimulatedControlPlane(snapshot: InstanceSnapshot(identity: InstanceIdentity(kind: "sim")))
            let secret = SimulatorOpenAPIHarness.randomSecret()
            let harness = try await SimulatorOpenAPIHarness.start([legacy], accessKeys: [Self.keyId: secret])

            let wrong = try await Self.sdk(harness, secret: "not-\(secret)", ["create:never_made"], in: directory)
            // The server answers SignatureDoesNotMatch with its string to sign; the SDK compares that with its own
            // and, when they are equal byte for byte (only the secret differs), reports InvalidAccessKeySecret.
            // So this code also proves that our canonical string to sign is the SDK's.
            #expect(wrong.first?["error"]?.string == "InvalidAccessKeySecret", "\(wrong)")
            #expect(wrong.first?["status"]?.int == 400)
            let unknown = try await Self.sdk(harness, key: "LTAI5tNobody", secret: secret, ["list"], in: directory)
            #expect(unknown.first?["error"]?.string == "InvalidAccessKeyId.NotFound", "\(unknown)")
            #expect(unknown.first?["status"]?.int == 404)
            #expect(await legacy.consumerGroupIds().isEmpty)

            // Throttling switched on: the SDK (no retries) sees Throttling.User; the next call gets through.
            harness.server.throttleNext(1, of: "CreateConsumerGroup")
            let throttled = try await Self.sdk(harness, secret: secret, ["create:after", "create:after"], in: directory)
            #expect(throttled.first?["error"]?.string == "Throttling.User", "\(throttled)")
            #expect(throttled.last?["groupId"]?.string != nil, "\(throttled)")
            #expect(await legacy.listConsumerGroups().map(\.name) == ["after"])
            await harness.stop()
        }
    }
}

extension JSON {
    /// The elements if this is an array (kept to this file's name space: the shared JSON has no accessor yet).
    fileprivate var arrayValue: [JSON]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// The value if it is a boolean.
    fileprivate var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}
