//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import RuleSQL
import Testing

@testable import Bridge

/// The legacy channels' bodies (reference §3.1 MNS, §3.2 HTTP/2) and the `envelope:` key of the sinks.
@Suite struct LegacyEnvelopeTests {
    func item(topic: String, payload: String = "{\"temp\":21}", id: String = "1234567890123456789") -> SinkMessage {
        let encoded = AMQPMessage(
            body: .data(Array(payload.utf8)),
            applicationProperties: ["topic": .string(topic), "messageId": .string(id), "generateTime": .long(1_573_489_088_171)]
        ).encoded()
        let message = BridgeMessage(
            encoded: encoded, decodingError: nil, upstream: "source", instanceLabel: "iot-old", maxMessageSize: 1 << 20
        )
        return SinkMessage(message: message)
    }

    func json(_ bytes: [UInt8]?) throws -> [String: Any] {
        let bytes = try #require(bytes)
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func mnsCarriesTheFieldsOfAnMNSQueueMessage() throws {
        let object = try self.json(LegacyEnvelope.mns.body(for: self.item(topic: "/a1Prod/dev1/user/update")))
        #expect(object["messageid"] as? String == "1234567890123456789")
        #expect(object["messagetype"] as? String == "upload")
        #expect(object["topic"] as? String == "/a1Prod/dev1/user/update")
        #expect(object["payload"] as? String == Data("{\"temp\":21}".utf8).base64EncodedString())
        #expect((object["timestamp"] as? NSNumber)?.int64Value == 1_573_489_088_171)
        #expect(Set(object.keys) == ["messageid", "messagetype", "topic", "payload", "timestamp"])
    }

    @Test(arguments: [
        ("/as/mqtt/status/a1Prod/dev1", "status"),
        ("/a1Prod/dev1/thing/lifecycle", "device_lifecycle"),
        ("/a1Prod/dev1/thing/topo/lifecycle", "topo_lifecycle"),
        ("/a1Prod/dev1/thing/list/found", "topo_listfound"),
        ("/a1Prod/dev1/thing/event/property/history/post", "thing_history"),
        ("/a1Prod/dev1/ota/upgrade", "ota_event"),
        ("/sys/a1Prod/dev1/thing/event/property/post", "upload"),
    ])
    func mnsMessageTypeFollowsTheTopic(topic: String, type: String) throws {
        let object = try self.json(LegacyEnvelope.mns.body(for: self.item(topic: topic)))
        #expect(object["messagetype"] as? String == type)
        // A status message has a null topic, as the older MNS doc says.
        #expect((object["topic"] is NSNull) == (type == "status"))
    }

    @Test func http2CarriesTheSDKsMessageModel() throws {
        let object = try self.json(LegacyEnvelope.http2.body(for: self.item(topic: "/a1Prod/dev1/user/update")))
        #expect(object["topic"] as? String == "/a1Prod/dev1/user/update")
        #expect(object["messageId"] as? String == "1234567890123456789")
        #expect(object["payload"] as? String == Data("{\"temp\":21}".utf8).base64EncodedString())
        #expect(object["qos"] as? Int == 1)
    }

    @Test func platformLeavesTheBodyAlone() {
        #expect(LegacyEnvelope.platform.body(for: self.item(topic: "/t")) == nil)
    }

    @Test func theListenerSendsTheEnvelopeWithThePlatformProperties() throws {
        let encoded = ListenerSink.encoding(of: self.item(topic: "/a1Prod/dev1/user/update"), envelope: .mns)
        let message = try AMQPMessage(decoding: encoded)
        #expect(message.applicationProperties["topic"] == .string("/a1Prod/dev1/user/update"))
        #expect(message.applicationProperties["iotInstanceId"] == .string("iot-old"))
        guard case .data(let body) = message.body else {
            Issue.record("expected a data section")
            return
        }
        #expect(try self.json(body)["messagetype"] as? String == "upload")
    }

    @Test func theKeyOnEachSinkKind() throws {
        let folder = NSTemporaryDirectory()
        let result = BridgeConfigurationLoader(environment: ["PW": "x"]).load(
            text: """
                upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
                sinks:
                  - { name: q, kind: amqp, url: "amqp://h:1//queue/q", envelope: mns }
                  - { name: h, kind: webhook, url: "http://127.0.0.1:1/in", envelope: http2 }
                  - { name: l, kind: listener, listen: "127.0.0.1:0", allowInsecure: true, envelope: mns,
                      consumerGroups: [ { id: g, users: [ { user: u, password: "${PW}" } ] } ] }
                """,
            file: folder + "/bridge.yaml"
        )
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let sinks = try #require(result.configuration?.sinks)
        if case .amqp(let settings) = sinks[0].kind { #expect(settings.envelope == .mns) } else { Issue.record("amqp") }
        if case .webhook(let settings) = sinks[1].kind { #expect(settings.envelope == .http2) } else { Issue.record("webhook") }
        if case .listener(let settings) = sinks[2].kind { #expect(settings.envelope == .mns) } else { Issue.record("listener") }
        let bad = BridgeConfigurationLoader(environment: [:]).load(
            text: """
                upstreams: [ { name: a, url: "amqp://h:1//queue/a" } ]
                sinks:
                  - { name: h, kind: webhook, url: "http://127.0.0.1:1/in", envelope: mns, format: raw }
                  - { name: j, kind: jsonl, path: out.jsonl, envelope: mns }
                  - { name: q, kind: amqp, url: "amqp://h:1//queue/q", envelope: stomp }
                """,
            file: folder + "/bridge.yaml"
        )
        let messages = bad.diagnostics.map { "\($0.location.line): \($0.message)" }
        #expect(messages.contains { $0.hasPrefix("3:") && $0.contains("'format' and 'envelope: mns'") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("4:") && $0.contains("'envelope' does not apply to a sink of kind jsonl") })
        #expect(messages.contains { $0.hasPrefix("5:") && $0.contains("'envelope' must be one of platform, mns, http2") })
    }
}
