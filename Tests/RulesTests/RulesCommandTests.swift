//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import TestSupport
import Testing

/// Where the built `iotbridge` executable is: beside the test bundle, or `nil`.
enum IOTBridgeExecutable {
    static let path: String? = {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        for name in ["iotbridge", "rulescli"] {
            let path = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()
}

/// Runs the built `iotbridge` executable: `rules eval`, `rules lint`, `rules test` and their exit codes.
/// The executable is found beside the test bundle (`swift build --build-tests` builds it there); the suite is
/// skipped when it is not.
@Suite("iotbridge rules commands", .enabled(if: IOTBridgeExecutable.path != nil))
struct RulesCommandTests {

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) async throws -> Run {
        let run = try await ChildProcess.run(
            try #require(IOTBridgeExecutable.path),
            ["rules"] + arguments,
            currentDirectory: URL(fileURLWithPath: RepositoryPaths.root)
        )
        return Run(status: run.status, stdout: run.stdout, stderr: run.stderr)
    }

    static let sql =
        #"SELECT deviceName() AS dn, items.T.value AS t FROM "/sys/+/+/thing/event/property/post" WHERE items.T.value > 38"#

    @Test(
        "eval: 0 with the output on a match, 1 when filtered or skipped, 2 on an error",
        arguments: [
            (
                [#"{"items":{"T":{"value":39}}}"#], "/pk/dev1/thing/event/property/post", Int32(0),
                #"{"dn":"dev1","t":39}"#, ""
            ),
            ([#"{"items":{"T":{"value":20}}}"#], "/pk/dev1/thing/event/property/post", 1, "", ""),
            (["not json"], "/pk/dev1/thing/event/property/post", 1, "", "the payload is not JSON"),
            ([#"{"items":{"T":{"value":39}}}"#], "/pk/dev1/user/other", 1, "", "does not match FROM"),
            (
                [#"{"items":{"X":{"value":39}}}"#], "/pk/dev1/thing/event/property/post", 1, "",
                "did you mean 'items.X.value'?"
            ),
        ]
    )
    func eval(payload: [String], topic: String, status: Int32, stdout: String, stderr: String) async throws {
        let run = try await Self.run(["eval", "--sql", Self.sql, "--topic", topic, "--payload", payload[0]])
        #expect(run.status == status)
        #expect(run.stdout == (stdout.isEmpty ? "" : stdout + "\n"))
        #expect(stderr.isEmpty || run.stderr.contains(stderr), "\(run.stderr)")
    }

    @Test("eval: a syntax error prints file:line:col, the line and a caret, and exits 2")
    func evalError() async throws {
        let run = try await Self.run([
            "eval", "--sql", #"SELECT devicName() FROM "/pk/+/u""#, "--topic", "/pk/d/u", "--payload", "{}",
        ])
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(
            run.stderr == """
                <sql>:1:8: error: unknown function 'devicName'; did you mean 'deviceName'?
                    SELECT devicName() FROM "/pk/+/u"
                           ^~~~~~~~~

                """
        )
    }

    @Test("eval: --timestamp, --device-name, --product-key, --message-id and --tag feed the functions")
    func evalOptions() async throws {
        let run = try await Self.run([
            "eval", "--sql",
            #"SELECT timestamp('yyyy-MM-dd HH:mm') AS t, deviceName() AS d, messageId() AS m, attribute('site') AS s FROM "/pk/+/u""#,
            "--topic", "/pk/x/u", "--payload", "{}", "--timestamp", "1543373798943", "--device-name", "dev7",
            "--product-key", "pk", "--message-id", "m1", "--tag", "site=hz",
        ])
        #expect(run.status == 0)
        #expect(run.stdout == #"{"t":"2018-11-28 10:56","d":"dev7","m":"m1","s":"hz"}"# + "\n")
    }

    @Test("eval: a BINARY rule reads the payload from @FILE")
    func evalBinary() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("frame-\(getpid()).bin").path
        _ = FileManager.default.createFile(atPath: path, contents: Data([0x00, 0x01, 0xFF]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try await Self.run([
            "eval", "--data-type", "binary", "--sql", #"SELECT to_hex(*) AS h FROM "/pk/+/user/raw""#,
            "--topic", "/pk/d/user/raw", "--payload", "@" + path,
        ])
        #expect(run.status == 0)
        #expect(run.stdout == #"{"h":"0001ff"}"# + "\n")
    }

    @Test("lint: 0 for the examples, 2 with every diagnostic for a broken file")
    func lint() async throws {
        let clean = try await Self.run(["lint", "rules/examples"])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stderr.contains("0 errors"))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(getpid()).yaml").path
        let text = "name: b\nsql: SELECT devicName() FROM \"/p/+/u\"\nactions:\n  - {type: amqq, consumerGroup: g}\n"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let broken = try await Self.run(["lint", path])
        #expect(broken.status == 2)
        #expect(broken.stdout.contains("\(path):2:13: error: unknown function 'devicName'"))
        #expect(broken.stdout.contains("\(path):4:12: error: unknown destination type 'amqq'; did you mean 'amqp'?"))
        #expect(broken.stderr.contains("2 errors"))
    }

    @Test("run-script: the GetParser API example prints both writeTsdb calls with every argument")
    func runScriptGetParserExample() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("getparser-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("p.js").path
        // The `Script` of GetParser's documented response, verbatim.
        let text =
            #"var data = payload("json"); var h = data.items.Humidity.value; "#
            + #"var t = data.items.Temperature.value; "#
            + #"writeTsdb(1000,timestamp(),"temperature", t , {"deviceName":deviceName()}); "#
            + #"writeTsdb(1000,timestamp(),"humidity", h , {"deviceName":deviceName()});"#
        _ = FileManager.default.createFile(atPath: script, contents: Data(text.utf8))
        let run = try await Self.run([
            "run-script", "--script", script, "--topic", "/sys/a1o/Device1/thing/event/property/post",
            "--payload", #"{"items":{"Temperature":{"value":38},"Humidity":{"value":25}}}"#,
            "--timestamp", "1626948134319",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout
                == #"{"destinationId":1000,"kind":"tsdb","payload":{"timestamp":1626948134319,"metric":"temperature","#
                + #""value":38,"tags":{"deviceName":"Device1"}}}"# + "\n"
                + #"{"destinationId":1000,"kind":"tsdb","payload":{"timestamp":1626948134319,"metric":"humidity","#
                + #""value":25,"tags":{"deviceName":"Device1"}}}"# + "\n"
        )

        // A refused method call: file:line:col, the line and a caret, exit 2.
        let bad = directory.appendingPathComponent("bad.js").path
        _ = FileManager.default.createFile(
            atPath: bad,
            contents: Data("var data = payload('json');\nwriteAmqp(1, data.items.substring(1));\n".utf8)
        )
        let refused = try await Self.run([
            "run-script", "--script", bad, "--topic", "/pk/d/user/u", "--payload", #"{"items":{}}"#,
        ])
        #expect(refused.status == 2)
        #expect(
            refused.stderr.contains("\(bad):2:25: error: .substring() is not a method of a map"),
            "\(refused.stderr)"
        )

        // lint: a script that forwards nothing is refused as the platform refuses it at publish.
        let rule = directory.appendingPathComponent("quiet.yaml").path
        let yaml = "name: quiet\ndataSource:\n  topics: [/pk/+/user/u]\nscript: |\n  var n = payload('json').size();\n"
        _ = FileManager.default.createFile(atPath: rule, contents: Data(yaml.utf8))
        let lint = try await Self.run(["lint", rule])
        #expect(lint.status == 2)
        #expect(lint.stdout.contains("\(rule):5:3: error: the script calls no forwarding function"), "\(lint.stdout)")
    }

    @Test("test: 0 when the corpus passes, 1 with a diff when an output differs, 2 for an unknown rule")
    func test() async throws {
        let pass = try await Self.run(["test", "rules/corpus/rules", "--samples", "rules/corpus/samples.jsonl"])
        #expect(pass.status == 0, "\(pass.stdout)\(pass.stderr)")
        #expect(pass.stdout.contains(" 0 failed"))

        let samples = FileManager.default.temporaryDirectory.appendingPathComponent("samples-\(getpid()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: samples) }
        _ = FileManager.default.createFile(
            atPath: samples,
            contents: Data(
                #"{"topic":"/a1hRrzD****/d/user/update","payload":{"temperature":40,"location":"x"},"expect":{"ref-custom-topic":{"t":41,"deviceName":"d","location":"x"}}}"#
                    .utf8
            )
        )
        let fail = try await Self.run(["test", "rules/corpus/rules", "--samples", samples])
        #expect(fail.status == 1)
        #expect(fail.stdout.contains("FAIL"))
        #expect(fail.stdout.contains("- \"t\": 41"))
        #expect(fail.stdout.contains("+ \"t\": 40"))

        _ = FileManager.default.createFile(
            atPath: samples,
            contents: Data(#"{"topic":"/a/b/c","payload":{},"expect":{"ref-custom-topik":null}}"#.utf8)
        )
        let error = try await Self.run(["test", "rules/corpus/rules", "--samples", samples])
        #expect(error.status == 2)
        #expect(error.stdout.contains("did you mean 'ref-custom-topic'?"))
    }
}
