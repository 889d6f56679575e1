//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A source text with its line starts, to turn offsets into ``SourceLocation``s and build ``Diagnostic``s.
public struct SourceText: Sendable {
    /// The text.
    public let text: String
    /// The file name (or label) diagnostics print.
    public let file: String
    /// The UTF-8 bytes of the text.
    public let bytes: [UInt8]
    /// The UTF-8 offsets at which each line starts.
    public let lineStarts: [Int]

    /// Creates a source text.
    public init(_ text: String, file: String) {
        self.text = text
        self.file = file
        self.bytes = Array(text.utf8)
        var starts = [0]
        for (offset, byte) in self.bytes.enumerated() where byte == 0x0A {
            starts.append(offset + 1)
        }
        self.lineStarts = starts
    }

    /// The location of a UTF-8 offset; the column counts characters from the line start.
    public func location(ofOffset offset: Int) -> SourceLocation {
        let clamped = max(0, min(offset, self.bytes.count))
        var low = 0
        var high = self.lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if self.lineStarts[middle] <= clamped { low = middle } else { high = middle - 1 }
        }
        let lineStart = self.lineStarts[low]
        let prefix = String(decoding: self.bytes[lineStart..<clamped], as: UTF8.self)
        return SourceLocation(line: low + 1, column: prefix.count + 1, offset: clamped)
    }

    /// The text of a 1-based line without its line break (and without a trailing carriage return).
    public func line(_ number: Int) -> String {
        guard number >= 1, number <= self.lineStarts.count else { return "" }
        let start = self.lineStarts[number - 1]
        var end = number < self.lineStarts.count ? self.lineStarts[number] - 1 : self.bytes.count
        if end > start, self.bytes[end - 1] == 0x0D { end -= 1 }
        return String(decoding: self.bytes[start..<max(start, end)], as: UTF8.self)
    }

    /// A diagnostic at `range`, with the source line filled in.
    public func diagnostic(
        _ code: Diagnostic.Code,
        _ message: String,
        at range: SourceRange,
        severity: Diagnostic.Severity = .error
    ) -> Diagnostic {
        let length =
            range.end.line == range.start.line ? max(1, range.end.column - range.start.column) : 1
        return Diagnostic(
            code: code,
            severity: severity,
            message: message,
            file: self.file,
            location: range.start,
            sourceLine: self.line(range.start.line),
            length: length
        )
    }
}
