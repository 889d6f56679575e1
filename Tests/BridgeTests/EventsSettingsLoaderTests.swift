//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Bridge
import Foundation
import RuleSQL
import Testing

/// bridge.yaml's `events:` key: defaults, sinks, and errors with their line.
@Suite struct EventsSettingsLoaderTests {
    static let base = """
        upstreams:
          - { name: source, url: "amqp://127.0.0.1:5672//queue/s", auth: { kind: plain, user: guest, password: "${PW}" } }
        sinks:
          - { name: log, kind: jsonl, path: out.jsonl }

        """

    func load(_ text: String) -> BridgeConfigurationLoader.Result {
        let folder = NSTemporaryDirectory() + "bridge-events-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return BridgeConfigurationLoader(environment: ["PW": "guest"]).load(text: Self.base + text, file: folder + "/bridge.yaml")
    }

    func messages(_ result: BridgeConfigurationLoader.Result) -> [String] {
        result.diagnostics.map { "\($0.location.line): \($0.message)" }
    }

    @Test func absentMeansRecogniseByShapeAndKeepEventsInTheOutbox() throws {
        let configuration = try #require(self.load("").configuration)
        #expect(configuration.events.recognize)
        #expect(configuration.events.migrationTopic == nil)
        #expect(configuration.events.sinks.isEmpty)
    }

    @Test func sinksAndATopicFilter() throws {
        let result = self.load(
            """
            events:
              migrationTopic: /sys/+/+/migration/#
              sinks:
                - { name: evq, kind: amqp, url: "amqp://127.0.0.1:5672//queue/migration-events", auth: { kind: plain, user: guest, password: "${PW}" } }
                - { name: evhook, kind: webhook, url: "http://127.0.0.1:8080/events" }
            """
        )
        #expect(self.messages(result) == [])
        let events = try #require(result.configuration).events
        #expect(events.migrationTopic?.matches("/sys/a1/d1/migration/status") == true)
        #expect(events.sinks.map(\.name) == ["evq", "evhook"])
    }

    @Test func mistakesAreReportedAtTheirLine() {
        let result = self.load(
            """
            events:
              recognise: true
              migrationTopic: "sys/no-leading-slash"
              sinks:
                - { name: a, kind: jsonl, path: a.jsonl }
                - { name: a, kind: kafka }
            """
        )
        #expect(result.configuration == nil)
        let messages = self.messages(result)
        #expect(messages.contains { $0.hasPrefix("6:") && $0.contains("recognise") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("7:") && $0.contains("migrationTopic") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("10:") && $0.contains("kafka") }, "\(messages)")
    }
}
