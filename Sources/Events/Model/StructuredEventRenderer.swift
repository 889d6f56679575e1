//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import JSON
import StateStore

/// Writes an outbox row as its structured-mode CloudEvent without parsing the row's stored `data`: the envelope is
/// written member by member and the stored `data` members are spliced in after `migrationId` and `sequence`.
///
/// Why not ``MigrationEvent/init(_:)`` + ``MigrationEvent/jsonBytes()``: parsing the stored JSON only to write it
/// again was 30 % of the delivery loop's CPU (Benchmarks/README.md, "Burst to an AMQP sink"). The bytes are the same:
/// the stored `data` is what ``MigrationEvent/draft(registryUpdate:)`` wrote with the same serializer, in the same
/// member order (`StructuredEventRendererTests` compares both ways for every event type).
///
/// The stored `data` is trusted as far as its shape: one JSON object (`{…}`, surrounding whitespace allowed) whose
/// members are not `migrationId` or `sequence` (``OutboxDraft/data`` says so). Members this build does not know (a
/// newer build's) are passed on as they are: tolerant, and no gap in the sequence.
public enum StructuredEventRenderer {
    /// The event of `row`, one line of UTF-8 JSON; `nil` when its type is not one this build knows or its stored
    /// `data` is not a JSON object (the delivery loop then stops at that row rather than skip it: a gap).
    public static func render(_ row: OutboxEvent) -> [UInt8]? {
        guard MigrationEventType(rawValue: row.draft.type) != nil,
            let members = Self.objectMembers(row.draft.data)
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + row.draft.data.utf8.count)
        bytes.append(contentsOf: Self.opening)
        JSONWriter.writeString(row.draft.id, into: &bytes)
        Self.member("source", into: &bytes)
        JSONWriter.writeString(row.draft.source, into: &bytes)
        Self.member("type", into: &bytes)
        JSONWriter.writeString(row.draft.type, into: &bytes)
        Self.member("subject", into: &bytes)
        JSONWriter.writeString(row.draft.subject, into: &bytes)
        Self.member("time", into: &bytes)
        bytes.append(UInt8(ascii: "\""))
        MigrationEventTime.write(row.draft.time, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: Self.dataOpening)
        JSONWriter.writeString(row.draft.migrationId, into: &bytes)
        Self.member("sequence", into: &bytes)
        JSONWriter.writeInteger(Int(row.sequence), into: &bytes)
        if !members.isEmpty {
            bytes.append(UInt8(ascii: ","))
            bytes.append(contentsOf: members)
        }
        bytes.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "}")])
        return bytes
    }

    /// `{"specversion":"1.0","id":`
    private static let opening = Array("{\"specversion\":\"\(MigrationEvent.specVersion)\",\"id\":".utf8)
    /// From after `time` to the value of `data.migrationId`.
    private static let dataOpening = Array(
        ",\"datacontenttype\":\"\(MigrationEvent.dataContentType)\",\"data\":{\"migrationId\":".utf8
    )

    /// Appends `,"key":`.
    private static func member(_ key: StaticString, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// The members of a stored JSON object, between its braces and trimmed (empty for `{}`); `nil` when the text is
    /// not braced.
    static func objectMembers(_ text: String) -> ArraySlice<UInt8>? {
        let bytes = Array(text.utf8)
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
            let last = bytes.lastIndex(where: { !isSpace($0) }),
            first < last, bytes[first] == UInt8(ascii: "{"), bytes[last] == UInt8(ascii: "}")
        else { return nil }
        var inner = bytes[(first + 1)..<last]
        while let byte = inner.first, isSpace(byte) { inner = inner.dropFirst() }
        while let byte = inner.last, isSpace(byte) { inner = inner.dropLast() }
        return inner
    }
}
