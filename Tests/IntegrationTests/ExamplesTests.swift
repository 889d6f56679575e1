//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

/// Every command example of README.md, rules/README.md and every `--help` text works as documented (issue 13).
/// The rules an example follows are in Tests/IntegrationTests/README.md, "Examples that run".
extension IntegrationSuites {
    @Suite("documented examples run as written")
    struct ExamplesTests {
        /// The repository root (this file is Tests/IntegrationTests/ExamplesTests.swift).
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path

        /// The documents whose examples run, each as one shell session in order.
        static let documents = ["README.md", "rules/README.md"]

        @Test("the extractor finds units, continuations, here-documents and markers")
        func extractorRules() {
            let markdown = """
                text
                ```
                export PW=guest
                iotbridge amqp broker --port 5699 --user guest --password-env PW &   # a broker
                iotbridge amqp send --url amqp://h \\
                    --count 2   # exit: 1
                cat > a.yaml <<'YAML'
                # not a comment of the shell
                a: 1
                YAML
                iotbridge amqp receive --url amqps://cloud --count 1   # needs: cloud
                ```
                ```yaml
                iotbridge not: run
                ```
                ```text
                iotbridge error output
                ```
                """
            let blocks = ExampleExtractor.blocks(markdown: markdown, file: "X.md")
            #expect(blocks.count == 1)
            let units = blocks.first?.units ?? []
            #expect(units.map(\.location) == ["X.md:3", "X.md:4", "X.md:5", "X.md:7", "X.md:11"])
            #expect(units[1].background)
            #expect(units[2].expectedExit == 1 && units[2].text.hasSuffix("--count 2   # exit: 1"))
            #expect(units[3].text.hasSuffix("a: 1\nYAML"))
            #expect(units[4].needsCloud)
            #expect(
                ExampleExtractor.helpExamples("  Example: iotbridge a b\n    iotbridge c \\\n        d\n") == ["iotbridge a b", "iotbridge c \\\n        d"])
        }

        @Test("every example of README.md and rules/README.md runs as a sequence, as documented", arguments: Self.documents)
        func documentExamples(document: String) throws {
            guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
            let text = try String(contentsOfFile: Self.root + "/" + document, encoding: .utf8)
            let blocks = ExampleExtractor.blocks(markdown: text, file: document)
            #expect(!blocks.isEmpty, "no examples found in \(document)")
            let scratch = try Self.scratchFolder(binary: binary)
            defer { scratch.remove() }
            let script = ExampleExtractor.script(blocks)
            try script.write(toFile: scratch.file("examples.sh"), atomically: true, encoding: .utf8)
            let (status, output) = try Self.bash(scratch.file("examples.sh"), in: scratch, binary: binary, timeout: 170)
            #expect(status == 0, "\(document): \(Self.failure(in: output))")
        }

        @Test("every --help example is complete at 80 columns (pastes as one command) and parses")
        func helpExamples() throws {
            guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
            let scratch = try Self.scratchFolder(binary: binary)
            defer { scratch.remove() }
            var pending: [[String]] = [[]]
            var checked = 0
            while let path = pending.popLast() {
                let wide = try Self.help(binary, path, columns: 1000)
                let narrow = try Self.help(binary, path, columns: 80)
                let command = (["iotbridge"] + path).joined(separator: " ")
                let examples = ExampleExtractor.helpExamples(wide)
                #expect(
                    ExampleExtractor.helpExamples(narrow).map(Self.squashed) == examples.map(Self.squashed),
                    "\(command) --help: an example is wrapped at 80 columns; split it with \\ continuations"
                )
                // Indented lines (lists, tables, samples) are laid out by hand: ArgumentParser re-wraps one longer
                // than the terminal, which breaks its columns and splits a JSON line that must stay one line.
                let discussion = wide.components(separatedBy: "\nUSAGE:").first ?? ""
                for line in discussion.split(separator: "\n") where line.hasPrefix("  ") && line.count > 80 {
                    Issue.record("\(command) --help: an indented line is wider than 80 columns and gets re-wrapped:\n\(line)")
                }
                for example in examples {
                    let (status, output) = try Self.bash(
                        script: "IOTBRIDGE_PARSE_ONLY=1 " + example,
                        in: scratch,
                        binary: binary,
                        timeout: 20
                    )
                    #expect(status == 0, "\(command) --help example does not parse:\n\(example)\n\(output)")
                    checked += 1
                }
                for name in ExampleExtractor.subcommands(wide) where name != "help" {
                    pending.append(path + [name])
                }
            }
            #expect(checked >= 20, "only \(checked) --help examples found")
        }

        @Test("the top-level --help guides to every command, in the listed order, unwrapped at 80 columns")
        func topLevelGuide() throws {
            guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
            let wide = try Self.help(binary, [], columns: 1000)
            let narrow = try Self.help(binary, [], columns: 80)
            // The guide is the discussion: from after the overview's paragraph up to USAGE.
            func guide(_ help: String) -> String {
                let afterOverview = help.components(separatedBy: "\n\n").dropFirst().joined(separator: "\n\n")
                return afterOverview.components(separatedBy: "USAGE:").first ?? ""
            }
            #expect(!guide(wide).isEmpty, "no guide in the top-level --help:\n\(wide)")
            // ArgumentParser re-wraps a line longer than the terminal, which breaks the guide's columns.
            #expect(guide(narrow) == guide(wide), "the guide of the top-level --help is wrapped at 80 columns:\n\(narrow)")
            let commands = ExampleExtractor.subcommands(wide).filter { $0 != "help" }
            let mentioned = commands.compactMap { name in guide(wide).range(of: " \(name): ").map { (name, $0.lowerBound) } }
            #expect(
                mentioned.map(\.0) == commands,
                "the guide must name every command as 'NAME:', else a newcomer does not learn it: \(commands) vs \(mentioned.map(\.0))"
            )
            #expect(
                mentioned.sorted { $0.1 < $1.1 }.map(\.0) == commands,
                "the guide says the commands are listed in its order; SUBCOMMANDS is \(commands)"
            )
        }

        /// A text with its whitespace runs made one space: wrapping changes only where lines break.
        static func squashed(_ text: String) -> String {
            text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\\" }).joined(separator: " ")
        }

        /// The last `>>> location` and the failure line of a script's output.
        static func failure(in output: String) -> String {
            let lines = output.split(separator: "\n")
            let tail = lines.suffix(25).joined(separator: "\n")
            return "\n" + tail
        }

        /// A scratch folder holding links to the repository's top-level entries (so `rules/…` and
        /// `Tests/MigrationTests/Fixtures/…` resolve) and a `bin/iotbridge` link to the build's binary.
        static func scratchFolder(binary: String) throws -> TemporaryDirectory {
            let scratch = try TemporaryDirectory("examples")
            for entry in try FileManager.default.contentsOfDirectory(atPath: Self.root) where !entry.hasPrefix(".") {
                try FileManager.default.createSymbolicLink(atPath: scratch.file(entry), withDestinationPath: Self.root + "/" + entry)
            }
            try FileManager.default.createDirectory(atPath: scratch.file(".bin"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: scratch.file(".bin/iotbridge"), withDestinationPath: binary)
            return scratch
        }

        static func help(_ binary: String, _ path: [String], columns: Int) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = path + ["--help"]
            var environment = ProcessInfo.processInfo.environment
            environment["COLUMNS"] = "\(columns)"
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }

        /// Runs bash (a script file, or a script text) in the scratch folder with the binary first on PATH.
        static func bash(
            _ file: String? = nil,
            script: String? = nil,
            in scratch: TemporaryDirectory,
            binary: String,
            timeout: Double
        ) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = file.map { [$0] } ?? ["-c", script ?? ""]
            process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = scratch.file(".bin") + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
            process.environment = environment
            let outputPath = scratch.file(".output-\(UUID().uuidString.prefix(8))")
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { usleep(50_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
            }
            try handle.close()
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            return (process.terminationStatus, output)
        }
    }
}
