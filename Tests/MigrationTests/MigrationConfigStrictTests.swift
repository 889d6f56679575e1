//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import RuleSQL
import Testing

/// migration.yaml is read strictly: every mistake a newcomer made (issue 13) gets `file:line:col`, the source
/// line and a caret, on the line of the problem.
@Suite("migration.yaml is checked strictly")
struct MigrationConfigStrictTests {
    /// A folder with an export file `s.yaml`, and the config `text` as `migration.yaml`.
    static func load(_ text: String) throws -> (Result<MigrationConfig, MigrationError>, folder: URL) {
        let folder = try Support.temporaryFolder()
        try Support.copyEmptyExport(to: folder.appendingPathComponent("s.yaml").path)
        let path = folder.appendingPathComponent("migration.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            return (.success(try MigrationConfig.load(path: path)), folder)
        } catch let error as MigrationError {
            return (.failure(error), folder)
        }
    }

    /// The rendered diagnostics of a config that must fail.
    static func problems(_ text: String) throws -> String {
        let (result, _) = try Self.load(text)
        guard case .failure(let error) = result else {
            Issue.record("the config was accepted:\n\(text)")
            return ""
        }
        #expect(!error.diagnostics.isEmpty, "a config error must carry positions")
        return error.diagnostics.map(\.description).joined(separator: "\n")
    }

    static let valid = """
        source:
          kind: file
          file: s.yaml
        target:
          kind: file
          file: t.yaml
          create: true
        options:
          products: [a1AbCdEfGhI]

        """

    @Test("a misspelt key is refused at its own line with the closest known key, not silently ignored")
    func unknownKey() throws {
        let text = Self.valid.replacingOccurrences(of: "  products:", with: "  prodcts:")
        let output = try Self.problems(text)
        #expect(output.contains("migration.yaml:9:3: error: unknown key 'prodcts' in options; did you mean 'products'?"))
        #expect(output.contains("\n      prodcts: [a1AbCdEfGhI]\n      ^~~~~~~"))
    }

    @Test("an enum value that is not one lists the valid values and suggests the closest")
    func enumValue() throws {
        let output = try Self.problems(Self.valid.replacingOccurrences(of: "kind: file\n  file: t.yaml", with: "kind: fiel\n  file: t.yaml"))
        #expect(output.contains("migration.yaml:5:9: error: 'kind' must be one of aliyun, file, sim, found 'fiel'; did you mean 'file'?"))
    }

    @Test("a problem on line 6 is reported on line 6, and every problem of the file is reported")
    func realLineAndEveryProblem() throws {
        let text = """
            source:
              kind: file
              file: s.yaml
            target:
              kind: aliyun
              regionId: 42x
              accessKeyId: LTAI
              accessKeySecret: literal-secret
              file: t.yaml
            options:
              stopSourceRules: yes
              retry: {maxAttempts: 0}
            """
        let output = try Self.problems(text)
        #expect(output.contains("migration.yaml:8:20: error: target.accessKeySecret must be an environment reference"))
        #expect(!output.contains("literal-secret"), "the secret's value must not be echoed, not even as the source line")
        #expect(output.contains("migration.yaml:9:3: error: 'file' does not apply to target.kind aliyun; it is for kind file"))
        #expect(output.contains("migration.yaml:11:20: error: 'stopSourceRules' must be true or false, found 'yes'"))
        #expect(output.contains("migration.yaml:12:24: error: 'maxAttempts' must be at least 1, found 0"))
    }

    @Test("a literal password in state: is refused at its line without printing the line (it holds the password)")
    func literalStatePassword() throws {
        let output = try Self.problems(Self.valid + "state: \"postgres://bridge:pg-hunter2@db.internal:5432/iotbridge\"\n")
        #expect(output.contains("migration.yaml:10:8: error: the password in 'state' must be an environment reference"), "\(output)")
        #expect(!output.contains("hunter2"), "the refused password is printed:\n\(output)")
    }

    @Test("a file side whose export file does not exist is an error unless create: true")
    func missingExportFile() throws {
        let missing = Self.valid.replacingOccurrences(of: "  create: true\n", with: "")
        let output = try Self.problems(missing)
        #expect(output.contains("migration.yaml:6:9: error: the export file '"))
        #expect(output.contains("t.yaml' does not exist; write it with `iotbridge instance export`, or add `create: true`"))
        let (result, folder) = try Self.load(Self.valid)
        let config = try result.get()
        #expect(config.target.create)
        #expect(config.target.file == folder.appendingPathComponent("t.yaml").path)
        #expect(config.options.products == ["a1AbCdEfGhI"])
    }

    @Test("a missing, non-UTF-8 or empty migration.yaml says which")
    func unreadableFiles() throws {
        let folder = try Support.temporaryFolder()
        let missing = folder.appendingPathComponent("nope.yaml").path
        #expect {
            try MigrationConfig.load(path: missing)
        } throws: { error in
            "\(error)".contains("cannot read migration.yaml '\(missing)': the file does not exist")
        }
        let binary = folder.appendingPathComponent("binary.yaml").path
        try Data([0x73, 0x6F, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: binary))
        #expect {
            try MigrationConfig.load(path: binary)
        } throws: { error in
            "\(error)".contains("it is not UTF-8 text (invalid byte at offset 2)")
        }
        let output = try Self.problems("")
        #expect(output.contains("migration.yaml:1:1: error: the file is empty"))
    }

    @Test("a side of kind sim needs its endpoint; aliyun needs https and a region")
    func kindRequirements() throws {
        let text = """
            source: {kind: sim, accessKeyId: a, accessKeySecret: "${S}"}
            target: {kind: aliyun, endpoint: "http://plain", accessKeyId: a, accessKeySecret: "${T}"}
            """
        let output = try Self.problems(text)
        #expect(output.contains("migration.yaml:1:9: error: source.endpoint is required for kind sim"))
        #expect(output.contains("migration.yaml:2:9: error: target.regionId is required for kind aliyun"))
    }
}
