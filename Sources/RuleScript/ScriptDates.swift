//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL

/// `format_date(timestamp, pattern, timeZone)` and `to_timestamp(dateString, pattern, timeZone)`.
///
/// Patterns are Java `SimpleDateFormat` patterns, as in the rule SQL's `timestamp(format)`. The time zone
/// defaults to Beijing time (GMT+8), as the platform documents; it may be an offset (`GMT+8`, `UTC`,
/// `+08:00`) or a zone ID (`Asia/Shanghai`).
enum ScriptDates {
    /// A failed date function: the diagnostic code, the message and which argument (0-based) is at fault.
    struct Failure: Error {
        var code: Diagnostic.Code
        var message: String
        var argument: Int?
    }

    /// Beijing time, the documented default.
    static let defaultOffsetSeconds = 8 * 3600

    /// The end of the year 9999 in epoch milliseconds; dates are limited to the years 1 to 9999, so the
    /// arithmetic on them cannot overflow.
    static let maximumMilliseconds = 253_402_300_799_999

    static func formatDate(_ arguments: [JSONValue]) throws(Failure) -> JSONValue {
        guard let milliseconds = Self.milliseconds(arguments[0]) else {
            throw Failure(
                code: .type,
                message: "the timestamp must be epoch milliseconds, got \(ScriptValues.preview(arguments[0]))",
                argument: 0
            )
        }
        guard Swift.abs(milliseconds) <= Self.maximumMilliseconds else {
            throw Failure(
                code: .runtime,
                message: "the timestamp \(milliseconds) is outside the years 1 to 9999",
                argument: 0
            )
        }
        let pattern = try Self.text(arguments[1], what: "the pattern", argument: 1)
        let offset = try Self.offset(arguments.count > 2 ? arguments[2] : .null, at: milliseconds)
        do {
            let format = try JavaDateFormat(pattern)
            return .string(format.format(epochMillis: milliseconds, offsetSeconds: offset))
        } catch {
            throw Failure(code: .runtime, message: error.message, argument: 1)
        }
    }

    static func toTimestamp(_ arguments: [JSONValue]) throws(Failure) -> JSONValue {
        let text = try Self.text(arguments[0], what: "the date", argument: 0)
        let pattern = try Self.text(arguments[1], what: "the pattern", argument: 1)
        let pieces = try Self.pieces(of: pattern)
        var fields = try Self.parse(text, pieces: pieces)
        let zone = arguments.count > 2 ? arguments[2] : .null
        let days = Self.days(year: fields.year, month: fields.month, day: fields.day)
        if fields.isPM, fields.hour < 12 { fields.hour += 12 }
        if fields.isAM, fields.hour == 12 { fields.hour = 0 }
        let local = (((days * 24 + fields.hour) * 60 + fields.minute) * 60 + fields.second) * 1000 + fields.millisecond
        let offset: Int
        if let explicit = fields.offsetSeconds {
            offset = explicit
        } else {
            offset = try Self.offset(zone, at: local - Self.defaultOffsetSeconds * 1000)
        }
        return .int(local - offset * 1000)
    }

    private static func milliseconds(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let number): number
        case .double(let number) where number.isFinite && Swift.abs(number) < 9.0e15: Int(number)
        case .string(let text): Int(text.trimmingSpaces())
        default: nil
        }
    }

    private static func text(_ value: JSONValue, what: String, argument: Int) throws(Failure) -> String {
        guard case .string(let text) = value else {
            throw Failure(code: .type, message: "\(what) must be a string, got \(value.typeName)", argument: argument)
        }
        return text
    }

    /// The UTC offset of a time-zone argument at a moment (zone IDs have daylight saving time).
    static func offset(_ zone: JSONValue, at milliseconds: Int) throws(Failure) -> Int {
        guard case .string(let name) = zone else {
            if case .null = zone { return Self.defaultOffsetSeconds }
            throw Failure(code: .type, message: "the time zone must be a string such as 'GMT+8'", argument: 2)
        }
        if let seconds = Self.offsetSeconds(name) { return seconds }
        if let timeZone = TimeZone(identifier: name) {
            return timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        }
        throw Failure(
            code: .runtime,
            message: "unknown time zone '\(name)'; use an offset such as 'GMT+8' or a zone ID such as 'Asia/Shanghai'",
            argument: 2
        )
    }

    /// `GMT+8`, `UTC+08:00`, `GMT`, `Z`, `+0800`, `-05:30` → seconds east of UTC.
    static func offsetSeconds(_ text: String) -> Int? {
        var rest = Substring(text.trimmingSpaces())
        for prefix in ["GMT", "UTC", "UT"] where rest.uppercased().hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
            break
        }
        if rest.isEmpty || rest == "Z" { return 0 }
        guard let sign = rest.first, sign == "+" || sign == "-" else { return nil }
        rest = rest.dropFirst()
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        var hours: Int
        var minutes = 0
        if parts.count == 2 {
            guard let h = Int(parts[0]), let m = Int(parts[1]) else { return nil }
            hours = h
            minutes = m
        } else if rest.count == 4, let value = Int(rest) {
            hours = value / 100
            minutes = value % 100
        } else {
            guard let h = Int(rest), rest.count <= 2 else { return nil }
            hours = h
        }
        guard hours <= 18, minutes < 60 else { return nil }
        hours = hours * 3600 + minutes * 60
        return sign == "-" ? -hours : hours
    }

    // MARK: - Parsing dates

    /// One piece of a date pattern.
    enum Piece: Equatable {
        case literal(String)
        case field(Character, Int)
    }

    static func pieces(of pattern: String) throws(Failure) -> [Piece] {
        var pieces: [Piece] = []
        var characters = pattern[...]
        while let character = characters.first {
            if character == "'" {
                characters = characters.dropFirst()
                var literal = ""
                var closed = false
                while let inner = characters.first {
                    characters = characters.dropFirst()
                    if inner == "'" {
                        if characters.first == "'" {
                            literal.append("'")
                            characters = characters.dropFirst()
                            continue
                        }
                        closed = true
                        break
                    }
                    literal.append(inner)
                }
                guard closed else {
                    throw Failure(code: .runtime, message: "unterminated quote in the pattern", argument: 1)
                }
                pieces.append(.literal(literal.isEmpty ? "'" : literal))
                continue
            }
            if character.isASCII, character.isLetter {
                guard "yMdHkKhmsSaZXzEDu".contains(character) else {
                    throw Failure(code: .runtime, message: "unsupported pattern letter '\(character)'", argument: 1)
                }
                var count = 0
                while characters.first == character {
                    count += 1
                    characters = characters.dropFirst()
                }
                pieces.append(.field(character, count))
                continue
            }
            pieces.append(.literal(String(character)))
            characters = characters.dropFirst()
        }
        return pieces
    }

    /// The fields read from a date string.
    struct Fields {
        var year = 1970
        var month = 1
        var day = 1
        var hour = 0
        var minute = 0
        var second = 0
        var millisecond = 0
        var isAM = false
        var isPM = false
        var offsetSeconds: Int?
    }

    private static let monthNames = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]

    static func parse(_ text: String, pieces: [Piece]) throws(Failure) -> Fields {
        var fields = Fields()
        var rest = Substring(text)
        func mismatch(_ what: String) -> Failure {
            Failure(
                code: .runtime,
                message: "the date '\(text)' does not match the pattern: expected \(what) at '\(rest.prefix(12))'",
                argument: 0
            )
        }
        for (position, piece) in pieces.enumerated() {
            switch piece {
            case .literal(let literal):
                guard rest.hasPrefix(literal) else { throw mismatch("'\(literal)'") }
                rest = rest.dropFirst(literal.count)
            case .field(let letter, let count):
                switch letter {
                case "a":
                    let marker = rest.prefix(2).uppercased()
                    guard marker == "AM" || marker == "PM" else { throw mismatch("AM or PM") }
                    fields.isAM = marker == "AM"
                    fields.isPM = marker == "PM"
                    rest = rest.dropFirst(2)
                case "Z", "X", "z":
                    if rest.first == "Z" {
                        fields.offsetSeconds = 0
                        rest = rest.dropFirst()
                        continue
                    }
                    var zone = ""
                    while let character = rest.first,
                        character.isLetter || character.isNumber || "+-:".contains(character)
                    {
                        zone.append(character)
                        rest = rest.dropFirst()
                    }
                    guard let seconds = Self.offsetSeconds(zone) else { throw mismatch("a time-zone offset") }
                    fields.offsetSeconds = seconds
                case "E":
                    guard rest.first?.isLetter == true else { throw mismatch("a day name") }
                    while rest.first?.isLetter == true { rest = rest.dropFirst() }
                case "M" where count >= 3:
                    let name = rest.prefix(3).lowercased()
                    guard let index = Self.monthNames.firstIndex(of: name) else { throw mismatch("a month name") }
                    fields.month = index + 1
                    rest = rest.dropFirst(3)
                    while rest.first?.isLetter == true { rest = rest.dropFirst() }
                default:
                    // A field right before another field has exactly its pattern's width (yyyyMMdd).
                    let isAdjacent: Bool
                    if position + 1 < pieces.count, case .field = pieces[position + 1] {
                        isAdjacent = true
                    } else {
                        isAdjacent = false
                    }
                    var digits = ""
                    while let character = rest.first, character.isASCII, character.isNumber,
                        !isAdjacent || digits.count < count, digits.count < 10
                    {
                        digits.append(character)
                        rest = rest.dropFirst()
                    }
                    guard var value = Int(digits) else { throw mismatch("\(count) digit\(count == 1 ? "" : "s")") }
                    switch letter {
                    case "y", "u":
                        if count == 2, digits.count == 2 { value += 2000 }
                        fields.year = value
                    case "M": fields.month = value
                    case "d": fields.day = value
                    case "D":
                        fields.month = 1
                        fields.day = value
                    case "H", "k": fields.hour = letter == "k" && value == 24 ? 0 : value
                    case "h", "K": fields.hour = value
                    case "m": fields.minute = value
                    case "s": fields.second = value
                    case "S":
                        // Fractions of a second: three digits are milliseconds; scale other widths.
                        var scaled = value
                        var width = digits.count
                        while width < 3 {
                            scaled *= 10
                            width += 1
                        }
                        while width > 3 {
                            scaled /= 10
                            width -= 1
                        }
                        fields.millisecond = scaled
                    default: break
                    }
                }
            }
        }
        guard rest.isEmpty else {
            throw Failure(code: .runtime, message: "unexpected text '\(rest.prefix(12))' after the date", argument: 0)
        }
        guard (1...9999).contains(fields.year), (1...12).contains(fields.month), (1...366).contains(fields.day),
            (0...24).contains(fields.hour), (0...59).contains(fields.minute), (0...60).contains(fields.second)
        else {
            throw Failure(code: .runtime, message: "the date '\(text)' has a field out of range", argument: 0)
        }
        return fields
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm); day numbers past the
    /// month's end roll over, so day-of-year patterns (`D`) work too.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + 1 - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468 + (day - 1)
    }
}
