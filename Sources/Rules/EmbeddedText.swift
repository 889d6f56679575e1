//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

/// Text embedded in a rule file (the SQL, the script), with the file position of each character, so a
/// diagnostic in the text can be reported at its line and column in the YAML file.
public struct EmbeddedText: Sendable {
    /// The text as YAML delivered it.
    public var text: String
    /// The label diagnostics in the text print (the rule file's path).
    public var file: String
    /// File line and column of each character of `text`, in order.
    let positions: [(line: Int, column: Int)]
    /// The file the text is in.
    let container: SourceText?

    /// Text whose positions are the file's own (a standalone script file).
    public init(standalone text: String, file: String) {
        self.text = text
        self.file = file
        self.positions = []
        self.container = nil
    }

    /// Text found in `container` starting at `line`:`column`; `block` for YAML block scalars (`|`, `>`),
    /// whose content starts on the next line at the block's indentation.
    init(text: String, container: SourceText, line: Int, column: Int, block: Bool, quoted: Bool) {
        self.text = text
        self.file = container.file
        self.container = container
        var segments: [(line: Int, column: Int, characters: [Character])] = []
        if block {
            var number = line + 1
            var indentation: Int?
            while number <= container.lineStarts.count {
                let raw = container.line(number)
                let stripped = raw.drop { $0 == " " }
                if !stripped.isEmpty {
                    let indent = raw.count - stripped.count
                    if indentation == nil { indentation = indent }
                    if let indentation, indent < indentation { break }
                }
                let indent = min(indentation ?? 0, raw.count)
                segments.append((number, indent + 1, Array(raw.dropFirst(indent))))
                number += 1
            }
        } else {
            let first = container.line(line)
            let start = column - 1 + (quoted ? 1 : 0)
            segments.append((line, start + 1, Array(first.dropFirst(start))))
            var number = line + 1
            while number <= container.lineStarts.count, segments.count < 10_000 {
                let raw = container.line(number)
                let stripped = raw.drop { $0 == " " || $0 == "\t" }
                segments.append((number, raw.count - stripped.count + 1, Array(stripped)))
                number += 1
            }
        }
        // Walk the text and the file lines together: characters that match advance both; a line break or a
        // folding space of the text moves to the next line.
        var positions: [(line: Int, column: Int)] = []
        positions.reserveCapacity(text.count + 1)
        var segment = 0
        var index = 0
        for character in text {
            guard segment < segments.count else {
                positions.append(positions.last ?? (line, column))
                continue
            }
            let current = segments[segment]
            if index < current.characters.count {
                positions.append((current.line, current.column + index))
                index += 1
            } else {
                positions.append((current.line, current.column + index))
                if character == "\n" || character == " " {
                    segment += 1
                    index = 0
                }
            }
        }
        positions.append(
            segment < segments.count
                ? (segments[segment].line, segments[segment].column + index) : (positions.last ?? (line, column))
        )
        self.positions = positions
    }

    /// The text as a `SourceText` for the compilers; its diagnostics are in text coordinates until
    /// ``relocate(_:)`` moves them into the file.
    public var source: SourceText {
        SourceText(self.text, file: self.file)
    }

    /// Moves a diagnostic from text coordinates to file coordinates, with the file's source line.
    public func relocate(_ diagnostic: Diagnostic) -> Diagnostic {
        guard let container = self.container, !self.positions.isEmpty else { return diagnostic }
        let text = SourceText(self.text, file: self.file)
        var characterIndex = 0
        for number in 1..<max(1, diagnostic.location.line) {
            characterIndex += text.line(number).count + 1
        }
        characterIndex += diagnostic.location.column - 1
        let position = self.positions[max(0, min(characterIndex, self.positions.count - 1))]
        var moved = diagnostic
        moved.file = container.file
        let lineText = container.line(position.line)
        moved.location = SourceLocation(
            line: position.line,
            column: position.column,
            offset: (position.line - 1 < container.lineStarts.count ? container.lineStarts[position.line - 1] : 0)
                + String(lineText.prefix(position.column - 1)).utf8.count
        )
        moved.sourceLine = lineText
        return moved
    }
}
