//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL
import RuleScript
import Rules
import Testing

/// `rules lint` refuses what the platform refuses when a parser script is published (PublishScript).
@Suite("lint reports the platform's publish-time refusals")
struct LintPublishChecksTests {
    static func lint(
        _ files: [String: String],
        engine: any ParserScriptEngine = RuleScriptEngine()
    ) throws -> LintReport {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("iotbridge-publish-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try RuleLinter(compiler: RuleCompiler(scriptEngine: engine)).lint(paths: [folder.path])
    }

    @Test("a parser script that calls no forwarding function is an error at the script's first line in the file")
    func noForwardingFunction() throws {
        let report = try Self.lint([
            "quiet.yaml": """
            name: quiet
            dataSource:
              topics: [/pk/+/user/update]
            script: |
              var data = payload("json");
              var t = data.items.size();

            """,
            "loud.yaml": """
            name: loud
            dataSource:
              topics: [/pk/+/user/update]
            script: |
              var data = payload("json");
              if (data.items.size() > 0) { writeAmqp(1001, data, "t"); }
            destinations:
              1001: {type: amqp, consumerGroup: g}

            """,
        ])
        #expect(report.files.count == 2)
        #expect(report.errorCount == 1, "\(report.diagnostics.map(\.description).joined(separator: "\n"))")
        let diagnostic = try #require(report.diagnostics.first { $0.severity == .error })
        #expect(diagnostic.file.hasSuffix("/quiet.yaml"))
        #expect(diagnostic.location.line == 5 && diagnostic.location.column == 3, "\(diagnostic.description)")
        #expect(diagnostic.code == RuleScript.publishCode)
        #expect(diagnostic.message.contains("calls no forwarding function"))
        #expect(diagnostic.description.contains("/quiet.yaml:5:3: error: "))
    }

    /// An engine that compiles with RuleScript but knows no publish checks (the protocol's default).
    struct CompileOnlyEngine: ParserScriptEngine {
        func compile(_ source: SourceText) throws(Diagnostic) -> any CompiledParserScript {
            try RuleScriptEngine().compile(source)
        }
    }

    @Test("an engine without publish checks makes no publish claims")
    func engineWithoutPublishChecks() throws {
        let report = try Self.lint(
            ["quiet.yaml": "name: quiet\ndataSource: {topics: [/pk/+/user/update]}\nscript: var a = 1;\n"],
            engine: CompileOnlyEngine()
        )
        #expect(report.errorCount == 0, "\(report.diagnostics)")
        #expect(report.diagnostics.allSatisfy { $0.code != RuleScript.publishCode })
    }
}
