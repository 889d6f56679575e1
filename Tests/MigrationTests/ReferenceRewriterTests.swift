//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import Testing

/// Reference rewriting and the MNS / HTTP/2 → AMQP translation tables.
@Suite struct ReferenceRewriterTests {
    @Test func consumerGroupIdBecomesItsSymbol() {
        let (rewritten, dangling) = ReferenceRewriter.rewriteConsumerGroup(
            inConfiguration: #"{ "groupId": "G1", "extra": 1 }"#,
            symbols: ["G1": "cg:orders"]
        )
        #expect(rewritten == #"{"extra":1,"groupId":"${cg:orders}"}"#)
        #expect(dangling == nil)
        let unknown = ReferenceRewriter.rewriteConsumerGroup(inConfiguration: #"{"groupId":"G9"}"#, symbols: [:])
        #expect(unknown.dangling == "G9")
        #expect(unknown.configuration == #"{"groupId":"G9"}"#)
    }

    @Test func scriptDestinationIdsBecomeSymbols() {
        let script = """
            var data = payload("json");
            writeAmqp(1001, data, "tag");
            writeIotTopic ( 1002, "/pk/dn/user/get", data);
            var x = 1001;
            writeTableStore(7, data);
            """
        let (rewritten, dangling) = ReferenceRewriter.rewriteDestinations(
            inScript: script,
            symbols: ["1001": "dest:amqp", "1002": "dest:topic"]
        )
        #expect(rewritten.contains(#"writeAmqp(${dest:amqp}, data, "tag");"#))
        #expect(rewritten.contains(#"writeIotTopic ( ${dest:topic}, "/pk/dn/user/get", data);"#))
        // Only forwarding calls are rewritten, not any number that happens to match.
        #expect(rewritten.contains("var x = 1001;"))
        #expect(dangling == ["7"])
    }

    @Test func symbolsResolveToTargetIds() throws {
        let resolved = try ReferenceRewriter.resolve(
            #"{"groupId":"${cg:orders}"} ${dest:a}"#,
            ids: ["cg:orders": "NEW1", "dest:a": "42"]
        )
        #expect(resolved == #"{"groupId":"NEW1"} 42"#)
        #expect {
            try ReferenceRewriter.resolve("${cg:gone}", ids: [:])
        } throws: { error in
            (error as? MigrationError)?.code == .invalidPlan && "\(error)".contains("${cg:gone}")
        }
        #expect(ReferenceRewriter.references(in: "a ${x:1} b ${y:2}") == ["x:1", "y:2"])
    }

    @Test(arguments: [
        ("/as/mqtt/status/pk/dn", "status"),
        ("/pk/dn/thing/lifecycle", "device_lifecycle"),
        ("/pk/dn/thing/topo/lifecycle", "topo_lifecycle"),
        ("/pk/dn/thing/list/found", "topo_listfound"),
        ("/pk/dn/thing/event/property/history/post", "thing_history"),
        ("/pk/dn/ota/upgrade", "ota_event"),
        ("/pk/dn/user/update", "upload"),
        ("/pk/dn/thing/event/property/post", "upload"),
    ])
    func mnsMessageTypeFollowsFromTheTopic(topic: String, type: String) {
        #expect(SubscriptionTranslation.messageType(forTopic: topic) == type)
    }

    @Test func everyMNSMessageTypeHasItsFlag() {
        #expect(SubscriptionTranslation.messageTypeFlags.count == 7)
        #expect(SubscriptionTranslation.messageTypeFlags["status"] == .deviceStatusChange)
        #expect(SubscriptionTranslation.messageTypeFlags["upload"] == .deviceData)
        // No MNS message type maps to an AMQP-only flag.
        #expect(SubscriptionTranslation.messageTypeFlags.values.allSatisfy { !$0.isAMQPOnly })
    }

    @Test func envelopeMappingCoversEveryMNSField() {
        let legacy = SubscriptionTranslation.mnsEnvelope.map(\.legacy).joined(separator: " ")
        for field in ["payload", "topic", "messageid", "timestamp", "messagetype"] {
            #expect(legacy.contains(field))
        }
        let amqp = SubscriptionTranslation.mnsEnvelope.map(\.amqp).joined(separator: " ")
        for property in ["body", "`topic`", "`messageId`", "`generateTime`"] {
            #expect(amqp.contains(property))
        }
        let impact = SubscriptionTranslation.consumerImpact(from: .mns, productKey: "pk1", groupName: "pk1_amqp")
        #expect(impact.contains("aliyun-iot-pk1"))
        #expect(impact.contains("5671"))
    }

    @Test func translatedRelationKeepsProductAndFlags() {
        let relation = SubscribeRelation(productKey: "pk", type: .mns, flags: [.otaEvent, .deviceData])
        let spec = SubscriptionTranslation.translate(relation, consumerGroups: ["${cg:pk_amqp}"])
        #expect(spec.productKey == "pk")
        #expect(spec.flags == [.deviceData, .otaEvent])
        #expect(spec.consumerGroups == ["${cg:pk_amqp}"])
        #expect(relation.mnsQueueName == "aliyun-iot-pk")
    }
}
