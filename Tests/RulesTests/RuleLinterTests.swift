//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL
import Rules
import Testing

@Suite("Linting folders of rule files")
struct RuleLinterTests {
    /// A fresh temporary folder with the given files.
    static func folder(_ files: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        }
        return path
    }

    @Test("a missing path is an error that names it")
    func missingPath() {
        #expect {
            _ = try RuleLinter().lint(paths: ["/nonexistent/rules"])
        } throws: { error in
            (error as? RulesError)?.code == .notFound
                && (error as? RulesError)?.message.contains("/nonexistent/rules") == true
        }
    }

    @Test("folders are searched for .yaml and .yml; duplicate names are warned about")
    func duplicates() throws {
        let folder = try Self.folder([
            "a.yaml": "name: same\nsql: SELECT a FROM \"/p/+/u\"\nactions: []\n",
            "b.yml": "name: same\nsql: SELECT b FROM \"/p/+/u\"\nactions: []\n",
            "notes.txt": "not a rule",
        ])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let report = try RuleLinter().lint(paths: [folder])
        #expect(report.files.count == 2)
        #expect(report.errorCount == 0)
        #expect(report.warningCount == 1)
        #expect(report.diagnostics.first?.message.contains("also used by") == true)
        #expect(report.diagnostics.first?.location.line == 1)
    }

    @Test("scriptFile is read relative to the rule file; a missing one is an error at the key")
    func scriptFile() throws {
        let folder = try Self.folder([
            "p.yaml": "name: p\ndataSource: {topics: [/pk/+/user/u]}\nscriptFile: p.js\n",
            "p.js": "var data = payload('json');\n",
            "q.yaml": "name: q\ndataSource: {topics: [/pk/+/user/u]}\nscriptFile: missing.js\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = RuleFileLoader.load(path: folder + "/p.yaml")
        guard case .parser(let definition)? = good.rule?.body else {
            Issue.record("p.yaml did not load: \(good.diagnostics)")
            return
        }
        #expect(definition.script.text == "var data = payload('json');\n")
        #expect(definition.script.file.hasSuffix("/p.js"))
        let bad = RuleFileLoader.load(path: folder + "/q.yaml")
        #expect(bad.diagnostics.first?.message.contains("cannot read the script file") == true)
        #expect(bad.diagnostics.first?.location.line == 3)
        #expect(bad.diagnostics.first?.location.column == 13)
    }

    @Test("an unreadable rule file is a diagnostic, not a crash")
    func unreadable() {
        let load = RuleFileLoader.load(path: "/nonexistent/rule.yaml")
        #expect(load.rule == nil)
        #expect(load.diagnostics.first?.message.contains("cannot read the rule file") == true)
    }
}
