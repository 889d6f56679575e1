//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A position in UTF-8 bytes that keeps its line and column up to date as it moves; the rule-SQL and
/// parser-script lexers both walk their source with it.
public struct SourceCursor: Sendable {
    /// The source bytes.
    public let bytes: [UInt8]
    /// The byte offset of the next byte.
    public private(set) var offset = 0
    /// The 1-based line of the next byte.
    public private(set) var line = 1
    /// The 1-based column (in characters) of the next byte.
    public private(set) var column = 1

    /// Starts at the first byte.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Where the cursor is.
    public var location: SourceLocation {
        SourceLocation(line: self.line, column: self.column, offset: self.offset)
    }

    /// Whether every byte was consumed.
    public var isAtEnd: Bool {
        self.offset >= self.bytes.count
    }

    /// The byte `ahead` bytes after the cursor, or nil past the end.
    @inlinable
    public func peek(_ ahead: Int = 0) -> UInt8? {
        let index = self.offset + ahead
        return index < self.bytes.count ? self.bytes[index] : nil
    }

    /// Moves past one byte, counting lines and characters.
    public mutating func advance() {
        guard self.offset < self.bytes.count else { return }
        let byte = self.bytes[self.offset]
        self.offset += 1
        if byte == 0x0A {
            self.line += 1
            self.column = 1
        } else if byte & 0xC0 != 0x80 {
            // Columns count characters, so UTF-8 continuation bytes do not move the column.
            self.column += 1
        }
    }
}
