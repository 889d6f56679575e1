//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import RuleSQL
import StateStore

/// A migration-status event: a CloudEvents 1.0 event in structured JSON mode
/// (`docs/schemas/migration-event.schema.json` is its schema).
///
/// Built from an outbox row (``init(_:)``) or parsed from JSON (``init(json:)``); written with ``jsonBytes()``.
/// Kept as our own small model rather than a CloudEvents SDK: no Swift SDK is among our dependencies, and structured
/// JSON mode is six envelope members.
public struct MigrationEvent: Sendable, Hashable {
    /// The CloudEvents version every event carries.
    public static let specVersion = "1.0"
    /// The only content type of `data`.
    public static let dataContentType = "application/json"
    /// The source of events recognised in the bridge's merged stream (platform messages, inference).
    public static let bridgeSource = "/iotbridge/bridge"
    /// The source of events of `migrate run` steps.
    public static let migrateSource = "/iotbridge/migrate"

    /// A UUID, the same on every delivery of the event (subscribers de-duplicate by it).
    public var id: String
    /// Where the event comes from (``bridgeSource`` or ``migrateSource``).
    public var source: String
    /// The kind of fact.
    public var type: MigrationEventType
    /// Epoch milliseconds of the fact.
    public var time: Int64
    /// `PK/DN` for device events, the resource ID for resource events, the migration ID otherwise.
    public var subject: String
    /// The facts.
    public var data: MigrationEventData

    /// Creates an event.
    public init(
        id: String = UUID().uuidString.lowercased(),
        source: String,
        type: MigrationEventType,
        time: Int64,
        subject: String,
        data: MigrationEventData
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.data = data
    }

    /// The event an outbox row holds; `nil` when the row's type or data is not one this build knows.
    public init?(_ event: OutboxEvent) {
        guard let type = MigrationEventType(rawValue: event.draft.type),
            case .object(var object)? = try? JSONParser.parse(event.draft.data)
        else { return nil }
        object.updateValue(.string(event.draft.migrationId), forKey: "migrationId")
        object.updateValue(.int(Int(event.sequence)), forKey: "sequence")
        guard let data = MigrationEventData(object) else { return nil }
        self.init(
            id: event.draft.id,
            source: event.draft.source,
            type: type,
            time: event.draft.time,
            subject: event.draft.subject,
            data: data
        )
    }

    /// The outbox draft of this event: the store assigns the sequence (``MigrationEventData/sequence`` is ignored).
    public func draft(registryUpdate: RegistryUpdate? = nil) -> OutboxDraft {
        OutboxDraft(
            id: self.id,
            type: self.type.rawValue,
            source: self.source,
            subject: self.subject,
            time: self.time,
            migrationId: self.data.migrationId,
            data: JSONValue.object(JSONObject(self.data.optionalMembers)).jsonString(),
            registryUpdate: registryUpdate
        )
    }

    /// The structured-mode JSON object.
    public var jsonObject: JSONObject {
        JSONObject([
            ("specversion", JSONValue.string(Self.specVersion)),
            ("id", .string(self.id)),
            ("source", .string(self.source)),
            ("type", .string(self.type.rawValue)),
            ("subject", .string(self.subject)),
            ("time", .string(Self.timestamp(self.time))),
            ("datacontenttype", .string(Self.dataContentType)),
            ("data", .object(self.data.jsonObject)),
        ])
    }

    /// The structured-mode JSON, one line, UTF-8.
    public func jsonBytes() -> [UInt8] { JSONValue.object(self.jsonObject).jsonBytes() }

    /// Parses a structured-mode event; throws naming what is wrong.
    public init(json bytes: [UInt8]) throws(MigrationEventError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw MigrationEventError("not JSON: \(error)")
        }
        guard case .object(let object) = value else { throw MigrationEventError("not a JSON object") }
        func string(_ key: String) throws(MigrationEventError) -> String {
            guard case .string(let text)? = object[key] else {
                throw MigrationEventError("member \"\(key)\" is missing or not a string")
            }
            return text
        }
        guard try string("specversion") == Self.specVersion else {
            throw MigrationEventError("specversion is not \(Self.specVersion)")
        }
        let typeName = try string("type")
        guard let type = MigrationEventType(rawValue: typeName) else {
            throw MigrationEventError("unknown type \"\(typeName)\"")
        }
        let timeText = try string("time")
        guard let time = Self.parseTimestamp(timeText) else {
            throw MigrationEventError("time \"\(timeText)\" is not RFC 3339")
        }
        guard case .object(let dataObject)? = object["data"], let data = MigrationEventData(dataObject) else {
            throw MigrationEventError("data is missing, or lacks migrationId/sequence, or has a member of wrong type")
        }
        self.init(
            id: try string("id"),
            source: try string("source"),
            type: type,
            time: time,
            subject: try string("subject"),
            data: data
        )
    }

    static func timestamp(_ milliseconds: Int64) -> String { MigrationEventTime.text(milliseconds) }

    static func parseTimestamp(_ text: String) -> Int64? { MigrationEventTime.milliseconds(text) }
}

/// The timestamps of events: RFC 3339, UTC, milliseconds.
public enum MigrationEventTime {
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-29T12:00:00.123Z`. The milliseconds are written from the
    /// integer, not through a `Double` (which would turn .123 into .122).
    public static func text(_ milliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        Self.write(milliseconds, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``text(_:)``'s form of `milliseconds`. Years 0 to 9999 are computed from the day count (the civil
    /// calendar arithmetic of RuleSQL's `CivilDate`, after H. Hinnant): Foundation's formatter
    /// was a large part of rendering each event in the delivery loop. Other years go through Foundation.
    public static func write(_ milliseconds: Int64, into bytes: inout [UInt8]) {
        let (seconds, fraction) = Self.split(milliseconds)
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (civilYear, civilMonth, civilDay) = CivilDate.fromDays(Int(days))
        let (year, month, day) = (Int64(civilYear), Int64(civilMonth), Int64(civilDay))
        guard (0...9_999).contains(year) else {
            bytes.append(contentsOf: Self.foundationText(milliseconds).utf8)
            return
        }
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3_600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(fraction, 3)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// ``text(_:)`` through Foundation's ISO 8601 formatter (years outside 0 to 9999).
    static func foundationText(_ milliseconds: Int64) -> String {
        let (seconds, fraction) = Self.split(milliseconds)
        let whole = Date(timeIntervalSince1970: Double(seconds))
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Reads an RFC 3339 timestamp, with or without fractional seconds (beyond milliseconds ignored); `nil` if it
    /// is not one.
    public static func milliseconds(_ text: String) -> Int64? {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt)
        guard let dot = text.firstIndex(of: ".") else {
            return (try? style.parse(text)).map { Int64($0.timeIntervalSince1970) * 1000 }
        }
        let afterDot = text[text.index(after: dot)...]
        let digits = afterDot.prefix(while: \.isASCII).prefix(while: \.isNumber)
        guard !digits.isEmpty, let date = try? style.parse(String(text[..<dot]) + afterDot.dropFirst(digits.count))
        else { return nil }
        let millis = Int64(String((digits + "00").prefix(3))) ?? 0
        return Int64(date.timeIntervalSince1970) * 1000 + millis
    }

    /// Whole seconds and milliseconds, flooring (so times before 1970 work too).
    static func split(_ milliseconds: Int64) -> (Int64, Int64) {
        var seconds = milliseconds / 1000
        var fraction = milliseconds % 1000
        if fraction < 0 {
            seconds -= 1
            fraction += 1000
        }
        return (seconds, fraction)
    }
}

/// An event that cannot be read: what is wrong with it.
public struct MigrationEventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    /// A sentence.
    public var description: String { "migration event: \(self.message)" }
}
