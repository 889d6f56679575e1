//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// The lexer of parser scripts: a value type over a cursor that hands out one token at a time.
///
/// It knows JavaScript's comments (`//`, `/* */`), strings in single or double quotes with the usual escapes,
/// decimal and hexadecimal numbers, identifiers and the operators of the subset. It records whether a line
/// break precedes each token, which the parser needs for automatic semicolons.
struct ScriptLexer {
    private var cursor: SourceCursor
    private let source: SourceText

    /// The longest string literal accepted, so a hostile script cannot make the lexer build huge strings.
    static let maximumStringBytes = 64 * 1024

    init(_ source: SourceText) {
        self.source = source
        self.cursor = SourceCursor(bytes: source.bytes)
    }

    /// The next token, `.endOfInput` at the end (and on every call after it).
    mutating func next() throws(Diagnostic) -> ScriptToken {
        let lineBreak = try self.skipTrivia()
        let start = self.cursor.location
        guard let byte = self.cursor.peek() else {
            return ScriptToken(
                kind: .endOfInput,
                range: SourceRange(start: start, end: start),
                isAfterLineBreak: true
            )
        }
        let kind: ScriptTokenKind
        switch byte {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            kind = .string(try self.string(quote: byte, start: start))
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            kind = .number(try self.number(start: start))
        case UInt8(ascii: "."):
            if let next = self.cursor.peek(1), Self.isDigit(next) {
                kind = .number(try self.number(start: start))
            } else {
                self.cursor.advance()
                kind = .punctuator(.dot)
            }
        case _ where Self.isIdentifierStart(byte):
            let name = self.identifier()
            if let keyword = ScriptKeyword(rawValue: name) {
                kind = .keyword(keyword)
            } else {
                kind = .identifier(name)
            }
        default:
            kind = .punctuator(try self.punctuator(start: start))
        }
        return ScriptToken(
            kind: kind,
            range: SourceRange(start: start, end: self.cursor.location),
            isAfterLineBreak: lineBreak
        )
    }

    private func error(_ message: String, _ start: SourceLocation) -> Diagnostic {
        self.source.diagnostic(.syntax, message, at: SourceRange(start: start, end: self.cursor.location))
    }

    /// Skips white space and comments; returns whether a line break was among them.
    private mutating func skipTrivia() throws(Diagnostic) -> Bool {
        var sawLineBreak = self.cursor.offset == 0
        while let byte = self.cursor.peek() {
            switch byte {
            case 0x0A:
                sawLineBreak = true
                self.cursor.advance()
            case UInt8(ascii: " "), 0x09, 0x0D, 0x0B, 0x0C:
                self.cursor.advance()
            case 0xEF where self.cursor.peek(1) == 0xBB && self.cursor.peek(2) == 0xBF:
                // A byte-order mark, which editors on Windows put at the start of files.
                self.cursor.advance()
                self.cursor.advance()
                self.cursor.advance()
            case 0xC2 where self.cursor.peek(1) == 0xA0:
                // A no-break space, which pasting from web pages brings in.
                self.cursor.advance()
                self.cursor.advance()
            case UInt8(ascii: "/") where self.cursor.peek(1) == UInt8(ascii: "/"):
                while let inner = self.cursor.peek(), inner != 0x0A {
                    self.cursor.advance()
                }
            case UInt8(ascii: "/") where self.cursor.peek(1) == UInt8(ascii: "*"):
                let start = self.cursor.location
                self.cursor.advance()
                self.cursor.advance()
                var closed = false
                while let inner = self.cursor.peek() {
                    if inner == UInt8(ascii: "*"), self.cursor.peek(1) == UInt8(ascii: "/") {
                        self.cursor.advance()
                        self.cursor.advance()
                        closed = true
                        break
                    }
                    if inner == 0x0A { sawLineBreak = true }
                    self.cursor.advance()
                }
                guard closed else {
                    throw self.source.diagnostic(
                        .syntax,
                        "unterminated comment: '/*' has no matching '*/'",
                        at: SourceRange(
                            start: start,
                            end: SourceLocation(
                                line: start.line, column: start.column + 2, offset: start.offset + 2))
                    )
                }
            default:
                return sawLineBreak
            }
        }
        return sawLineBreak
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$")
    }

    static func isIdentifierPart(_ byte: UInt8) -> Bool {
        Self.isIdentifierStart(byte) || Self.isDigit(byte)
    }

    private mutating func identifier() -> String {
        let start = self.cursor.offset
        while let byte = self.cursor.peek(), Self.isIdentifierPart(byte) {
            self.cursor.advance()
        }
        return String(decoding: self.cursor.bytes[start..<self.cursor.offset], as: UTF8.self)
    }

    private mutating func number(start: SourceLocation) throws(Diagnostic) -> JSONValue {
        let first = self.cursor.offset
        if self.cursor.peek() == UInt8(ascii: "0"),
            let marker = self.cursor.peek(1), marker == UInt8(ascii: "x") || marker == UInt8(ascii: "X")
        {
            self.cursor.advance()
            self.cursor.advance()
            var value = 0
            var digits = 0
            while let byte = self.cursor.peek(), let digit = Self.hexValue(byte) {
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 16)
                guard !overflow, digits < 15 else { throw self.error("hexadecimal number too large", start) }
                value = shifted + digit
                digits += 1
                self.cursor.advance()
            }
            guard digits > 0 else { throw self.error("expected hexadecimal digits after '0x'", start) }
            try self.rejectIdentifierAfterNumber(start: start)
            return .int(value)
        }
        var isInteger = true
        while let byte = self.cursor.peek(), Self.isDigit(byte) { self.cursor.advance() }
        if self.cursor.peek() == UInt8(ascii: "."), self.cursor.peek(1).map(Self.isDigit) ?? true {
            isInteger = false
            self.cursor.advance()
            while let byte = self.cursor.peek(), Self.isDigit(byte) { self.cursor.advance() }
        }
        if let marker = self.cursor.peek(), marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") {
            isInteger = false
            self.cursor.advance()
            if let sign = self.cursor.peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                self.cursor.advance()
            }
            guard let digit = self.cursor.peek(), Self.isDigit(digit) else {
                throw self.error("expected digits in the exponent of the number", start)
            }
            while let byte = self.cursor.peek(), Self.isDigit(byte) { self.cursor.advance() }
        }
        try self.rejectIdentifierAfterNumber(start: start)
        let text = String(decoding: self.cursor.bytes[first..<self.cursor.offset], as: UTF8.self)
        if isInteger, let value = Int(text) {
            return .int(value)
        }
        guard let value = Double(text) else { throw self.error("malformed number '\(text)'", start) }
        return .double(value)
    }

    /// `2Co` is not a number followed by a name; say how to read such keys.
    private mutating func rejectIdentifierAfterNumber(start: SourceLocation) throws(Diagnostic) {
        guard let byte = self.cursor.peek(), Self.isIdentifierStart(byte) else { return }
        while let byte = self.cursor.peek(), Self.isIdentifierPart(byte) { self.cursor.advance() }
        throw self.error(
            "a name cannot start with a digit; for a key such as '2Co' write data[\"2Co\"] or "
                + "getOrNull(data, \"2Co\")",
            start
        )
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    private mutating func string(quote: UInt8, start: SourceLocation) throws(Diagnostic) -> String {
        self.cursor.advance()
        var bytes: [UInt8] = []
        while true {
            guard let byte = self.cursor.peek(), byte != 0x0A else {
                throw self.source.diagnostic(
                    .syntax,
                    "unterminated string: add the closing \(quote == UInt8(ascii: "'") ? "'" : "\"") before the end "
                        + "of the line",
                    at: SourceRange(
                        start: start,
                        end: SourceLocation(
                            line: start.line, column: start.column + 1, offset: start.offset + 1))
                )
            }
            guard bytes.count <= Self.maximumStringBytes else {
                throw self.error("string longer than \(Self.maximumStringBytes) bytes", start)
            }
            if byte == quote {
                self.cursor.advance()
                return String(decoding: bytes, as: UTF8.self)
            }
            if byte != UInt8(ascii: "\\") {
                bytes.append(byte)
                self.cursor.advance()
                continue
            }
            let escapeStart = self.cursor.location
            self.cursor.advance()
            guard let escaped = self.cursor.peek() else { continue }
            self.cursor.advance()
            switch escaped {
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "v"): bytes.append(0x0B)
            case UInt8(ascii: "0") where !(self.cursor.peek().map(Self.isDigit) ?? false): bytes.append(0)
            case 0x0A: break  // A backslash before a line break continues the string on the next line.
            case UInt8(ascii: "x"):
                let scalar = try self.hexDigits(count: 2, escapeStart: escapeStart)
                bytes.append(contentsOf: String(Character(scalar)).utf8)
            case UInt8(ascii: "u"):
                let scalar = try self.unicodeEscape(escapeStart: escapeStart)
                bytes.append(contentsOf: String(Character(scalar)).utf8)
            default:
                // JavaScript keeps the character after a needless backslash: '\'' '\"' '\\' '\/' '\a' → a.
                bytes.append(escaped)
            }
        }
    }

    private mutating func hexDigits(count: Int, escapeStart: SourceLocation) throws(Diagnostic) -> Unicode.Scalar {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let byte = self.cursor.peek(), let digit = Self.hexValue(byte) else {
                throw self.error("malformed escape: expected \(count) hexadecimal digits", escapeStart)
            }
            value = value * 16 + UInt32(digit)
            self.cursor.advance()
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw self.error("escape names no Unicode character", escapeStart)
        }
        return scalar
    }

    /// `\uXXXX`, a surrogate pair of two of them, or `\u{X…}`.
    private mutating func unicodeEscape(escapeStart: SourceLocation) throws(Diagnostic) -> Unicode.Scalar {
        if self.cursor.peek() == UInt8(ascii: "{") {
            self.cursor.advance()
            var value: UInt32 = 0
            var digits = 0
            while let byte = self.cursor.peek(), let digit = Self.hexValue(byte), digits < 8 {
                value = value * 16 + UInt32(digit)
                digits += 1
                self.cursor.advance()
            }
            guard digits > 0, self.cursor.peek() == UInt8(ascii: "}"), let scalar = Unicode.Scalar(value) else {
                throw self.error("malformed escape: expected \\u{…} with a Unicode code point", escapeStart)
            }
            self.cursor.advance()
            return scalar
        }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = self.cursor.peek(), let digit = Self.hexValue(byte) else {
                throw self.error("malformed escape: expected 4 hexadecimal digits after \\u", escapeStart)
            }
            value = value * 16 + UInt32(digit)
            self.cursor.advance()
        }
        if (0xD800..<0xDC00).contains(value), self.cursor.peek() == UInt8(ascii: "\\"),
            self.cursor.peek(1) == UInt8(ascii: "u")
        {
            // A high surrogate followed by a low one spells one character outside the basic plane.
            var low: UInt32 = 0
            var valid = true
            for ahead in 2..<6 {
                guard let byte = self.cursor.peek(ahead), let digit = Self.hexValue(byte) else {
                    valid = false
                    break
                }
                low = low * 16 + UInt32(digit)
            }
            if valid, (0xDC00..<0xE000).contains(low) {
                for _ in 0..<6 { self.cursor.advance() }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
        }
        // A lone surrogate has no UTF-8 spelling; use the replacement character as JSON encoders do.
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    private mutating func punctuator(start: SourceLocation) throws(Diagnostic) -> ScriptPunctuator {
        // Longest match first: try three, two, then one byte.
        for length in stride(from: 3, through: 1, by: -1) {
            guard self.cursor.offset + length <= self.cursor.bytes.count else { continue }
            let end = self.cursor.offset + length
            let text = String(decoding: self.cursor.bytes[self.cursor.offset..<end], as: UTF8.self)
            if let punctuator = ScriptPunctuator(rawValue: text) {
                for _ in 0..<length { self.cursor.advance() }
                return punctuator
            }
        }
        let byte = self.cursor.peek() ?? 0
        let shown: String
        if byte < 0x80, byte >= 0x20 {
            shown = "'\(Character(Unicode.Scalar(byte)))'"
        } else {
            shown = "character"
        }
        self.cursor.advance()
        while let next = self.cursor.peek(), next & 0xC0 == 0x80 { self.cursor.advance() }
        let hint: String
        switch byte {
        case UInt8(ascii: "`"): hint = "; template strings are not supported, join strings with '+'"
        case UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "^"), UInt8(ascii: "~"):
            hint = "; bitwise operators are not supported (did you mean '&&' or '||'?)"
        case 0xE2, 0xEF: hint = "; is it a typographic quote or a full-width character pasted from a document?"
        default: hint = ""
        }
        throw self.error("unexpected \(shown) in the script\(hint)", start)
    }
}
