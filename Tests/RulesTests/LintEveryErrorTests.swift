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

/// `rules lint` reports every error of a parser script, not only the first (issue 13).
@Suite("lint reports every script error of a file")
struct LintEveryErrorTests {
    static let file = """
        name: bad-parser
        dataSource:
          name: ds
          topics: [/pk/+/user/update]
        script: |
          var data = payload("json");
          var a = data.x +;
          var b = new Object();
          if (data.t > 1) {
              var c = (1)(2);
          }
          writeAmqp(1001, data);
        destinations:
          1001: {type: amqp, consumerGroup: g}

        """

    @Test func everyErrorAtItsLineInTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("iotbridge-lint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("bad.yaml").path
        try Self.file.write(toFile: path, atomically: true, encoding: .utf8)
        let report = try RuleLinter(compiler: RuleCompiler(scriptEngine: RuleScriptEngine())).lint(paths: [path])
        let found = report.diagnostics.filter { $0.severity == .error }.map { "\($0.location.line):\($0.location.column)" }
        #expect(found == ["7:19", "8:11", "10:18"], "\(report.diagnostics.map(\.description).joined(separator: "\n"))")
    }

    @Test func aScriptWithoutErrorsHasNone() {
        #expect(RuleScript.diagnose(SourceText("var a = 1;\nwriteAmqp(1, a);", file: "ok.js")).isEmpty)
    }
}
