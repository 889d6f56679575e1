//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A fast, strict JSON (RFC 8259) parser producing ``JSONValue``s.
///
/// Written by hand because it sits on the hot path of every rule: it works on raw UTF-8 bytes, keeps
/// integers and doubles apart, keeps object key order, and copies a string without escapes in one step.
/// Foundation's `JSONSerialization` loses both the key order and the int/double distinction.
public enum JSONParser {
    /// The deepest nesting of arrays and objects accepted, so hostile input cannot exhaust the stack.
    public static let maximumDepth = 256

    /// Parses one JSON document from UTF-8 bytes.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(bytes: buffer)
            return Result { () throws(JSONParseError) -> JSONValue in try scanner.parseDocument() }
        }
        return try result.get()
    }

    /// Parses one JSON document from a string.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONParseError> = text.withUTF8 { buffer in
            var scanner = JSONScanner(bytes: buffer)
            return Result { () throws(JSONParseError) -> JSONValue in try scanner.parseDocument() }
        }
        return try result.get()
    }

    /// Parses one JSON document from a buffer the caller keeps alive for the duration of the call.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var scanner = JSONScanner(bytes: buffer)
        return try scanner.parseDocument()
    }
}

/// The parser's state: a position in a byte buffer and the current depth.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func parseDocument(projection: JSONProjection = .all) throws(JSONParseError) -> JSONValue {
        self.skipWhitespace()
        let value: JSONValue
        if case .keys(let members) = projection {
            value = try self.parseProjected(members)
        } else {
            value = try self.parseValue()
        }
        self.skipWhitespace()
        if self.position < self.bytes.count {
            throw self.error(.trailingData, "unexpected data after the JSON value")
        }
        return value
    }

    private func error(_ code: JSONParseError.Code, _ message: String) -> JSONParseError {
        JSONParseError(code: code, message: message, offset: self.position)
    }

    /// After an element of an object or array: consumes `,` (returns true: another element follows) or the
    /// closing bracket (returns false), or throws naming what was expected.
    @inline(__always)
    private mutating func continuesAfterElement(
        closing: UInt8,
        in container: StaticString
    ) throws(JSONParseError) -> Bool {
        self.skipWhitespace()
        guard self.position < self.bytes.count else {
            throw self.error(.unexpectedEnd, "unterminated \(container)")
        }
        let byte = self.bytes[self.position]
        if byte == UInt8(ascii: ",") {
            self.position += 1
            return true
        }
        if byte == closing {
            self.position += 1
            return false
        }
        throw self.error(
            .unexpectedCharacter,
            "expected ',' or '\(Character(Unicode.Scalar(closing)))' in the \(container)"
        )
    }

    private mutating func skipWhitespace() {
        while self.position < self.bytes.count {
            switch self.bytes[self.position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                self.position += 1
            default:
                return
            }
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard self.position < self.bytes.count else {
            throw self.error(.unexpectedEnd, "expected a JSON value, found the end of the input")
        }
        switch self.bytes[self.position] {
        case UInt8(ascii: "{"):
            return .object(try self.parseObject())
        case UInt8(ascii: "["):
            return try self.parseArray()
        case UInt8(ascii: "\""):
            return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try self.parseNumber()
        default:
            throw self.error(
                .unexpectedCharacter,
                "unexpected character '\(self.printable(self.bytes[self.position]))'"
            )
        }
    }

    private func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard self.position + count <= self.bytes.count else {
            throw self.error(.unexpectedEnd, "truncated literal, expected '\(literal)'")
        }
        let matches = literal.withUTF8Buffer { expected in
            for offset in 0..<count where self.bytes[self.position + offset] != expected[offset] {
                return false
            }
            return true
        }
        guard matches else {
            throw self.error(.unexpectedCharacter, "invalid literal, expected '\(literal)'")
        }
        self.position += count
    }

    private mutating func enter() throws(JSONParseError) {
        self.depth += 1
        if self.depth > JSONParser.maximumDepth {
            throw self.error(.tooDeep, "JSON nested deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONObject {
        try self.enter()
        self.position += 1
        var object = JSONObject()
        self.skipWhitespace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "}") {
            self.position += 1
            self.depth -= 1
            return object
        }
        // One allocation for the common small object instead of growing 1, 2, 4, 8.
        object = JSONObject(minimumCapacity: 8)
        while true {
            self.skipWhitespace()
            guard self.position < self.bytes.count else {
                throw self.error(.unexpectedEnd, "unterminated object")
            }
            guard self.bytes[self.position] == UInt8(ascii: "\"") else {
                throw self.error(.unexpectedCharacter, "expected a string key in the object")
            }
            let key = try self.parseString()
            self.skipWhitespace()
            guard self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: ":") else {
                throw self.error(.unexpectedCharacter, "expected ':' after the object key")
            }
            self.position += 1
            self.skipWhitespace()
            let value = try self.parseValue()
            // Duplicate keys: the last value wins, at the first key's position (what most parsers do).
            object.updateValue(value, forKey: key)
            if try !self.continuesAfterElement(closing: UInt8(ascii: "}"), in: "object") { break }
        }
        self.depth -= 1
        return object
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try self.enter()
        self.position += 1
        var elements: [JSONValue] = []
        self.skipWhitespace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "]") {
            self.position += 1
            self.depth -= 1
            return .array(elements)
        }
        elements.reserveCapacity(8)
        while true {
            self.skipWhitespace()
            elements.append(try self.parseValue())
            if try !self.continuesAfterElement(closing: UInt8(ascii: "]"), in: "array") { break }
        }
        self.depth -= 1
        return .array(elements)
    }

    /// Parses a string at `position` (which holds the opening quote).
    private mutating func parseString() throws(JSONParseError) -> String {
        self.position += 1
        let start = self.position
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: self.bytes[start..<self.position])
                self.position += 1
                return try self.makeString(slice, at: start)
            }
            if byte == UInt8(ascii: "\\") {
                return try self.parseEscapedString(from: start)
            }
            if byte < 0x20 {
                throw self.error(.invalidString, "control character in a string")
            }
            self.position += 1
        }
        throw self.error(.unexpectedEnd, "unterminated string")
    }

    private func makeString(_ slice: UnsafeBufferPointer<UInt8>, at start: Int) throws(JSONParseError) -> String {
        var isASCII = true
        for byte in slice where byte >= 0x80 {
            isASCII = false
            break
        }
        if isASCII {
            return String(decoding: slice, as: UTF8.self)
        }
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw JSONParseError(code: .invalidString, message: "invalid UTF-8 in a string", offset: start)
        }
        return text
    }

    /// The slow path: the string has escapes, so it is decoded into a scratch buffer.
    private mutating func parseEscapedString(from start: Int) throws(JSONParseError) -> String {
        var scratch: [UInt8] = Array(self.bytes[start..<self.position])
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "\"") {
                self.position += 1
                return try scratch.withUnsafeBufferPointer { buffer throws(JSONParseError) in
                    try self.makeString(buffer, at: start)
                }
            }
            if byte < 0x20 {
                throw self.error(.invalidString, "control character in a string")
            }
            if byte != UInt8(ascii: "\\") {
                scratch.append(byte)
                self.position += 1
                continue
            }
            self.position += 1
            guard self.position < self.bytes.count else {
                throw self.error(.unexpectedEnd, "unterminated escape")
            }
            let escaped = self.bytes[self.position]
            self.position += 1
            switch escaped {
            case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try self.parseHex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard self.position + 1 < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "\\"),
                        self.bytes[self.position + 1] == UInt8(ascii: "u")
                    else {
                        throw self.error(.invalidString, "unpaired surrogate in a \\u escape")
                    }
                    self.position += 2
                    let low = try self.parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw self.error(.invalidString, "unpaired surrogate in a \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw self.error(.invalidString, "unpaired surrogate in a \\u escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw self.error(.invalidString, "invalid \\u escape")
                }
                scratch.append(contentsOf: UTF8.encode(unicode)!)
            default:
                self.position -= 1
                throw self.error(.invalidString, "invalid escape '\\\(self.printable(escaped))'")
            }
        }
        throw self.error(.unexpectedEnd, "unterminated string")
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard self.position + 4 <= self.bytes.count else {
            throw self.error(.unexpectedEnd, "truncated \\u escape")
        }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.error(.invalidString, "invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            self.position += 1
        }
        return value
    }

    /// Parses a number: integers that fit in `Int` stay integers, everything else is a `Double`.
    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = self.position
        var negative = false
        if self.bytes[self.position] == UInt8(ascii: "-") {
            negative = true
            self.position += 1
        }
        guard self.position < self.bytes.count, self.isDigit(self.bytes[self.position]) else {
            throw self.error(.invalidNumber, "expected a digit")
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var overflowed = false
        if self.bytes[self.position] == UInt8(ascii: "0") {
            self.position += 1
            if self.position < self.bytes.count, self.isDigit(self.bytes[self.position]) {
                throw self.error(.invalidNumber, "leading zero in a number")
            }
        } else {
            while self.position < self.bytes.count, self.isDigit(self.bytes[self.position]) {
                self.accumulate(&mantissa, &significantDigits, &overflowed, self.bytes[self.position])
                self.position += 1
            }
        }
        var exponent = 0
        var isInteger = true
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: ".") {
            isInteger = false
            self.position += 1
            guard self.position < self.bytes.count, self.isDigit(self.bytes[self.position]) else {
                throw self.error(.invalidNumber, "expected a digit after the decimal point")
            }
            while self.position < self.bytes.count, self.isDigit(self.bytes[self.position]) {
                self.accumulate(&mantissa, &significantDigits, &overflowed, self.bytes[self.position])
                exponent -= 1
                self.position += 1
            }
        }
        if self.position < self.bytes.count,
            self.bytes[self.position] == UInt8(ascii: "e") || self.bytes[self.position] == UInt8(ascii: "E")
        {
            isInteger = false
            self.position += 1
            var exponentNegative = false
            if self.position < self.bytes.count,
                self.bytes[self.position] == UInt8(ascii: "+") || self.bytes[self.position] == UInt8(ascii: "-")
            {
                exponentNegative = self.bytes[self.position] == UInt8(ascii: "-")
                self.position += 1
            }
            guard self.position < self.bytes.count, self.isDigit(self.bytes[self.position]) else {
                throw self.error(.invalidNumber, "expected a digit in the exponent")
            }
            var explicit = 0
            while self.position < self.bytes.count, self.isDigit(self.bytes[self.position]) {
                if explicit < 100_000 {
                    explicit = explicit * 10 + Int(self.bytes[self.position] - UInt8(ascii: "0"))
                }
                self.position += 1
            }
            exponent += exponentNegative ? -explicit : explicit
        }
        if isInteger, !overflowed {
            if negative, mantissa <= UInt64(Int.max) + 1 {
                return .int(mantissa == UInt64(Int.max) + 1 ? Int.min : -Int(mantissa))
            }
            if !negative, mantissa <= UInt64(Int.max) {
                return .int(Int(mantissa))
            }
        }
        // Exact fast path (Clinger): the mantissa and the power of ten are both exact doubles.
        if !overflowed, mantissa <= (1 << 53), exponent >= -22, exponent <= 22 {
            var value = Double(mantissa)
            if exponent < 0 {
                value /= Self.powersOfTen[-exponent]
            } else {
                value *= Self.powersOfTen[exponent]
            }
            return .double(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.position]), as: UTF8.self)
        guard let value = Double(text) else {
            throw JSONParseError(code: .invalidNumber, message: "invalid number '\(text)'", offset: start)
        }
        return .double(value)
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private func accumulate(_ mantissa: inout UInt64, _ digits: inout Int, _ overflowed: inout Bool, _ byte: UInt8) {
        let digit = UInt64(byte - UInt8(ascii: "0"))
        let (times10, overflow1) = mantissa.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(digit)
        if overflow1 || overflow2 {
            overflowed = true
        } else {
            mantissa = sum
        }
        digits += 1
    }
}

extension JSONScanner {
    // MARK: Projection: build only some keys, validate the rest without allocating

    /// Parses the value at `position` under a `.keys` projection: an object keeps only the listed keys;
    /// any other value is validated and dropped (`.null`).
    mutating func parseProjected(_ members: [JSONProjection.Member]) throws(JSONParseError) -> JSONValue {
        guard self.position < self.bytes.count else {
            throw self.error(.unexpectedEnd, "expected a JSON value, found the end of the input")
        }
        guard self.bytes[self.position] == UInt8(ascii: "{") else {
            try self.skipValue()
            return .null
        }
        try self.enter()
        self.position += 1
        var object = JSONObject()
        self.skipWhitespace()
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "}") {
            self.position += 1
            self.depth -= 1
            return .object(object)
        }
        while true {
            self.skipWhitespace()
            guard self.position < self.bytes.count else {
                throw self.error(.unexpectedEnd, "unterminated object")
            }
            guard self.bytes[self.position] == UInt8(ascii: "\"") else {
                throw self.error(.unexpectedCharacter, "expected a string key in the object")
            }
            let member = try self.matchKey(members)
            self.skipWhitespace()
            guard self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: ":") else {
                throw self.error(.unexpectedCharacter, "expected ':' after the object key")
            }
            self.position += 1
            self.skipWhitespace()
            if let member {
                let value: JSONValue
                if case .keys(let children) = member.child {
                    value = try self.parseProjected(children)
                } else {
                    value = try self.parseValue()
                }
                object.updateValue(value, forKey: member.key)
            } else {
                try self.skipValue()
            }
            if try !self.continuesAfterElement(closing: UInt8(ascii: "}"), in: "object") { break }
        }
        self.depth -= 1
        return .object(object)
    }

    /// Reads the key at `position` and returns the projection member it names, if any. A key without
    /// escapes is compared as raw bytes, so no string is built for keys the rule does not read.
    private mutating func matchKey(_ members: [JSONProjection.Member]) throws(JSONParseError) -> JSONProjection.Member? {
        let start = self.position + 1
        try self.skipString()
        let end = self.position - 1
        let raw = UnsafeBufferPointer(rebasing: self.bytes[start..<end])
        if !raw.contains(UInt8(ascii: "\\")) {
            return members.first { $0.bytes.elementsEqual(raw) }
        }
        // Escaped keys are rare: decode and compare as strings.
        let saved = self.position
        self.position = start - 1
        let key = try self.parseString()
        self.position = saved
        return members.first { $0.key == key }
    }

    /// Validates the value at `position` and moves past it, building nothing.
    mutating func skipValue() throws(JSONParseError) {
        guard self.position < self.bytes.count else {
            throw self.error(.unexpectedEnd, "expected a JSON value, found the end of the input")
        }
        switch self.bytes[self.position] {
        case UInt8(ascii: "{"):
            try self.enter()
            self.position += 1
            self.skipWhitespace()
            if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "}") {
                self.position += 1
                self.depth -= 1
                return
            }
            while true {
                self.skipWhitespace()
                guard self.position < self.bytes.count else { throw self.error(.unexpectedEnd, "unterminated object") }
                guard self.bytes[self.position] == UInt8(ascii: "\"") else {
                    throw self.error(.unexpectedCharacter, "expected a string key in the object")
                }
                try self.skipString()
                self.skipWhitespace()
                guard self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: ":") else {
                    throw self.error(.unexpectedCharacter, "expected ':' after the object key")
                }
                self.position += 1
                self.skipWhitespace()
                try self.skipValue()
                if try !self.continuesAfterElement(closing: UInt8(ascii: "}"), in: "object") { break }
            }
            self.depth -= 1
        case UInt8(ascii: "["):
            try self.enter()
            self.position += 1
            self.skipWhitespace()
            if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "]") {
                self.position += 1
                self.depth -= 1
                return
            }
            while true {
                self.skipWhitespace()
                try self.skipValue()
                if try !self.continuesAfterElement(closing: UInt8(ascii: "]"), in: "array") { break }
            }
            self.depth -= 1
        case UInt8(ascii: "\""):
            try self.skipString()
        default:
            // Literals and numbers build no heap objects, so the ordinary parser validates them.
            _ = try self.parseValue()
        }
    }

    /// Validates the string at `position` (escapes, control characters, UTF-8) and moves past it.
    mutating func skipString() throws(JSONParseError) {
        self.position += 1
        var asciiOnly = true
        let start = self.position
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "\"") {
                if !asciiOnly, !UTF8Validation.isValid(UnsafeBufferPointer(rebasing: self.bytes[start..<self.position])) {
                    throw JSONParseError(code: .invalidString, message: "invalid UTF-8 in a string", offset: start)
                }
                self.position += 1
                return
            }
            if byte < 0x20 {
                throw self.error(.invalidString, "control character in a string")
            }
            if byte >= 0x80 { asciiOnly = false }
            if byte == UInt8(ascii: "\\") {
                self.position += 1
                guard self.position < self.bytes.count else { throw self.error(.unexpectedEnd, "unterminated escape") }
                switch self.bytes[self.position] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    self.position += 1
                case UInt8(ascii: "u"):
                    self.position += 1
                    let scalar = try self.parseHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard self.position + 1 < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "\\"),
                            self.bytes[self.position + 1] == UInt8(ascii: "u")
                        else { throw self.error(.invalidString, "unpaired surrogate in a \\u escape") }
                        self.position += 2
                        let low = try self.parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw self.error(.invalidString, "unpaired surrogate in a \\u escape")
                        }
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw self.error(.invalidString, "unpaired surrogate in a \\u escape")
                    }
                default:
                    throw self.error(.invalidString, "invalid escape '\\\(self.printable(self.bytes[self.position]))'")
                }
                continue
            }
            self.position += 1
        }
        throw self.error(.unexpectedEnd, "unterminated string")
    }
}

/// UTF-8 validation without building a string.
enum UTF8Validation {
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var minimum: UInt32
            var scalar: UInt32
            if byte & 0xE0 == 0xC0 {
                length = 2
                minimum = 0x80
                scalar = UInt32(byte & 0x1F)
            } else if byte & 0xF0 == 0xE0 {
                length = 3
                minimum = 0x800
                scalar = UInt32(byte & 0x0F)
            } else if byte & 0xF8 == 0xF0 {
                length = 4
                minimum = 0x10000
                scalar = UInt32(byte & 0x07)
            } else {
                return false
            }
            guard index + length <= bytes.count else { return false }
            for offset in 1..<length {
                let continuation = bytes[index + offset]
                guard continuation & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(continuation & 0x3F)
            }
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return false }
            index += length
        }
        return true
    }
}
