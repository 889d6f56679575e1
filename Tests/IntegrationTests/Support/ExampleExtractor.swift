//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Finds the command examples of the documentation and the `--help` texts, by the rules written down in
/// Tests/IntegrationTests/README.md ("Examples that run"), and turns a document's examples into one bash script.
///
/// The rules are deliberately few, so whoever adds a README section can follow them without reading this file.
enum ExampleExtractor {
    /// One command as a person would paste it: a line, its `\` continuations and a here-document's body.
    struct Unit: Equatable {
        /// Where it starts, `README.md:63`.
        var location: String
        /// The text as written, markers included.
        var text: String
        /// The exit status the documentation promises (`# exit: N`). Default 0.
        var expectedExit: Int32 = 0
        /// Whether it needs what the test does not provide (`# needs: cloud`, `# needs: a running bridge`, …): an
        /// `iotbridge` command is then only parsed; any other command is skipped.
        var needsCloud = false
        /// Whether it ends with `&`: run in the background and stopped at the end of its block.
        var background = false
    }

    /// One fenced block that holds at least one `iotbridge` command.
    struct Block {
        /// Where its fence is, `README.md:60`.
        var location: String
        var units: [Unit]
    }

    /// The info strings of fenced blocks that are shell (an empty one included).
    static let shellInfoStrings: Set<String> = ["", "sh", "bash", "shell", "console"]

    /// The runnable blocks of a Markdown document, in order.
    static func blocks(markdown: String, file: String) -> [Block] {
        var blocks: [Block] = []
        var lines: [(number: Int, text: String)] = []
        var fence: (number: Int, info: String)?
        for (index, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                if let open = fence {
                    if Self.shellInfoStrings.contains(open.info), lines.contains(where: { Self.isCommand($0.text) }) {
                        blocks.append(Block(location: "\(file):\(open.number)", units: Self.units(lines, file: file)))
                    }
                    fence = nil
                    lines = []
                } else {
                    fence = (index + 1, String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces))
                }
                continue
            }
            if fence != nil { lines.append((index + 1, String(line))) }
        }
        return blocks
    }

    /// Whether a line starts an `iotbridge` command.
    static func isCommand(_ line: String) -> Bool {
        line.trimmingCharacters(in: .whitespaces).hasPrefix("iotbridge ")
    }

    /// Splits a block's lines into units: continuations and here-documents join the line that starts them.
    static func units(_ lines: [(number: Int, text: String)], file: String) -> [Unit] {
        var units: [Unit] = []
        var index = 0
        while index < lines.count {
            let (number, first) = lines[index]
            index += 1
            let trimmed = first.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var text = first
            var last = first
            while last.hasSuffix("\\") || Self.hasOpenQuote(text), index < lines.count {
                last = lines[index].text
                text += "\n" + last
                index += 1
            }
            if let word = Self.hereDocumentWord(text) {
                while index < lines.count {
                    let line = lines[index].text
                    text += "\n" + line
                    index += 1
                    if line == word { break }
                }
            }
            units.append(Self.unit(text, location: "\(file):\(number)"))
        }
        return units
    }

    /// The unit with its markers read from its first line's (or last line's) trailing comment.
    static func unit(_ text: String, location: String) -> Unit {
        var unit = Unit(location: location, text: text)
        let comment =
            Self.trailingComment(text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? "")
            + " " + Self.trailingComment(text.split(separator: "\n").last.map(String.init) ?? "")
        if let match = comment.firstMatch(of: /# exit: (\d+)/) { unit.expectedExit = Int32(match.output.1) ?? 0 }
        unit.needsCloud = comment.contains("# needs: ")
        let code = Self.withoutTrailingComment(text.split(separator: "\n", omittingEmptySubsequences: false).last.map(String.init) ?? "")
        unit.background =
            code.trimmingCharacters(in: .whitespaces).hasSuffix("&")
            && !code.trimmingCharacters(in: .whitespaces).hasSuffix("&&")
        return unit
    }

    /// `WORD` of a `<<'WORD'` / `<<WORD` here-document started in the text.
    static func hereDocumentWord(_ text: String) -> String? {
        guard let match = text.firstMatch(of: /<<-?\s*'?([A-Za-z_]+)'?/) else { return nil }
        return String(match.output.1)
    }

    /// Whether a quote opened in the text is still open at its end: the command goes on on the next line, as
    /// it does when pasted into a shell.
    static func hasOpenQuote(_ text: String) -> Bool {
        var quote: Character?
        var escaped = false
        var previous: Character = " "
        var inComment = false
        for character in text {
            defer { previous = character }
            if inComment {
                if character == "\n" { inComment = false }
                continue
            }
            if escaped {
                escaped = false
                continue
            }
            switch quote {
            case "'":
                if character == "'" { quote = nil }
            case "\"":
                if character == "\\" { escaped = true } else if character == "\"" { quote = nil }
            default:
                if character == "\\" {
                    escaped = true
                } else if character == "'" || character == "\"" {
                    quote = character
                } else if character == "#", previous == " " || previous == "\t" || previous == "\n" {
                    inComment = true
                }
            }
        }
        return quote != nil
    }

    /// The part of a line after an unquoted ` #`, or "".
    static func trailingComment(_ line: String) -> String {
        guard let range = Self.commentStart(line) else { return "" }
        return String(line[range...])
    }

    static func withoutTrailingComment(_ line: String) -> String {
        guard let range = Self.commentStart(line) else { return line }
        return String(line[..<range])
    }

    /// Where an unquoted `#` that follows a blank starts.
    private static func commentStart(_ line: String) -> String.Index? {
        var quote: Character?
        var previous: Character = " "
        for index in line.indices {
            let character = line[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "#", previous == " " || previous == "\t" {
                return index
            }
            previous = character
        }
        return nil
    }

    /// The examples of a `--help` text: lines that start with `iotbridge ` (after indentation or `Example: `),
    /// joined with their `\` continuations.
    static func helpExamples(_ help: String) -> [String] {
        var examples: [String] = []
        var current: String?
        for line in help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            var trimmed = line.trimmingCharacters(in: .whitespaces)
            if let open = current {
                current = open + "\n" + line
                if !trimmed.hasSuffix("\\"), !Self.hasOpenQuote(current!) {
                    examples.append(current!)
                    current = nil
                }
                continue
            }
            if trimmed.hasPrefix("Example: ") { trimmed = String(trimmed.dropFirst("Example: ".count)) }
            if trimmed.hasPrefix("Examples: ") { trimmed = String(trimmed.dropFirst("Examples: ".count)) }
            guard trimmed.hasPrefix("iotbridge ") else { continue }
            if trimmed.hasSuffix("\\") || Self.hasOpenQuote(trimmed) {
                current = trimmed
            } else {
                examples.append(trimmed)
            }
        }
        if let current { examples.append(current) }
        return examples
    }

    /// The subcommand names listed under `SUBCOMMANDS:` of a help text.
    static func subcommands(_ help: String) -> [String] {
        var names: [String] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") {
                inSection = true
                continue
            }
            guard inSection else { continue }
            if line.isEmpty || !line.hasPrefix(" ") { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // Entries are indented 2; wrapped abstracts are indented further.
            guard line.hasPrefix("  "), !line.hasPrefix("    "), let name = trimmed.split(separator: " ").first else { continue }
            names.append(String(name))
        }
        return names
    }

    /// A bash script that runs a document's blocks in order in one session, checking every unit's exit status.
    ///
    /// A failing unit ends the script with status 99 after printing `EXAMPLE FAILED: location …` on stderr.
    static func script(_ blocks: [Block]) -> String {
        var script = """
            set -u
            __bg=()
            __stop() { for p in "${__bg[@]}"; do kill -INT "$p" 2>/dev/null; done; for p in "${__bg[@]}"; do
              for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; kill -KILL "$p" 2>/dev/null; done
              wait 2>/dev/null; __bg=(); }
            trap __stop EXIT
            __check() { if [ "$1" -ne "$2" ]; then echo "EXAMPLE FAILED: $3: exit status $1, documented $2" >&2; exit 99; fi; }

            """
        for block in blocks {
            script += "# block \(block.location)\n"
            for unit in block.units {
                script += "echo '>>> \(unit.location)' >&2\n"
                var text = unit.text
                if unit.needsCloud {
                    guard Self.isCommand(text) else { continue }
                    text = "IOTBRIDGE_PARSE_ONLY=1 " + text
                }
                script += text + "\n"
                if unit.background {
                    script += "__bg+=($!)\n"
                } else {
                    script += "__check $? \(unit.expectedExit) '\(unit.location)'\n"
                }
            }
            script += "__stop\n"
        }
        return script
    }
}
