//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Bridge
import Foundation
import IoTPlatform
import RuleSQL
import Testing

/// The `listener` sink's part of bridge.yaml: the issue's example, its defaults, and each mistake at its line.
@Suite struct ListenerConfigurationTests {
    let folder: String = {
        let path = NSTemporaryDirectory() + "listener-config-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path + "/server.pem", contents: Data("pem".utf8))
        _ = FileManager.default.createFile(atPath: path + "/server.key", contents: Data("key".utf8))
        return path
    }()

    func load(_ sink: String) -> BridgeConfigurationLoader.Result {
        let text = """
            upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
            sinks:
            \(sink)
            """
        return BridgeConfigurationLoader(environment: ["BACKEND_SECRET": "s3cr3t", "SVC_PW": "pw"])
            .load(text: text, file: self.folder + "/bridge.yaml")
    }

    func messages(_ result: BridgeConfigurationLoader.Result) -> [String] {
        result.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }

    @Test func theIssueExampleLoadsWithItsDefaults() throws {
        let result = self.load(
            """
              - name: backends
                kind: listener
                listen: 0.0.0.0:5671
                tls: { certificate: server.pem, privateKey: server.key }
                consumerGroups:
                  - id: cg-backend
                    accessKeys: [ { accessKeyId: LTAIexample, accessKeySecret: "${BACKEND_SECRET}" } ]
                    users: [ { user: svc, password: "${SVC_PW}" } ]
            """
        )
        #expect(self.messages(result) == [])
        let sink = try #require(result.configuration?.sinks.first)
        guard case .listener(let settings) = sink.kind else {
            Issue.record("expected a listener, got \(sink.kind.name)")
            return
        }
        #expect(settings.host == "0.0.0.0")
        #expect(settings.port == 5671)
        #expect(settings.tls?.certificateFile == self.folder + "/server.pem")
        #expect(!settings.allowInsecure)
        #expect(settings.ackTimeout == .seconds(30))
        #expect(settings.maxConsumersPerGroup == 128)
        #expect(settings.maxMessageSize == 1_048_576)
        #expect(settings.logins.consumerGroups.keys.sorted() == ["cg-backend"])
        // The configured secret opens the group; the description never shows it.
        let login = try AMQPPlatformLogin(
            clientId: "c", accessKeyId: "LTAIexample", accessKeySecret: "s3cr3t", consumerGroupId: "cg-backend", iotInstanceId: nil
        )
        #expect((try? settings.logins.verify(username: login.username, password: login.password).get()) != nil)
        #expect((try? settings.logins.verify(username: "svc", password: "pw").get()) != nil)
        #expect(!"\(settings.logins)".contains("s3cr3t"))
    }

    @Test func tlsIsRequiredUnlessAllowInsecure() throws {
        let refused = self.load(
            """
              - name: backends
                kind: listener
                listen: 127.0.0.1:0
                consumerGroups: [ { id: g, users: [ { user: u, password: "${SVC_PW}" } ] } ]
            """
        )
        #expect(refused.configuration == nil)
        #expect(self.messages(refused).contains { $0.hasPrefix("3:") && $0.contains("needs 'tls:") && $0.contains("allowInsecure") })
        let allowed = self.load(
            """
              - { name: backends, kind: listener, listen: "127.0.0.1:0", allowInsecure: true, ackTimeout: 2s,
                  consumerGroups: [ { id: g, users: [ { user: u, password: "${SVC_PW}" } ] } ] }
            """
        )
        #expect(self.messages(allowed) == [])
        guard case .listener(let settings) = try #require(allowed.configuration?.sinks.first).kind else {
            Issue.record("expected a listener")
            return
        }
        #expect(settings.allowInsecure)
        #expect(settings.ackTimeout == .seconds(2))
    }

    @Test func everyMistakeIsReportedAtItsLine() {
        let result = self.load(
            """
              - name: backends
                kind: listener
                listen: nowhere
                allowInsecure: true
                maxConsumersPerGroup: 0
                url: "amqp://x"
                consumerGroups:
                  - id: g
                    accessKeys: [ { accessKeyId: K, accessKeySecret: plaintext } ]
                  - id: empty
                  - id: g
                    users: [ { user: u, password: "${SVC_PW}" } ]
            """
        )
        #expect(result.configuration == nil)
        let messages = self.messages(result)
        #expect(messages.contains { $0.hasPrefix("5:") && $0.contains("'listen' must be HOST:PORT") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("7:") && $0.contains("'maxConsumersPerGroup' must be") })
        #expect(messages.contains { $0.hasPrefix("8:") && $0.contains("'url' does not apply to a sink of kind listener") })
        #expect(messages.contains { $0.hasPrefix("11:") && $0.contains("'accessKeySecret' must be an environment reference") })
        #expect(messages.contains { $0.hasPrefix("12:") && $0.contains("'empty' has neither") })
        #expect(messages.contains { $0.contains("two consumer groups are named 'g'") || $0.contains("'g' is configured twice") })
        #expect(!messages.contains { $0.contains("plaintext") && $0.contains("s3cr3t") })
    }

    @Test func aListenerCannotBeTheDeadLetter() {
        let result = BridgeConfigurationLoader(environment: ["SVC_PW": "pw"]).load(
            text: """
                upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
                sinks: [ { name: s, kind: jsonl, path: out.jsonl } ]
                deadLetter: { kind: listener, listen: "127.0.0.1:0", allowInsecure: true,
                              consumerGroups: [ { id: g, users: [ { user: u, password: "${SVC_PW}" } ] } ] }
                """,
            file: self.folder + "/bridge.yaml"
        )
        #expect(result.configuration == nil)
        #expect(self.messages(result).contains { $0.contains("deadLetter must be kind jsonl or amqp") })
    }

    @Test func anEventSinkCannotBeAListenerNorUseAnEnvelope() {
        let result = BridgeConfigurationLoader(environment: ["SVC_PW": "pw"]).load(
            text: """
                upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
                sinks: [ { name: s, kind: jsonl, path: out.jsonl } ]
                events:
                  sinks:
                    - { name: l, kind: listener, listen: "127.0.0.1:0", allowInsecure: true,
                        consumerGroups: [ { id: g, users: [ { user: u, password: "${SVC_PW}" } ] } ] }
                    - { name: h, kind: webhook, url: "http://127.0.0.1:1/events", envelope: mns }
                """,
            file: self.folder + "/bridge.yaml"
        )
        #expect(result.configuration == nil)
        let messages = self.messages(result)
        #expect(messages.contains { $0.hasPrefix("5:") && $0.contains("an event sink cannot be a listener") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("7:") && $0.contains("'envelope' does not apply to an event sink") }, "\(messages)")
    }
}
