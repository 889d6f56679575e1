//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Foundation
import RuleSQL
import StateStore
import Testing

/// The delivery loop's rendering: the stored `data` spliced into the envelope gives the very bytes that parsing the
/// row and writing the event again gives, the schema accepts them, and the timestamps match Foundation's.
@Suite struct StructuredEventRendererTests {
    /// Every type, committed to a real store and read back as the delivery loop reads it.
    static func committedRows() async throws -> [OutboxEvent] {
        let folder = try EventsFolder()
        let store = try folder.open()
        var events = MigrationEventTests.oneOfEach()
        // Text that needs escaping, non-ASCII, and a platform object with nested values.
        events[0].subject = "a1PK/dev \"quoted\" \\ é"
        events[0].data.deviceName = "dev \"quoted\" \\ é"
        events[0].data.platform = [
            "taskId": .string("t-1\n"),
            "nested": .object(["list": .array([.int(1), .double(2.5), .null, .bool(true)])]),
        ]
        // A resource event with no optional member at all: data is stored as `{}`.
        events[3].data = MigrationEventData(migrationId: "m-empty")
        _ = try await store.commit(events.map { $0.draft() })
        return try await store.undeliveredEvents(limit: 100)
    }

    @Test func theSplicedBytesAreThoseOfTheParsedEvent() async throws {
        let rows = try await Self.committedRows()
        #expect(rows.count == 8)
        for row in rows {
            let spliced = try #require(StructuredEventRenderer.render(row))
            let parsed = try #require(MigrationEvent(row)).jsonBytes()
            #expect(
                String(decoding: spliced, as: UTF8.self) == String(decoding: parsed, as: UTF8.self),
                "position \(row.position)"
            )
        }
    }

    @Test func theSplicedEventsValidateAgainstTheSchema() async throws {
        let rows = try await Self.committedRows()
        let lines = try rows.map { String(decoding: try #require(StructuredEventRenderer.render($0)), as: UTF8.self) }
        // Line 4 has an empty stored `data` (the splice's edge case), which the schema rightly refuses for its type.
        let violations = try await schemaViolations(lines.enumerated().filter { $0.offset != 3 }.map(\.element))
        #expect(violations == [], "\(violations)")
        let empty = try MigrationEvent(json: Array(lines[3].utf8))
        #expect(empty.data.migrationId == "m-empty")
        #expect(empty.data.productKey == nil)
    }

    @Test func unknownTypesAndDataThatIsNoObjectAreNotRendered() async throws {
        let row = try #require(try await Self.committedRows().first)
        var unknownType = row
        unknownType.draft.type = "com.iotbridge.migration.device.teleported"
        #expect(StructuredEventRenderer.render(unknownType) == nil)
        for data in ["", "[]", "\"x\"", "{", "}", "  "] {
            var broken = row
            broken.draft.data = data
            #expect(StructuredEventRenderer.render(broken) == nil, "data \(data)")
        }
        var spaced = row
        spaced.draft.data = " \n{ } "
        let text = String(decoding: try #require(StructuredEventRenderer.render(spaced)), as: UTF8.self)
        #expect(text.hasSuffix("\"sequence\":\(row.sequence)}}"))
    }

    @Test func timestampsMatchFoundationsFormatter() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        var milliseconds: [Int64] = [0, 1, 999, -1, -1_000, -86_400_001, 951_782_400_000, 4_107_542_399_999]
        // Every day from 1900 to 2100 at a time of day that moves, and leap days.
        var day: Int64 = -25_567
        while day < 47_482 {
            milliseconds.append(day * 86_400_000 + (day * 7_919_123) % 86_400_000)
            day += 1
        }
        var mismatches: [String] = []
        for value in milliseconds {
            let ours = MigrationEventTime.text(value)
            let (seconds, fraction) = (value.floorDiv(1_000), value.floorMod(1_000))
            let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(style)
            let expected = String(whole.prefix(19)) + "." + String(format: "%03d", fraction) + "Z"
            if ours != expected { mismatches.append("\(value): \(ours) != \(expected)") }
        }
        #expect(mismatches.prefix(5) == [])
        #expect(MigrationEventTime.text(1_795_000_000_123) == "2026-11-18T11:06:40.123Z")
        #expect(MigrationEventTime.milliseconds(MigrationEventTime.text(-1)) == -1)
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }

    fileprivate func floorMod(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
