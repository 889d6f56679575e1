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
        // ListRule's items carry no TopicType (as on the platform): GetRule reads it, so topicType 0/1/2 survive.
        #expect(calls["GetRule"] == 3)
        #expect(exported.rules.map(\.topicType).sorted { ($0 ?? -1) < ($1 ?? -1) } == [0, 1, 2])
        // Writes about the legacy instance omit IotInstanceId too (the server refuses an empty one).
        let legacy = try self.makeBackend(server, instance: "")
        try await legacy.stopRule(id: "9001")
        try await legacy.startRule(id: "9001")
        try await legacy.stopParser(id: "8001")
        #expect(try await server.state(instance: "").1["StopRule"] == 1)
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
        // Two throttled lists and one answered; then, after the create's HTTP 500 (its outcome unknown), one look-up
        // by name that finds nothing, so the create is sent again.
        #expect(calls["QueryConsumerGroupList"] == 4)
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

    /// Rule actions have no name: after a lost answer only an action outside the known IDs is the call's result,
    /// even when the rule already had an identical one.
    @Test(arguments: ["503", "drop"])
    func lostRuleActionAnswerAdoptsOnlyTheNewAction(mode: String) async throws {
        let server = try await OpenAPITestServer()
        var seed = InstanceSnapshot(identity: InstanceIdentity(kind: "sim"))
        seed.products = ["a1Prod00001"]
        var rule = OldRule(id: "9001", name: "temp_alarm", topic: "/a1Prod00001/+/user/update", select: "*")
        let republish = RuleAction(
            id: "501",
            type: "REPUBLISH",
            configuration: #"{"topic":"/a1Prod00001/x/user/get"}"#
        )
        rule.actions = [republish]
        seed.rules = [rule]
        try await server.seed(instance: Self.enterprise, seed)
        try await server.faults(#"{"lose": {"action": "CreateRuleAction", "after": 1, "mode": "\#(mode)"}}"#)
        let backend = try self.makeBackend(server)
        let id = try await backend.createRuleAction(
            ruleId: "9001",
            action: RuleAction(type: "REPUBLISH", configuration: republish.configuration),
            isErrorAction: false,
            knownActionIds: ["501"]
        )
        #expect(server.output.text.contains("LOST CreateRuleAction #1"))
        let (state, calls) = try await server.state(instance: Self.enterprise)
        #expect(calls["CreateRuleAction"] == 1, "sent again although the lost call had been applied")
        let actions = try #require(state.rules.first).actions
        #expect(actions.count == 2)
        #expect(id != "501" && actions.compactMap(\.id).contains(id))
    }

    /// Every create the backend sends adopts what a lost call made instead of sending it again.
    @Test(arguments: ["503", "drop"])
    func lostCreateAnswersAreLookedUpNotResent(mode: String) async throws {
        let server = try await OpenAPITestServer()
        var seed = InstanceSnapshot(identity: InstanceIdentity(kind: "sim"))
        seed.products = ["a1Prod00001"]
        try await server.seed(instance: Self.enterprise, seed)
        let backend = try self.makeBackend(server)
        func lose(_ action: String) async throws {
            try await server.faults(#"{"lose": {"action": "\#(action)", "after": 1, "mode": "\#(mode)"}}"#)
        }
        try await lose("CreateConsumerGroup")
        let group = try await backend.createConsumerGroup(name: "orders", description: nil)
        try await lose("CreateSubscribeRelation")
        try await backend.createSubscribeRelation(
            SubscribeRelation(productKey: "a1Prod00001", type: .amqp, flags: [.deviceData], consumerGroupIds: [group])
        )
        try await lose("CreateRule")
        let rule = try await backend.createRule(
            OldRule(id: "", name: "温度告警", topic: "/a1Prod00001/+/user/a", select: "*")
        )
        try await lose("CreateParserDataSource")
        let source = try await backend.createDataSource(name: "ds", description: "数据源")
        try await lose("CreateDataSourceItem")
        try await backend.createDataSourceItem(
            dataSourceId: source,
            item: DataSourceItem(topic: "/a1Prod00001/+/user/update", scopeType: "PRODUCT", productKey: "a1Prod00001")
        )
        try await lose("CreateDestination")
        let destination = try await backend.createDestination(
            Destination(id: "", name: "dest", type: "AMQP", configuration: #"{"groupId":"\#(group)"}"#)
        )
        try await lose("CreateParser")
        let parser = try await backend.createParser(name: "parser", description: nil)
        try await lose("AttachDestination")
        try await backend.attachDestination(parserId: parser, destinationId: destination, isFailover: false)

        let (state, calls) = try await server.state(instance: Self.enterprise)
        for action in [
            "CreateConsumerGroup", "CreateSubscribeRelation", "CreateRule", "CreateParserDataSource",
            "CreateDataSourceItem", "CreateDestination", "CreateParser", "AttachDestination",
        ] {
            #expect(server.output.text.contains("LOST \(action) #1"))
            #expect(calls[action] == 1, "\(action) was sent again after its answer was lost")
        }
        #expect(state.consumerGroups.map(\.id) == [group])
        #expect(state.rules.map(\.id) == [rule])
        #expect(state.dataSources.map(\.id) == [source])
        #expect(state.dataSources.first?.items.count == 1)
        #expect(state.destinations.map(\.id) == [destination])
        #expect(state.parsers.map(\.id) == [parser])
        #expect(state.parsers.first?.destinationIds == [destination])
        #expect(state.subscriptions.count == 1)

        // A repeated delete is refused (NotExist): after a lost answer the deletion is looked up, not repeated.
        try await lose("DeleteSubscribeRelation")
        try await backend.deleteSubscribeRelation(productKey: "a1Prod00001", type: .amqp)
        try await lose("DeleteParser")
        try await backend.deleteParser(id: parser)
        try await lose("DeleteDestination")
        try await backend.deleteDestination(id: destination)
        try await lose("DeleteParserDataSource")
        try await backend.deleteDataSource(id: source)
        try await lose("DeleteRule")
        try await backend.deleteRule(id: rule)
        try await lose("DeleteConsumerGroup")
        try await backend.deleteConsumerGroup(id: group)
        let (empty, after) = try await server.state(instance: Self.enterprise)
        for action in [
            "DeleteSubscribeRelation", "DeleteParser", "DeleteDestination", "DeleteParserDataSource", "DeleteRule",
            "DeleteConsumerGroup",
        ] {
            #expect(server.output.text.contains("LOST \(action) #1"))
            #expect(after[action] == 1, "\(action) was sent again after its answer was lost")
        }
        #expect(Support.normalized(empty) == "")
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
