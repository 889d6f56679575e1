//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A failure to understand a date pattern.
public struct DatePatternError: Error, Sendable, Hashable {
    /// One line saying what is wrong.
    public var message: String
}

/// A date pattern in Java's `SimpleDateFormat` syntax, as `timestamp(format)` takes it.
///
/// Supported letters: `G y Y M L d D E u a H k K h m s S z Z X`; text in single quotes is literal and `''`
/// is a quote. Any other ASCII letter is an error, as in Java. Formatting works at a fixed UTC offset and
/// needs no calendar library, so it is cheap enough for every message.
public struct JavaDateFormat: Sendable, Hashable {
    /// One piece of a compiled pattern.
    enum Piece: Sendable, Hashable {
        case literal(String)
        case field(Character, Int)
    }

    let pieces: [Piece]

    private static let letters: Set<Character> = [
        "G", "y", "Y", "M", "L", "d", "D", "E", "u", "a", "H", "k", "K", "h", "m", "s", "S", "z", "Z", "X",
    ]

    /// Compiles a pattern.
    public init(_ pattern: String) throws(DatePatternError) {
        var pieces: [Piece] = []
        var characters = pattern[...]
        var literal = ""
        while let character = characters.first {
            if character == "'" {
                characters = characters.dropFirst()
                if characters.first == "'" {
                    literal.append("'")
                    characters = characters.dropFirst()
                    continue
                }
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
                guard closed else { throw DatePatternError(message: "unterminated quote in date pattern '\(pattern)'") }
                continue
            }
            if character.isASCII, character.isLetter {
                guard Self.letters.contains(character) else {
                    throw DatePatternError(message: "illegal pattern character '\(character)' in '\(pattern)'")
                }
                var count = 0
                while characters.first == character {
                    count += 1
                    characters = characters.dropFirst()
                }
                if !literal.isEmpty {
                    pieces.append(.literal(literal))
                    literal = ""
                }
                pieces.append(.field(character, count))
                continue
            }
            literal.append(character)
            characters = characters.dropFirst()
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        self.pieces = pieces
    }

    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]
    private static let dayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// Formats an instant at a fixed offset from UTC.
    public func format(epochMillis: Int, offsetSeconds: Int) -> String {
        // Clamp to ±31,000 years so any `--timestamp` formats instead of overflowing.
        let limit = 1_000_000_000_000_000
        let local = min(max(epochMillis, -limit), limit) + max(-86_400, min(offsetSeconds, 86_400)) * 1000
        let days = local.floorDivided(by: 86_400_000)
        let millisOfDay = local - days * 86_400_000
        let (year, month, day) = CivilDate.fromDays(days)
        let dayOfYear = days - CivilDate.days(year: year, month: 1, day: 1) + 1
        // 1970-01-01 was a Thursday; ISO day numbers run Monday = 1 … Sunday = 7.
        let isoWeekday = (days + 3).floorModulo(7) + 1
        let hour = millisOfDay / 3_600_000
        let minute = millisOfDay / 60_000 % 60
        let second = millisOfDay / 1000 % 60
        let millisecond = millisOfDay % 1000

        var output = ""
        for piece in self.pieces {
            switch piece {
            case .literal(let text):
                output += text
            case .field(let letter, let count):
                switch letter {
                case "G": output += year > 0 ? "AD" : "BC"
                case "y", "Y":
                    if count == 2 {
                        output += Self.pad(year.floorModulo(100), 2)
                    } else {
                        output += Self.pad(year, count)
                    }
                case "M", "L":
                    if count >= 4 {
                        output += Self.monthNames[month - 1]
                    } else if count == 3 {
                        output += String(Self.monthNames[month - 1].prefix(3))
                    } else {
                        output += Self.pad(month, count)
                    }
                case "d": output += Self.pad(day, count)
                case "D": output += Self.pad(dayOfYear, count)
                case "E":
                    let name = Self.dayNames[isoWeekday - 1]
                    output += count >= 4 ? name : String(name.prefix(3))
                case "u": output += Self.pad(isoWeekday, count)
                case "a": output += hour < 12 ? "AM" : "PM"
                case "H": output += Self.pad(hour, count)
                case "k": output += Self.pad(hour == 0 ? 24 : hour, count)
                case "K": output += Self.pad(hour % 12, count)
                case "h": output += Self.pad(hour % 12 == 0 ? 12 : hour % 12, count)
                case "m": output += Self.pad(minute, count)
                case "s": output += Self.pad(second, count)
                case "S": output += Self.pad(millisecond, count)
                case "z": output += Self.offsetText(offsetSeconds, style: .gmt)
                case "Z": output += Self.offsetText(offsetSeconds, style: .basic)
                case "X":
                    if offsetSeconds == 0 {
                        output += "Z"
                    } else {
                        output += Self.offsetText(
                            offsetSeconds,
                            style: count == 1 ? .hours : count == 2 ? .basic : .extended
                        )
                    }
                default:
                    break
                }
            }
        }
        return output
    }

    private enum OffsetStyle {
        case gmt
        case basic
        case extended
        case hours
    }

    private static func offsetText(_ seconds: Int, style: OffsetStyle) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let minutes = Swift.abs(seconds) / 60
        let hours = Self.pad(minutes / 60, 2)
        let rest = Self.pad(minutes % 60, 2)
        switch style {
        case .gmt: return "GMT\(sign)\(hours):\(rest)"
        case .basic: return "\(sign)\(hours)\(rest)"
        case .extended: return "\(sign)\(hours):\(rest)"
        case .hours: return "\(sign)\(hours)"
        }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(Swift.abs(value))
        let padded = digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        return value < 0 ? "-" + padded : padded
    }
}

/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after Howard Hinnant's
/// `days_from_civil` / `civil_from_days`. Public for the other modules that format UTC times per message (event
/// timestamps): Foundation's date formatters cost more than the rest of such a message.
public enum CivilDate {
    /// The year, month (1–12) and day (1–31) of a day number.
    public static func fromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The day number of a date (`month` 1–12, `day` 1–31).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let monthPrime = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthPrime + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Int {
    /// Division rounding toward negative infinity.
    func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// The remainder of ``floorDivided(by:)``, always in `0..<divisor` for a positive divisor.
    func floorModulo(_ divisor: Int) -> Int {
        self - self.floorDivided(by: divisor) * divisor
    }
}
