//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Rules
import Testing

@Suite("Rule files: YAML, keys, destinations and errors at file:line:col")
struct RuleFileLoaderTests {
    @Test("an old-version rule with every destination kind loads with typed configuration")
    func oldVersion() throws {
        let yaml = """
            name: all-kinds
            sql: SELECT a FROM "/pk/+/user/u"
            actions:
              - {type: amqp, consumerGroup: backend, tag: t1}
              - {type: republish, topic: /pk/dn/user/get}
              - {type: http, url: "http://127.0.0.1:9/x"}
              - {type: ons, instanceId: MQ_INST_1, topic: t, regionName: cn-shanghai, tag: x}
              - {type: mns, themeName: th, regionName: cn-shanghai}
              - {type: fc, regionName: cn-shanghai, serviceName: s, functionName: f}
              - type: ots
                instanceName: i
                tableName: t
                regionName: cn-shanghai
                primaryKeys: [{columnName: c, columnType: STRING, columnValue: "${a}"}]
              - {type: datahub, projectName: p, topicName: t, regionName: r, schema: [{name: n, value: v, type: STRING}]}
              - {type: rds, regionName: r, instanceId: rm-1, database: d, table: t, fields: {c: "${a}"}}
              - {type: lindorm, regionName: r, instanceId: ld-1, table: t}
            errorAction: {type: tsdb, regionName: r, instanceId: ts-1, table: m}
            """
        let load = RuleFileLoader.load(text: yaml, path: "kinds.yaml")
        #expect(load.diagnostics.isEmpty, "\(load.diagnostics)")
        guard case .sql(let definition)? = load.rule?.body else {
            Issue.record("expected an old-version rule")
            return
        }
        #expect(
            definition.actions.map(\.kind.rawValue) == [
                "amqp", "republish", "http", "ons", "mns", "fc", "ots", "datahub", "rds", "lindorm",
            ]
        )
        #expect(definition.actions[0].configuration == .amqp(consumerGroup: "backend", tag: "t1"))
        #expect(definition.errorAction?.kind == .tsdb)
        #expect(definition.actions[3].kind.isCloudOnly && !definition.actions[0].kind.isCloudOnly)
        #expect(definition.actions[1].location.line == 5)
    }

    @Test(
        "problems are reported at their line and column",
        arguments: [
            ("name: x\nsql: [1\n", 3, 1, "invalid YAML"),
            ("name: x\nsql: SELECT a FROM \"/p/+/u\"\nactoins: []\n", 3, 1, "did you mean 'actions'?"),
            ("sql: SELECT a FROM \"/p/+/u\"\n", 1, 1, "missing required key 'name'"),
            ("name: x\n", 1, 1, "needs 'sql'"),
            ("name: x\nsql: SELECT a FROM \"/p/+/u\"\nscript: x\n", 3, 1, "not both"),
            ("name: x\nsql: SELECT a FROM \"/p/+/u\"\ndataType: TEXT\n", 3, 11, "JSON or BINARY"),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: amqq, consumerGroup: g}\n", 4, 12,
                "did you mean 'amqp'?"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - type: amqp\n", 4, 5,
                "missing required key 'consumerGroup'"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: republish, topic: pk/x}\n", 4, 30,
                "must start with '/'"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: ots, instanceName: i, tableName: t, regionName: r}\nerrorAction: {type: ots, instanceName: i, tableName: t, regionName: r}\n",
                5, 14, "same cloud product"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\ndataType: BINARY\nactions:\n  - {type: rds, regionName: r, instanceId: i, table: t}\n",
                5, 5, "BINARY rule cannot forward to rds"
            ),
            ("name: x\nsql: SELECT a FROM \"/p/+/u\"\ndestinations: {}\n", 3, 1, "belongs to new-version parsers"),
            ("name: x\nscript: var a = 1;\n", 1, 1, "needs 'dataSource'"),
            ("name: x\nscript: x\ndataSource: {topics: [pk/+]}\n", 3, 23, "must start with '/'"),
            (
                "name: x\nscript: x\ndataSource: {topics: [/pk/+]}\ndestinations:\n  abc: {type: amqp, consumerGroup: g}\n",
                5, 3, "must be an integer"
            ),
            (
                "name: x\nscript: x\ndataSource: {topics: [/pk/+]}\nerrorDestination: {type: amqp, consumerGroup: g}\n",
                4, 19, "needs an 'id'"
            ),
            (
                "name: a-very-long-rule-name-that-goes-on-and-on\nsql: SELECT a FROM \"/p/+/u\"\n", 1, 7,
                "at most 30 characters"
            ),
            ("name: x\nname: y\nsql: SELECT a FROM \"/p/+/u\"\n", 1, 1, "duplicate key"),
            ("", 1, 1, "empty"),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: http, url: ftp://x}\n", 4, 23,
                "must start with http:// or https://"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: ots, instanceName: i, tableName: t, regionName: r, primaryKeys: [{columnName: c, columnType: TEXT, columnValue: v}]}\n",
                4, 105, "columnType must be STRING, INTEGER or BINARY"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: datahub, projectName: p, topicName: t, regionName: r, schema: [{name: n, value: v, type: TEXT}]}\n",
                4, 101, "a DataHub column type is one of"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: mns, themeName: t, regionName: r, role: {roleArn: a}}\n",
                4, 52, "missing required key 'roleName'"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: fc, regionName: r, serviceName: s}\n", 4,
                5, "missing required key 'functionName'"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: amqp, consumerGroup: g, tag: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}\n",
                4, 41, "at most 128 characters"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: amqp, consumerGroup: g, extra: 1}\n", 4,
                36, "unknown key 'extra'"
            ),
            ("name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {consumerGroup: g}\n", 4, 5, "needs a 'type'"),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - just-a-string\n", 4, 5,
                "must be a mapping with a 'type'"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: rds, regionName: r, instanceId: i, table: t, fields: {c: [1]}}\n",
                4, 69, "a field value must be text"
            ),
            (
                "name: x\nsql: SELECT a FROM \"/p/+/u\"\nactions:\n  - {type: amqp, consumerGroup: g0}\n  - {type: amqp, consumerGroup: g1}\n  - {type: amqp, consumerGroup: g2}\n  - {type: amqp, consumerGroup: g3}\n  - {type: amqp, consumerGroup: g4}\n  - {type: amqp, consumerGroup: g5}\n  - {type: amqp, consumerGroup: g6}\n  - {type: amqp, consumerGroup: g7}\n  - {type: amqp, consumerGroup: g8}\n  - {type: amqp, consumerGroup: g9}\n  - {type: amqp, consumerGroup: g10}\n",
                4, 3, "at most 10 actions"
            ),
        ]
    )
    func problems(yaml: String, line: Int, column: Int, fragment: String) {
        let load = RuleFileLoader.load(text: yaml, path: "bad.yaml")
        let match = load.diagnostics.first { $0.message.contains(fragment) }
        #expect(match != nil, "\(load.diagnostics)")
        #expect(match?.location.line == line, "\(load.diagnostics)")
        #expect(match?.location.column == column, "\(load.diagnostics)")
        #expect(match?.file == "bad.yaml")
        #expect(load.rule == nil || match?.severity == .warning)
    }

    @Test(
        "an SQL error inside the YAML points at its line and column in the file",
        arguments: [
            (
                "name: x\nsql: SELECT devicName() FROM \"/p/+/u\"\n", 2, 13,
                "    sql: SELECT devicName() FROM \"/p/+/u\""
            ),
            (
                "name: x\nsql: |\n  SELECT a,\n    devicName() AS d\n  FROM \"/p/+/u\"\n", 4, 5,
                "        devicName() AS d"
            ),
            (
                "name: x\nsql: >-\n  SELECT a\n  FROM \"/p/+/u\"\n  WHERE devicName() = 'x'\n", 5, 9,
                "      WHERE devicName() = 'x'"
            ),
            (
                "name: x\nsql: \"SELECT devicName() FROM '/p/+/u'\"\n", 2, 14,
                "    sql: \"SELECT devicName() FROM '/p/+/u'\""
            ),
        ]
    )
    func sqlErrorInFile(yaml: String, line: Int, column: Int, sourceLine: String) throws {
        let load = RuleFileLoader.load(text: yaml, path: "rules/x.yaml")
        let file = try #require(load.rule)
        #expect {
            try RuleCompiler().compile(file)
        } throws: { error in
            guard let diagnostic = error as? Diagnostic else { return false }
            let rendered = diagnostic.description.split(separator: "\n").map(String.init)
            let ok =
                diagnostic.file == "rules/x.yaml" && diagnostic.location.line == line
                && diagnostic.location.column == column && rendered.count == 3 && rendered[1] == sourceLine
                && diagnostic.message.contains("did you mean 'deviceName'?")
            if !ok { Issue.record("got \(diagnostic)") }
            return ok
        }
    }

    @Test("a runtime error of a rule is located in the file")
    func runtimeErrorInFile() throws {
        let load = RuleFileLoader.load(
            text: "name: x\nsql: |\n  SELECT substring(true, 1) AS s\n  FROM \"/p/+/u\"\n",
            path: "f.yaml"
        )
        let rule = try RuleCompiler().compile(try #require(load.rule))
        #expect {
            _ = try rule.run(MessageContext(topic: "/p/d/u", payload: "{}"))
        } throws: { error in
            guard let diagnostic = error as? Diagnostic else { return false }
            return diagnostic.file == "f.yaml" && diagnostic.location.line == 3 && diagnostic.location.column == 10
        }
    }
}
