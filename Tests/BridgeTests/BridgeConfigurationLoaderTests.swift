//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import PostgresStateStore
import RuleSQL
import Testing

@testable import Bridge

@Suite struct BridgeConfigurationLoaderTests {
    let folder: String = {
        let path = NSTemporaryDirectory() + "bridge-config-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func load(_ text: String, environment: [String: String] = ["PW": "guest", "SECRET": "s3cr3t"]) -> BridgeConfigurationLoader.Result {
        BridgeConfigurationLoader(environment: environment).load(text: text, file: self.folder + "/bridge.yaml")
    }

    func messages(_ result: BridgeConfigurationLoader.Result) -> [String] {
        result.diagnostics.map { "\($0.location.line): \($0.message)" }
    }

    @Test func theIssueExampleLoadsWithItsDefaults() throws {
        let result = self.load(
            """
            state: bridge.sqlite
            dedup: { window: 1h, maxEntries: 10000000 }
            upstreams:
              - name: source
                url: amqps://iot.example.com:5671
                auth: { kind: aksign, accessKeyId: LTAI5tExample, accessKeySecret: "${SECRET}",
                        consumerGroupId: G1, iotInstanceId: "" }
                connections: 2
              - name: target
                url: amqp://127.0.0.1:5672//queue/target
                auth: { kind: plain, user: guest, password: "${PW}" }
            sinks:
              - { name: merged, kind: amqp, url: "amqp://127.0.0.1:5672//queue/merged", auth: { kind: plain, user: guest, password: "${PW}" } }
              - { name: hook, kind: webhook, url: "http://127.0.0.1:8080/in" }
              - { name: log, kind: jsonl, path: out.jsonl }
            deadLetter: { kind: jsonl, path: dead.jsonl }
            http: { listen: 127.0.0.1:9464 }
            """
        )
        #expect(self.messages(result) == [])
        let configuration = try #require(result.configuration)
        #expect(configuration.state == self.folder + "/bridge.sqlite")
        #expect(configuration.dedup.window == .seconds(3600))
        #expect(configuration.upstreams.map(\.name) == ["source", "target"])
        #expect(configuration.upstreams[0].connections == 2)
        #expect(configuration.upstreams[0].instanceLabel == "source")
        #expect(configuration.upstreams[1].endpoint.address == "/queue/target")
        #expect(configuration.sinks.map(\.kind.name) == ["amqp", "webhook", "jsonl"])
        #expect(configuration.http?.port == 9464)
        #expect(configuration.shutdownDeadline == .seconds(10))
        if case .plain(_, let password) = configuration.upstreams[1].auth {
            #expect(password.value == "guest")
            #expect("\(password)" == "<secret from ${PW}>")
        } else {
            Issue.record("expected plain auth")
        }
    }

    @Test func upstreamsOnOneConsumerGroupShareOneConnectBudget() throws {
        let result = self.load(
            """
            state: bridge.sqlite
            upstreams:
              - name: a
                url: amqps://iot.example.com:5671
                auth: { kind: aksign, accessKeyId: LTAI5tExample, accessKeySecret: "${SECRET}", consumerGroupId: G1 }
                connectsPerMinute: 40
              - name: b
                url: amqps://iot.example.com:5671
                auth: { kind: aksign, accessKeyId: LTAI5tExample, accessKeySecret: "${SECRET}", consumerGroupId: G1 }
              - name: c
                url: amqps://iot.example.com:5671
                auth: { kind: aksign, accessKeyId: LTAI5tExample, accessKeySecret: "${SECRET}", consumerGroupId: G2 }
              - name: broker
                url: amqp://127.0.0.1:5672//queue/q
                auth: { kind: anonymous }
            sinks: [ { name: log, kind: jsonl, path: out.jsonl } ]
            """
        )
        #expect(self.messages(result) == [])
        let upstreams = try #require(result.configuration).upstreams
        #expect(upstreams.map(\.connectsPerMinute) == [40, 100, 100, 100])
        let budgets = Bridge.connectBudgets(upstreams)
        #expect(budgets["a"] === budgets["b"])
        #expect(budgets["a"]?.limit == 40)
        #expect(budgets["c"] !== budgets["a"])
        #expect(budgets["c"]?.limit == 100)
        #expect(budgets["broker"] !== budgets["c"])
    }

    @Test func everyProblemIsReportedWithItsLine() {
        let result = self.load(
            """
            state: bridge.sqlite
            upstream:
              - name: a
            sinks:
              - { name: s, kind: jsonl, path: /no/such/folder/out.jsonl }
              - { name: t, kind: webhok, url: "http://x" }
              - { name: u, kind: amqp, url: "amqp://h:1//queue/q", auth: { kind: plain, user: g, password: "${MISSING}" } }
              - { name: v, kind: amqp, url: "amqp://h:1//queue/q", auth: { kind: plain, user: g, password: plaintext } }
            dedup: { window: forever }
            """
        )
        #expect(result.configuration == nil)
        let messages = self.messages(result)
        #expect(messages.contains { $0.hasPrefix("2: unknown key 'upstream'") && $0.contains("did you mean 'upstreams'") })
        #expect(messages.contains { $0.hasPrefix("1: missing required key 'upstreams'") })
        #expect(messages.contains { $0.hasPrefix("5: the folder '/no/such/folder'") })
        #expect(messages.contains { $0.hasPrefix("6: unknown sink kind 'webhok'") && $0.contains("webhook") })
        #expect(messages.contains { $0.hasPrefix("7: the environment variable MISSING") })
        #expect(messages.contains { $0.hasPrefix("8: 'password' must be an environment reference") })
        #expect(messages.contains { $0.hasPrefix("9: 'window' must be a duration") })
        // The secret never appears in a diagnostic.
        #expect(!result.diagnostics.contains { $0.description.contains("s3cr3t") })
    }

    /// Refusing a literal secret must not print it: the diagnostic has its position but not the source line.
    @Test func aLiteralSecretIsRefusedWithoutPrintingIt() {
        let result = self.load(
            """
            state: "postgres://bridge:pg-hunter2@db.internal:5432/iotbridge"
            upstreams:
              - { name: a, url: "amqp://h:1//queue/a", auth: { kind: plain, user: g, password: amqp-hunter2 } }
              - { name: b, url: "amqps://h:5671", auth: { kind: aksign, accessKeyId: LTAI5t, accessKeySecret: ak-hunter2, consumerGroupId: G1 } }
            sinks: [ { name: s, kind: jsonl, path: out.jsonl } ]
            """
        )
        #expect(result.configuration == nil)
        let messages = self.messages(result)
        #expect(messages.contains { $0.hasPrefix("1: the password in 'state' must be an environment reference") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("3: 'password' must be an environment reference") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("4: 'accessKeySecret' must be an environment reference") }, "\(messages)")
        for diagnostic in result.diagnostics {
            #expect(!diagnostic.description.contains("hunter2"), "a refused secret is printed: \(diagnostic.description)")
        }
    }

    @Test func aPostgresStateTakesItsPasswordFromTheEnvironmentAndNeverShowsIt() throws {
        let result = self.load(
            """
            state: "postgres://bridge:${PG}@db.internal:6432/iotbridge?sslmode=verify-full"
            upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
            sinks: [ { name: s, kind: jsonl, path: out.jsonl } ]
            """,
            environment: ["PG": "pg-s3cr3t"]
        )
        #expect(self.messages(result) == [])
        let configuration = try #require(result.configuration)
        let postgres = try #require(configuration.postgres)
        #expect(postgres.password == "pg-s3cr3t")
        #expect(postgres.port == 6432)
        #expect(postgres.tls == .verifyFull)
        #expect(configuration.state == "postgres://bridge@db.internal:6432/iotbridge?sslmode=verify-full")
        #expect(!"\(postgres)".contains("pg-s3cr3t"))
    }

    @Test func aPostgresStateWithoutAPasswordIsForTrustAuthentication() throws {
        let result = self.load(
            """
            state: postgresql://bridge@127.0.0.1/iotbridge
            upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
            sinks: [ { name: s, kind: jsonl, path: out.jsonl } ]
            """
        )
        let configuration = try #require(result.configuration)
        #expect(configuration.postgres?.password == nil)
        #expect(configuration.postgres?.port == 5432)
        #expect(configuration.postgres?.tls == .disable)
    }

    @Test(arguments: [
        ("postgres://bridge:hunter2@db/iotbridge", "1: the password in 'state' must be an environment reference"),
        ("postgres://bridge:${NOPE}@db/iotbridge", "1: the environment variable NOPE (the password in 'state') is not set"),
        ("postgres://bridge@db/iotbridge?sslmode=on", "1: state: sslmode 'on' is not one of disable"),
        ("postgres://db/iotbridge", "1: state: 'postgres://db/iotbridge' names no user"),
    ])
    func badPostgresStatesAreReportedAtTheirLine(state: String, message: String) {
        let result = self.load(
            """
            state: "\(state)"
            upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
            sinks: [ { name: s, kind: jsonl, path: out.jsonl } ]
            """
        )
        #expect(result.configuration == nil)
        #expect(self.messages(result).contains { $0.hasPrefix(message) }, "\(self.messages(result))")
        // The message never repeats a password (the diagnostic's excerpt of the file shows what the file holds).
        #expect(!result.diagnostics.contains { $0.message.contains("hunter2") })
    }

    @Test func keysOfAnotherSinkKindAreRefused() {
        let result = self.load(
            """
            upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
            sinks: [ { name: s, kind: jsonl, path: out.jsonl, url: "http://x" } ]
            """
        )
        #expect(self.messages(result).contains { $0.hasPrefix("2: 'url' does not apply to a sink of kind jsonl") })
    }

    @Test func rabbitMQAddressesOtherThanQueueAreWarnedAbout() throws {
        let result = self.load(
            """
            upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
            sinks: [ { name: s, kind: amqp, url: "amqp://h:1//amq/queue/q" } ]
            """
        )
        #expect(result.configuration != nil)
        #expect(result.diagnostics.contains { $0.severity == .warning && $0.message.contains("/queue/NAME") })
    }

    @Test func invalidYAMLPointsAtTheProblem() {
        let result = self.load("upstreams: [ { name: a\nsinks: x\n")
        #expect(result.configuration == nil)
        #expect(result.diagnostics.first?.message.hasPrefix("not valid YAML") == true)
    }

    @Test func anInvalidClientIdPrefixIsReportedAtLoadTime() {
        let result = self.load(
            """
            upstreams:
              - name: a
                url: amqps://iot.example.com:5671
                auth: { kind: aksign, accessKeyId: "LTAI|x", accessKeySecret: "${SECRET}", consumerGroupId: G1 }
            sinks: [ { name: s, kind: jsonl, path: out.jsonl } ]
            """
        )
        #expect(result.configuration == nil)
        #expect(self.messages(result).contains { $0.hasPrefix("4: auth:") })
    }

    @Test func durationsAcceptTheUsualUnits() {
        for (text, milliseconds) in [("500ms", 500), ("30s", 30_000), ("10m", 600_000), ("1h", 3_600_000), ("1d", 86_400_000), ("2", 2000)] {
            let result = self.load(
                """
                upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
                sinks: [ { name: s, kind: jsonl, path: out.jsonl } ]
                shutdown: { deadline: \(text) }
                """
            )
            #expect(result.configuration?.shutdownDeadline == .milliseconds(milliseconds), "\(text)")
        }
    }
}
