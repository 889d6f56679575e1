//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Rules
import Testing

@Suite("The rules/ corpus and examples")
struct CorpusTests {
    @Test("every corpus sample produces its expected output")
    func corpus() throws {
        let files = try RuleLinter.ruleFiles(in: [RepositoryPaths.corpusRules])
        #expect(files.count >= 11)
        var rules: [CompiledRule] = []
        for file in files {
            let (rule, diagnostics) = RuleCompiler(scriptEngine: RuleScriptEngine()).load(path: file)
            #expect(diagnostics.filter { $0.severity == .error }.isEmpty, "\(diagnostics)")
            if let rule { rules.append(rule) }
        }
        let samples = try RuleSample.load(path: RepositoryPaths.corpusSamples)
        #expect(samples.count >= 14)
        let report = RuleTestRunner(rules: rules).run(samples)
        #expect(report.allPassed, "\(report.render())")
        #expect(report.cases.count >= 22)
    }

    @Test("the examples lint without errors (scripts compiled by RuleScript) and cover both versions")
    func examples() throws {
        let linter = RuleLinter(compiler: RuleCompiler(scriptEngine: RuleScriptEngine()))
        let report = try linter.lint(paths: [RepositoryPaths.examples])
        #expect(report.files.count >= 10)
        #expect(report.errorCount == 0, "\(report.diagnostics.map(\.description).joined(separator: "\n"))")
        var sql = 0
        var parsers = 0
        for file in report.files {
            switch RuleFileLoader.load(path: file).rule?.body {
            case .sql?: sql += 1
            case .parser?: parsers += 1
            case nil: Issue.record("\(file) did not load")
            }
        }
        #expect(sql >= 5 && parsers >= 3)
    }

    @Test("a failing expectation is reported with a key-by-key diff")
    func failingExpectation() throws {
        let load = RuleFileLoader.load(text: "name: r\nsql: SELECT t FROM \"/pk/+/user/u\"\n", path: "r.yaml")
        let rule = try RuleCompiler().compile(try #require(load.rule))
        let samples = try RuleSample.parse(
            #"{"name":"s1","topic":"/pk/d/user/u","payload":{"t":38},"expect":{"r":{"t":39},"x":null}}"#,
            file: "s.jsonl"
        )
        let report = RuleTestRunner(rules: [rule]).run(samples)
        #expect(!report.allPassed)
        #expect(report.cases.map(\.status) == [.fail, .error])
        let text = report.render()
        #expect(text.contains("- \"t\": 39"))
        #expect(text.contains("+ \"t\": 38"))
        #expect(text.contains("no rule named 'x'"))
        #expect(text.contains("0 passed, 2 failed, 2 total"))
    }

    @Test("\"*\" in an expectation matches any value")
    func wildcard() {
        #expect(JSONDiff.matches(expected: ["id": "*", "a": 1], actual: ["id": "f00", "a": 1]))
        #expect(!JSONDiff.matches(expected: ["id": "*", "a": 1], actual: ["id": "f00", "a": 2]))
        #expect(!JSONDiff.matches(expected: ["a": 1], actual: ["a": 1, "b": 2]))
    }

    @Test(
        "malformed samples are rejected with file:line",
        arguments: [
            ("{\"topic\":\"/a/b\"}", "missing \"payload\""),
            ("{\"topic\":\"/a/b\",\"payload\":{},\"expct\":{}}", "did you mean 'expect'?"),
            ("[1]", "each line must be a JSON object"),
            ("{nope", "not a JSON object"),
            ("{\"topic\":\"/a/b\",\"payload\":{}}", "missing \"expect\""),
            ("{\"topic\":\"/a/b\",\"payloadBase64\":\"!!\",\"expect\":{\"r\":null}}", "not base64"),
            ("{\"topic\":\"/a/b\",\"payload\":{},\"payloadText\":\"x\",\"expect\":{\"r\":null}}", "conflicting fields"),
        ]
    )
    func malformedSamples(line: String, fragment: String) {
        #expect {
            _ = try RuleSample.parse("\n" + line, file: "s.jsonl")
        } throws: { error in
            let message = (error as? RulesError)?.message ?? ""
            return message.hasPrefix("s.jsonl:2:") && message.contains(fragment)
        }
    }

    @Test("a samples file without samples is an error, not a suite that passes while testing nothing")
    func emptySamples() {
        for text in ["", "\n\n", "// only a comment\n"] {
            #expect {
                _ = try RuleSample.parse(text, file: "empty.jsonl")
            } throws: { error in
                ((error as? RulesError)?.message ?? "").hasPrefix("empty.jsonl: no samples")
            }
        }
    }
}
