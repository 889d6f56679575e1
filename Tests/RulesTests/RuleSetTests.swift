//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Rules
import Testing

@Suite("A rule set over a stream of messages")
struct RuleSetTests {
    static func compile(_ yaml: String, _ path: String) throws -> CompiledRule {
        try RuleCompiler(scriptEngine: FakeScriptEngine()).compile(
            try #require(RuleFileLoader.load(text: yaml, path: path).rule)
        )
    }

    static let hot = """
        name: hot
        sql: SELECT deviceName() AS dn, t FROM "/pk/+/user/u" WHERE t > 38
        actions:
          - {type: amqp, consumerGroup: backend, tag: "hot-${dn}"}
          - {type: republish, topic: /pk/panel/user/alert}
        """
    static let broken = """
        name: broken
        sql: SELECT substring(flag, 1) AS s FROM "/pk/+/user/u"
        actions:
          - {type: amqp, consumerGroup: backend}
        errorAction: {type: amqp, consumerGroup: errors}
        """
    static let parser = """
        name: p
        dataSource: {topics: [/pk/+/user/u]}
        script: |
          writeAmqp(1001, x)
        destinations:
          1001: {type: amqp, consumerGroup: g}
        """

    @Test("matches become one dispatch per action, failures go to the error action, all counted", arguments: [1, 3])
    func process(threshold: Int) throws {
        var set = RuleSet(rules: [
            try Self.compile(Self.hot, "hot.yaml"), try Self.compile(Self.broken, "broken.yaml"),
            try Self.compile(Self.parser, "p.yaml"),
        ])
        set.sharedParseThreshold = threshold
        var statistics: [String: RuleStatistics] = [:]
        let message = MessageContext(topic: "/pk/dev1/user/u", payload: #"{"t":39,"flag":true}"#, messageId: "m1")
        let dispatches = set.process(message, statistics: &statistics)
        #expect(dispatches.map(\.rule) == ["hot", "hot", "broken", "p"])
        #expect(dispatches[0].tag == "hot-dev1")
        #expect(String(decoding: dispatches[0].payload, as: UTF8.self) == #"{"dn":"dev1","t":39}"#)
        #expect(dispatches[1].topic == "/pk/panel/user/alert")
        #expect(dispatches[2].isErrorAction)
        let report = try JSONParser.parse(dispatches[2].payload)
        #expect(report["ruleName"] == "broken")
        #expect(report["messageId"] == "m1")
        #expect(report["base64OriginalPayload"] == .string(Base64.encode(message.payload)))
        #expect(String(decoding: dispatches[3].payload, as: UTF8.self) == #"{"dn":"dev1"}"#)
        #expect(statistics["hot"]?.matched == 1)
        #expect(statistics["broken"]?.failed == 1)

        _ = set.process(MessageContext(topic: "/pk/dev1/user/u", payload: "not json"), statistics: &statistics)
        _ = set.process(MessageContext(topic: "/pk/dev1/user/u", payload: #"{"t":20}"#), statistics: &statistics)
        _ = set.process(MessageContext(topic: "/other/dev1/user/u", payload: "{}"), statistics: &statistics)
        #expect(
            statistics["hot"] == RuleStatistics(matched: 1, filtered: 1, skippedTopic: 1, skippedNotJSON: 1, failed: 0)
        )
    }
}
