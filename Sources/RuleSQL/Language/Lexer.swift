//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The lexer of the rule SQL: turns the text into tokens, one at a time, each with its source range.
///
/// Single quotes make string constants (`'a''b'` and `'a\'b'` both contain a quote), double quotes make
/// variables, numbers are integers unless they have a fraction or an exponent, and `--` starts a comment
/// to the end of the line.
public struct Lexer {
    private var cursor: SourceCursor
    private let source: SourceText

    /// Creates a lexer over a source text.
    public init(_ source: SourceText) {
        self.source = source
        self.cursor = SourceCursor(bytes: source.bytes)
    }

    /// All tokens up to and including `.endOfInput`.
    public mutating func tokenize() throws(Diagnostic) -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = try self.next()
            tokens.append(token)
            if token.kind == .endOfInput { return tokens }
        }
    }

    /// The next token.
    public mutating func next() throws(Diagnostic) -> Token {
        self.skipTrivia()
        let start = self.cursor.location
        guard let byte = self.cursor.peek() else {
            return Token(kind: .endOfInput, range: SourceRange(start: start, end: start))
        }
        let kind: TokenKind
        switch byte {
        case UInt8(ascii: "'"):
            kind = .string(try self.quoted(UInt8(ascii: "'"), start: start))
        case UInt8(ascii: "\""):
            kind = .quotedIdentifier(try self.quoted(UInt8(ascii: "\""), start: start))
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            kind = try self.number(start: start)
        case UInt8(ascii: "."):
            if let next = self.cursor.peek(1), next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") {
                kind = try self.number(start: start)
            } else {
                self.cursor.advance()
                kind = .dot
            }
        case UInt8(ascii: ","): kind = self.single(.comma)
        case UInt8(ascii: "("): kind = self.single(.leftParen)
        case UInt8(ascii: ")"): kind = self.single(.rightParen)
        case UInt8(ascii: "*"): kind = self.single(.star)
        case UInt8(ascii: "+"): kind = self.single(.plus)
        case UInt8(ascii: "-"): kind = self.single(.minus)
        case UInt8(ascii: "/"): kind = self.single(.slash)
        case UInt8(ascii: "%"): kind = self.single(.percent)
        case UInt8(ascii: "["): kind = self.single(.leftBracket)
        case UInt8(ascii: "]"): kind = self.single(.rightBracket)
        case UInt8(ascii: "="):
            self.cursor.advance()
            if self.cursor.peek() == UInt8(ascii: "=") { self.cursor.advance() }
            kind = .equal
        case UInt8(ascii: "!"):
            self.cursor.advance()
            guard self.cursor.peek() == UInt8(ascii: "=") else {
                throw self.error("unexpected '!'; write '<>' (or '!=') for 'not equal', or NOT for negation", start)
            }
            self.cursor.advance()
            kind = .notEqual
        case UInt8(ascii: "<"):
            self.cursor.advance()
            if self.cursor.peek() == UInt8(ascii: "=") {
                self.cursor.advance()
                kind = .lessEqual
            } else if self.cursor.peek() == UInt8(ascii: ">") {
                self.cursor.advance()
                kind = .notEqual
            } else {
                kind = .less
            }
        case UInt8(ascii: ">"):
            self.cursor.advance()
            if self.cursor.peek() == UInt8(ascii: "=") {
                self.cursor.advance()
                kind = .greaterEqual
            } else {
                kind = .greater
            }
        default:
            guard Self.isIdentifierStart(byte) else {
                let character = self.characterAt(start.offset)
                // Hints for habits from other languages.
                let hint: String
                switch character {
                case "&": hint = "; write AND"
                case "|": hint = "; write OR"
                case "`": hint = "; quote names with double quotes"
                case ";": hint = "; a rule is one statement without ';'"
                default: hint = ""
                }
                throw self.error("unexpected character '\(character)'\(hint)", start)
            }
            kind = self.word()
        }
        return Token(kind: kind, range: SourceRange(start: start, end: self.cursor.location))
    }

    private mutating func single(_ kind: TokenKind) -> TokenKind {
        self.cursor.advance()
        return kind
    }

    private func characterAt(_ offset: Int) -> String {
        let tail = self.source.bytes[offset...]
        let length = tail.first.map { $0 < 0x80 ? 1 : $0 >= 0xF0 ? 4 : $0 >= 0xE0 ? 3 : 2 } ?? 1
        return String(decoding: tail.prefix(length), as: UTF8.self)
    }

    private func error(_ message: String, _ location: SourceLocation, length: Int = 1) -> Diagnostic {
        Diagnostic(
            code: .syntax,
            message: message,
            file: self.source.file,
            location: location,
            sourceLine: self.source.line(location.line),
            length: length
        )
    }

    private mutating func skipTrivia() {
        while let byte = self.cursor.peek() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r")
            {
                self.cursor.advance()
            } else if byte == UInt8(ascii: "-"), self.cursor.peek(1) == UInt8(ascii: "-") {
                while let next = self.cursor.peek(), next != UInt8(ascii: "\n") { self.cursor.advance() }
            } else {
                return
            }
        }
    }

    /// `true` for a byte that may start a name: a letter, `_`, `$`, or any non-ASCII byte.
    public static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$") || byte >= 0x80
    }

    /// `true` for a byte that may continue a name: a name-start byte or a digit.
    public static func isIdentifierContinue(_ byte: UInt8) -> Bool {
        Self.isIdentifierStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private mutating func word() -> TokenKind {
        let start = self.cursor.offset
        while let byte = self.cursor.peek(), Self.isIdentifierContinue(byte) {
            self.cursor.advance()
        }
        let text = String(decoding: self.source.bytes[start..<self.cursor.offset], as: UTF8.self)
        if let keyword = Keyword(rawValue: text.lowercased()) {
            return .keyword(keyword)
        }
        return .identifier(text)
    }

    /// A quoted run; a doubled quote or a backslash escape stands for the character.
    private mutating func quoted(_ quote: UInt8, start: SourceLocation) throws(Diagnostic) -> String {
        self.cursor.advance()
        var bytes: [UInt8] = []
        while true {
            guard let byte = self.cursor.peek() else {
                let what = quote == UInt8(ascii: "'") ? "string constant" : "quoted name"
                throw self.error(
                    "unterminated \(what): add the closing \(quote == UInt8(ascii: "'") ? "'" : "\"")",
                    start
                )
            }
            if byte == quote {
                self.cursor.advance()
                if self.cursor.peek() == quote {
                    bytes.append(quote)
                    self.cursor.advance()
                    continue
                }
                break
            }
            if byte == UInt8(ascii: "\\"), let escaped = self.cursor.peek(1) {
                self.cursor.advance()
                self.cursor.advance()
                switch escaped {
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                default: bytes.append(escaped)
                }
                continue
            }
            bytes.append(byte)
            self.cursor.advance()
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func number(start: SourceLocation) throws(Diagnostic) -> TokenKind {
        let begin = self.cursor.offset
        var isInteger = true
        while let byte = self.cursor.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            self.cursor.advance()
        }
        if self.cursor.peek() == UInt8(ascii: "."), let next = self.cursor.peek(1), next >= UInt8(ascii: "0"),
            next <= UInt8(ascii: "9")
        {
            isInteger = false
            self.cursor.advance()
            while let byte = self.cursor.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                self.cursor.advance()
            }
        }
        if let e = self.cursor.peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var ahead = 1
            if let sign = self.cursor.peek(1), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { ahead = 2 }
            if let digit = self.cursor.peek(ahead), digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") {
                isInteger = false
                for _ in 0..<ahead { self.cursor.advance() }
                while let byte = self.cursor.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    self.cursor.advance()
                }
            }
        }
        if let byte = self.cursor.peek(), Self.isIdentifierStart(byte) {
            throw self.error("a name cannot start with a digit; put it in double quotes, e.g. \"2Co\"", start)
        }
        let text = String(decoding: self.source.bytes[begin..<self.cursor.offset], as: UTF8.self)
        if isInteger, let value = Int(text) {
            return .integer(value)
        }
        guard let value = Double(text) else {
            throw self.error("invalid number '\(text)'", start, length: text.count)
        }
        return .double(value)
    }
}
