//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPClient
import Migration
import Testing

/// The OpenAPI backend against the loopback server, which checks signatures, nonces and `IotInstanceId`.
@Suite(.timeLimit(.minutes(5))) struct OpenAPIBackendTests {
    static let enterprise = "iot-06z00frq8umvkx2"

    func makeBackend(
        _ server: OpenAPITestServer,
        instance: String = Self.enterprise,
        keyId: String = "testid",
        secret: String = "testsecret",
        endpoint: String? = nil,
        maxAttempts: Int = 4
    ) throws -> OpenAPIBackend {
        var options = MigrationOptions()
        options.retry = RetryPolicy(
            maxAttempts: maxAttempts,
            initialBackoffMilliseconds: 10,
            maxBackoffMilliseconds: 50
        )
        let side = InstanceConfig(
            kind: .sim,
            regionId: "cn-shanghai",
            iotInstanceId: instance,
            endpoint: endpoint ?? server.endpoint,
            accessKeyId: keyId,
            accessKeySecret: try SecretReference(parsing: "${IOT_TEST_SECRET}", field: "secret")
        )
        var http = HTTPClientConfiguration()
        http.connectTimeoutMilliseconds = 2_000
        return try OpenAPIBackend(
            config: side,
            options: options,
            http: HTTPClient(configuration: http),
            environment: ["IOT_TEST_SECRET": secret]
        )
    }

    @Test func legacyExportRoundTripsWithAnEmptyInstanceId() async throws {
        let server = try await OpenAPITestServer()
        var fixture = try await loadFixture("source-legacy.yaml")
        // The API has no query for HTTP/2 SDK subscriptions; they only come from exports.
        fixture.subscriptions.removeAll { $0.type == .http2 }
        try await server.seed(instance: "", fixture)
        let exported = try await self.makeBackend(server, instance: "").exportSnapshot(products: [])
        #expect(Support.normalized(exported) == Support.normalized(fixture))
        // Nothing landed in another instance: IotInstanceId was omitted (the server refuses an empty one).
        let (enterprise, calls) = try await server.state(instance: Self.enterprise)
        #expect(enterprise.rules.isEmpty)
        #expect(calls["ListRuleActions"] == 3)
        #expect(calls["GetRule"] == nil, "ListRule carries the SQL, so GetRule is not needed")
    }

    @Test func wrongSecretIsAnAuthenticationErrorThatNamesTheKeyNotTheSecret() async throws {
        let server = try await OpenAPITestServer()
        let backend = try self.makeBackend(server, secret: "not-the-secret")
        var dumped = ""
        dump(backend, to: &dumped)
        #expect(!dumped.contains("not-the-secret"))
        #expect(!"\(backend)".contains("not-the-secret"))
        do {
            _ = try await backend.listConsumerGroups()
            Issue.record("a wrong secret was accepted")
        } catch let error as MigrationError {
            #expect(error.code == .authentication)
            #expect(error.message.contains("SignatureDoesNotMatch"))
            #expect(error.message.contains("testid"))
            #expect(error.message.contains("${IOT_TEST_SECRET}"))
            #expect(!"\(error)".contains("not-the-secret"))
        }
        let (_, calls) = try await server.state(instance: Self.enterprise)
        #expect(calls.isEmpty, "authentication failures are not retried")
        await #expect {
            try await self.makeBackend(server, keyId: "unknown").listConsumerGroups()
        } throws: { error in
            (error as? MigrationError)?.code == .authentication && "\(error)".contains("InvalidAccessKeyId")
        }
    }

    @Test func unreachableEndpointIsNamed() async throws {
        let server = try await OpenAPITestServer()
        let backend = try self.makeBackend(server, endpoint: "http://127.0.0.1:9", maxAttempts: 2)
        await #expect {
            try await backend.listProducts()
        } throws: { error in
            guard let error = error as? MigrationError else { return false }
            return error.code == .unreachable && error.message.contains("127.0.0.1:9")
                && error.message.contains("gave up after 2 attempts")
        }
    }

    @Test func throttlingAndServerErrorsAreRetried() async throws {
        let server = try await OpenAPITestServer()
        try await server.seed(instance: Self.enterprise, InstanceSnapshot(identity: InstanceIdentity(kind: "sim")))
        try await server.faults(#"{"throttle": {"QueryConsumerGroupList": 2}, "fail500": {"CreateConsumerGroup": 1}}"#)
        let backend = try self.makeBackend(server)
        #expect(try await backend.listConsumerGroups().isEmpty)
        let id = try await backend.createConsumerGroup(name: "orders", description: nil)
        let (state, calls) = try await server.state(instance: Self.enterprise)
        #expect(calls["QueryConsumerGroupList"] == 3)
        #expect(calls["CreateConsumerGroup"] == 2)
        #expect(state.consumerGroups.map(\.id) == [id])
        // Still throttled after every attempt: a clear error.
        try await server.faults(#"{"throttle": {"ListRule": 10}}"#)
        await #expect {
            try await self.makeBackend(server, maxAttempts: 3).listRules()
        } throws: { error in
            (error as? MigrationError)?.code == .throttled && "\(error)".contains("gave up after 3 attempts")
        }
    }

    @Test func listsArePaginated() async throws {
        let server = try await OpenAPITestServer()
        let groups = (0..<1_205).map { ConsumerGroup(id: "G\($0)", name: "group_\($0)") }
        let rules = (0..<230).map {
            OldRule(id: "\(10_000 + $0)", name: "rule_\($0)", topic: "/pk/+/user/x", select: "*")
        }
        try await server.seed(
            instance: Self.enterprise,
            InstanceSnapshot(identity: InstanceIdentity(kind: "sim"), consumerGroups: groups, rules: rules)
        )
        let backend = try self.makeBackend(server)
        #expect(Set(try await backend.listConsumerGroups().map(\.name)) == Set(groups.map(\.name)))
        #expect(try await backend.ruleIndex().count == 230)
        let (_, calls) = try await server.state(instance: Self.enterprise)
        #expect(calls["QueryConsumerGroupList"] == 2)
        #expect(calls["ListRule"] == 3)
    }

    @Test func signedBodyCarriesEveryCommonParameter() async throws {
        let server = try await OpenAPITestServer()
        let backend = try self.makeBackend(server, instance: "")
        // The server refuses requests without Version, nonce, … or with an empty IotInstanceId; an accepted call proves
        // them.
        #expect(try await backend.listProducts().isEmpty)
        // A failing action surfaces the API's code and RequestId.
        await #expect {
            try await backend.deleteRule(id: "404")
        } throws: { error in
            "\(error)".contains("iot.rule.NotExist") && "\(error)".contains("RequestId")
        }
    }
}
