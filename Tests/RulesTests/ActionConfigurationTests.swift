//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Rules
import Testing

/// Reference §4.5: each documented `Configuration` JSON, produced from the rule-file form of the destination.
@Suite("Platform action configuration (reference §4.5)")
struct ActionConfigurationTests {
    struct NotLoaded: Error {
        let diagnostics: [Diagnostic]
    }

    static func destination(_ yaml: String) throws -> DestinationConfiguration {
        let load = RuleFileLoader.load(
            text: "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - " + yaml + "\n",
            path: "x.yaml"
        )
        guard case .sql(let definition)? = load.rule?.body, let action = definition.actions.first else {
            throw NotLoaded(diagnostics: load.diagnostics)
        }
        return action.configuration
    }

    @Test(
        "each documented configuration",
        arguments: [
            (
                "{type: republish, topic: /sys/a1TXXXXXWSN/xxx_cache001/thing/service/property/set}",
                #"{"topic":"/sys/a1TXXXXXWSN/xxx_cache001/thing/service/property/set","topicType":0}"#, "REPUBLISH"
            ),
            (
                "{type: republish, topic: /a1TXXXXXWSN/xxx_cache001/user/update}",
                #"{"topic":"/a1TXXXXXWSN/xxx_cache001/user/update","topicType":1}"#, "REPUBLISH"
            ),
            ("{type: amqp, consumerGroup: backend}", #"{"groupId":"ZTh1JmyLGuZcUfv44p4z00****"}"#, "AMQP"),
            (
                "{type: mns, themeName: mns-test-topic1, regionName: cn-shanghai, role: {roleArn: 'acs:ram::5645***:role/aliyuniotaccessingmnsrole', roleName: AliyunIOTAccessingMNSRole}}",
                #"{"themeName": "mns-test-topic1", "regionName": "cn-shanghai", "role": {"roleArn": "acs:ram::5645***:role/aliyuniotaccessingmnsrole", "roleName": "AliyunIOTAccessingMNSRole"}}"#,
                "MNS"
            ),
            (
                "{type: fc, regionName: cn-shanghai, serviceName: weather, functionName: weatherForecast, role: {roleArn: 'acs:ram::5645***:role/aliyuniotaccessingfcrole', roleName: AliyunIOTAccessingFCRole}}",
                #"{"regionName":"cn-shanghai","role":{"roleArn":"acs:ram::5645***:role/aliyuniotaccessingfcrole","roleName":"AliyunIOTAccessingFCRole"},"functionName":"weatherForecast","serviceName":"weather"}"#,
                "FC"
            ),
            (
                "{type: ons, instanceId: MQ_INST_1, topic: aliyun-iot-XXXXX, regionName: cn-hangzhou, tag: t}",
                #"{"instanceId":"MQ_INST_1","topic":"aliyun-iot-XXXXX","regionName":"cn-hangzhou","tag":"t"}"#, "ONS"
            ),
            (
                "{type: ots, instanceName: i, tableName: t, regionName: r, primaryKeys: [{columnName: c, columnType: STRING, columnValue: '${tt}', option: ''}]}",
                #"{"instanceName":"i","tableName":"t","primaryKeys":[{"columnType":"STRING","columnName":"c","columnValue":"${tt}","option":""}],"regionName":"r"}"#,
                "OTS"
            ),
            (
                "{type: datahub, projectName: p, topicName: t, regionName: r, schema: [{name: devicename, value: '${deviceName}', type: STRING}]}",
                #"{"schemaVals":[{"name":"devicename","value":"${deviceName}","type":"STRING"}],"projectName":"p","topicName":"t","regionName":"r"}"#,
                "DATAHUB"
            ),
        ]
    )
    func documented(yaml: String, json: String, type: String) throws {
        let configuration = try Self.destination(yaml)
        let produced = configuration.actionConfiguration { $0 == "backend" ? "ZTh1JmyLGuZcUfv44p4z00****" : nil }
        #expect(produced.map(JSONValue.object) == (try JSONParser.parse(json)))
        #expect(configuration.platformType == type)
    }

    @Test("an http destination is local only")
    func http() throws {
        #expect(try Self.destination("{type: http, url: 'http://127.0.0.1:1/x'}").actionConfiguration() == nil)
    }
}
