//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An AMQP 1.0 message as its encoded bytes (`AMQPDelivery.encoded`), split into its sections without decoding
/// them, so it can be forwarded byte for byte. Reads the few values a bridge needs (the message id, one
/// application property, the body's bytes) in place, and makes the bytes to send on with one application
/// property set.
///
/// `init(bytes:)` checks the whole encoding: every value is skipped over by its declared size (AMQP 1.0 part 1,
/// §1.6), the sections are the ones part 3, §3.2 defines, each at most once and in its order, and the body is
/// one `amqp-value`, or `data` sections, or `amqp-sequence` sections. Anything else throws, so a message that
/// made it through is safe to read and to forward.
///
/// ```swift
/// let message = try AMQPEncodedMessage(bytes: delivery.encoded)
/// let bytes = message.forwarded(settingApplicationProperty: "bridge", to: "instance-1")
/// let outcome = try await downstream.send(encoded: bytes)
/// ```
public struct AMQPEncodedMessage: Sendable {
    /// The sections of a message (AMQP 1.0 part 3, §3.2), by their descriptor codes, in the order they appear.
    public enum SectionKind: UInt8, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
        /// `header` (0x70): durable, priority, ttl, first-acquirer, delivery-count.
        case header = 0x70
        /// `delivery-annotations` (0x71): for the next hop only; never forwarded.
        case deliveryAnnotations = 0x71
        /// `message-annotations` (0x72): broker annotations that travel with the message.
        case messageAnnotations = 0x72
        /// `properties` (0x73): message-id, user-id, to, subject, … (immutable, part of the bare message).
        case properties = 0x73
        /// `application-properties` (0x74): the application's string-keyed map.
        case applicationProperties = 0x74
        /// A `data` body section (0x75): binary.
        case data = 0x75
        /// An `amqp-sequence` body section (0x76): a list.
        case amqpSequence = 0x76
        /// The `amqp-value` body section (0x77): any one value.
        case amqpValue = 0x77
        /// `footer` (0x78): annotations computed over the whole message (hashes, signatures).
        case footer = 0x78

        /// Whether this is a body section.
        public var isBody: Bool { self == .data || self == .amqpSequence || self == .amqpValue }

        /// The section's name in the specification, e.g. `application-properties`.
        public var description: String {
            switch self {
            case .header: return "header"
            case .deliveryAnnotations: return "delivery-annotations"
            case .messageAnnotations: return "message-annotations"
            case .properties: return "properties"
            case .applicationProperties: return "application-properties"
            case .data: return "data"
            case .amqpSequence: return "amqp-sequence"
            case .amqpValue: return "amqp-value"
            case .footer: return "footer"
            }
        }

        /// The section's symbolic descriptor, e.g. `amqp:application-properties:map`.
        var symbolicDescriptor: String {
            switch self {
            case .header: return "amqp:header:list"
            case .deliveryAnnotations: return "amqp:delivery-annotations:map"
            case .messageAnnotations: return "amqp:message-annotations:map"
            case .properties: return "amqp:properties:list"
            case .applicationProperties: return "amqp:application-properties:map"
            case .data: return "amqp:data:binary"
            case .amqpSequence: return "amqp:amqp-sequence:list"
            case .amqpValue: return "amqp:amqp-value:*"
            case .footer: return "amqp:footer:map"
            }
        }

        /// Orders sections as they must appear in a message.
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Where one section is in `bytes`.
    public struct Section: Sendable, Hashable {
        /// Which section.
        public let kind: SectionKind
        /// The whole section: the described-type constructor, the descriptor and the value.
        public let range: Range<Int>
        /// The section's value alone (the list, map, binary, … after the descriptor).
        public let valueRange: Range<Int>
    }

    /// The encoded message, exactly as given.
    public let bytes: [UInt8]
    /// Its sections, in order.
    public let sections: [Section]

    /// Splits `bytes` into sections, checking the whole encoding. Throws `protocolViolation` naming the byte
    /// offset and what is wrong there when the bytes are not a valid AMQP 1.0 message (truncated, garbage, a
    /// section out of order, …).
    public init(bytes: [UInt8]) throws(AMQPError) {
        self.bytes = bytes
        self.sections = try Self.sections(of: bytes)
    }

    /// A message whose sections were already found (and checked) by ``sections(of:)``.
    init(bytes: [UInt8], checkedSections sections: [Section]) {
        self.bytes = bytes
        self.sections = sections
    }

    /// The first section of `kind`, if the message has one.
    public func section(_ kind: SectionKind) -> Section? {
        self.sections.first { $0.kind == kind }
    }

    /// The kind of the body sections (`data`, `amqp-sequence` or `amqp-value`); nil when there is no body.
    public var bodyKind: SectionKind? {
        self.sections.first(where: \.kind.isBody)?.kind
    }

    /// The body sections exactly as encoded, descriptors included, one after the other (they are contiguous):
    /// what identifies the payload whatever its kind, e.g. for a digest. Empty when there is no body.
    public var body: ArraySlice<UInt8> {
        guard let first = self.sections.first(where: \.kind.isBody), let last = self.sections.last(where: \.kind.isBody) else {
            return self.bytes[self.bytes.endIndex...]
        }
        return self.bytes[first.range.lowerBound..<last.range.upperBound]
    }

    /// The payload of a body made of exactly one `data` section (how the IoT platform delivers); nil for any
    /// other body (use `body` then).
    public var dataBody: [UInt8]? {
        var only: Section?
        for section in self.sections where section.kind.isBody {
            guard only == nil else { return nil }
            only = section
        }
        guard let only, only.kind == .data else { return nil }
        let scanner = AMQPEncodingScanner(self.bytes)
        return scanner.content(ofVariableAt: only.valueRange.lowerBound).map { Array(self.bytes[$0]) }
    }

    /// The `message-id` field of the properties section; nil when there is none (no section, or a null field).
    public var messageID: AMQPEncodedValue? {
        guard let properties = self.section(.properties) else { return nil }
        let scanner = AMQPEncodingScanner(self.bytes)
        guard let list = scanner.elements(ofCompoundAt: properties.valueRange.lowerBound), list.count > 0 else { return nil }
        let value = scanner.value(at: list.range.lowerBound)
        return value.typeName == "null" ? nil : value
    }

    /// The application property `key` (a string key; a symbol key with the same text matches too), nil when
    /// the message has none. With duplicate keys (invalid AMQP), the first.
    public func applicationProperty(_ key: String) -> AMQPEncodedValue? {
        guard let section = self.section(.applicationProperties) else { return nil }
        let scanner = AMQPEncodingScanner(self.bytes)
        guard let map = scanner.elements(ofCompoundAt: section.valueRange.lowerBound) else { return nil }
        var position = map.range.lowerBound
        for _ in 0..<(map.count / 2) {
            let valueStart = scanner.skip(position)
            if scanner.isText(at: position, equalTo: key.utf8) { return scanner.value(at: valueStart) }
            position = scanner.skip(valueStart)
        }
        return nil
    }

    /// The bytes to send downstream: the delivery-annotations section dropped (it is for one hop only), the
    /// application property `key` set to the string `value`, and every other byte as received. In
    /// application-properties, an entry with that key (string or symbol) has its value replaced (every one, if
    /// the sender repeated the key), otherwise the entry is appended; every other entry keeps its bytes, and
    /// only the map's size and count change (a map8 becomes a map32 when it outgrows 255 bytes or entries).
    /// Without an application-properties section, one is inserted after properties, before the body.
    ///
    /// A footer is copied as it is, so a signature it carries over the bare message no longer matches.
    public func forwarded(settingApplicationProperty key: String, to value: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(self.bytes.count + 2 * key.utf8.count + value.utf8.count + 24)
        var wroteProperties = false
        for section in self.sections {
            switch section.kind {
            case .deliveryAnnotations:
                continue
            case .applicationProperties:
                // The section's own descriptor bytes (numeric or symbolic) stay as they were.
                output.append(contentsOf: self.bytes[section.range.lowerBound..<section.valueRange.lowerBound])
                self.appendApplicationProperties(section.valueRange.lowerBound, setting: key, to: value, into: &output)
                wroteProperties = true
            default:
                if !wroteProperties && section.kind > .applicationProperties {
                    Self.appendApplicationPropertiesSection(key: key, value: value, into: &output)
                    wroteProperties = true
                }
                output.append(contentsOf: self.bytes[section.range])
            }
        }
        if !wroteProperties { Self.appendApplicationPropertiesSection(key: key, value: value, into: &output) }
        return output
    }

    /// The bytes to send to the next hop unchanged: every section as received except delivery-annotations,
    /// which are for one hop only (AMQP 1.0 part 3, §3.2.2).
    public var withoutDeliveryAnnotations: [UInt8] {
        guard let annotations = self.section(.deliveryAnnotations) else { return self.bytes }
        var output = Array(self.bytes[..<annotations.range.lowerBound])
        output.append(contentsOf: self.bytes[annotations.range.upperBound...])
        return output
    }

    // MARK: - Forwarding

    /// The application-properties map at `offset` with `key` set to `value`.
    private func appendApplicationProperties(_ offset: Int, setting key: String, to value: String, into output: inout [UInt8]) {
        let scanner = AMQPEncodingScanner(self.bytes)
        // Validated: the value of an application-properties section is a map or null (empty).
        let map = scanner.elements(ofCompoundAt: offset) ?? (0, offset..<offset)
        var entries: [UInt8] = []
        entries.reserveCapacity(map.range.count + key.utf8.count + value.utf8.count + 10)
        var count = map.count
        var replaced = false
        var position = map.range.lowerBound
        for _ in 0..<(map.count / 2) {
            let valueStart = scanner.skip(position)
            let valueEnd = scanner.skip(valueStart)
            if scanner.isText(at: position, equalTo: key.utf8) {
                entries.append(contentsOf: self.bytes[position..<valueStart])
                Self.appendString(value, into: &entries)
                replaced = true
            } else {
                entries.append(contentsOf: self.bytes[position..<valueEnd])
            }
            position = valueEnd
        }
        if !replaced {
            Self.appendString(key, into: &entries)
            Self.appendString(value, into: &entries)
            count += 2
        }
        // A map8 stays one while its size (count byte + entries) and count fit in a byte; a map32 stays a map32.
        let isMap8 = self.bytes[offset] != 0xd1 && entries.count + 1 <= 0xff && count <= 0xff
        Self.appendMapHeader(count: count, entriesSize: entries.count, map8: isMap8, into: &output)
        output.append(contentsOf: entries)
    }

    /// A new application-properties section holding only `key` = `value`.
    private static func appendApplicationPropertiesSection(key: String, value: String, into output: inout [UInt8]) {
        var entries: [UInt8] = []
        self.appendString(key, into: &entries)
        self.appendString(value, into: &entries)
        output.append(contentsOf: [0x00, 0x53, SectionKind.applicationProperties.rawValue])
        self.appendMapHeader(count: 2, entriesSize: entries.count, map8: entries.count + 1 <= 0xff, into: &output)
        output.append(contentsOf: entries)
    }

    private static func appendMapHeader(count: Int, entriesSize: Int, map8: Bool, into output: inout [UInt8]) {
        if map8 {
            output.append(contentsOf: [0xc1, UInt8(entriesSize + 1), UInt8(count)])
        } else {
            output.append(0xd1)
            self.appendUInt32(entriesSize + 4, into: &output)
            self.appendUInt32(count, into: &output)
        }
    }

    /// `text` as an AMQP string: str8 up to 255 bytes, else str32.
    private static func appendString(_ text: String, into output: inout [UInt8]) {
        let utf8 = text.utf8
        if utf8.count <= 0xff {
            output.append(contentsOf: [0xa1, UInt8(utf8.count)])
        } else {
            output.append(0xb1)
            self.appendUInt32(utf8.count, into: &output)
        }
        output.append(contentsOf: utf8)
    }

    private static func appendUInt32(_ value: Int, into output: inout [UInt8]) {
        let value = UInt32(truncatingIfNeeded: value)
        for shift in [24, 16, 8, 0] as [UInt32] { output.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    // MARK: - Splitting

    /// Checks that `bytes` are a valid message (see `init(bytes:)`) without keeping the split.
    static func validate(_ bytes: [UInt8]) throws(AMQPError) {
        _ = try self.sections(of: bytes)
    }

    /// Splits and checks a whole message (see `init(bytes:)`).
    static func sections(of bytes: [UInt8]) throws(AMQPError) -> [Section] {
        guard !bytes.isEmpty else {
            throw AMQPError(
                .protocolViolation,
                "not a valid AMQP message encoding: there are no bytes (an AMQP message has at least one section)"
            )
        }
        let scanner = AMQPEncodingScanner(bytes)
        var sections: [Section] = []
        // Header, annotations, properties, application properties, one body section, footer: one allocation.
        sections.reserveCapacity(6)
        var offset = 0
        while offset < bytes.count {
            guard bytes[offset] == 0x00 else {
                throw AMQPEncodingScanner.error(
                    "expected a section (a described value, 0x00) but found \(AMQPEncodingScanner.hex(bytes[offset]))",
                    at: offset
                )
            }
            let (kind, valueStart) = try self.sectionKind(descriptorAt: offset + 1, scanner)
            if let previous = sections.last?.kind {
                try self.checkOrder(kind, after: previous, at: offset)
            }
            let end = try scanner.end(ofValueAt: valueStart, limit: bytes.count, depth: 1)
            try self.checkType(of: kind, valueAt: valueStart, bytes)
            sections.append(Section(kind: kind, range: offset..<end, valueRange: valueStart..<end))
            offset = end
        }
        return sections
    }

    /// The section a descriptor at `offset` names, and where the section's value starts.
    private static func sectionKind(
        descriptorAt offset: Int,
        _ scanner: AMQPEncodingScanner
    ) throws(AMQPError) -> (SectionKind, Int) {
        let bytes = scanner.bytes
        guard offset < bytes.count else {
            throw AMQPEncodingScanner.error("a section has no descriptor (the data ends here)", at: offset)
        }
        let end = try scanner.end(ofValueAt: offset, limit: bytes.count, depth: 1)
        var code: UInt64?
        switch bytes[offset] {
        case 0x44:
            code = 0
        case 0x53:
            code = UInt64(bytes[offset + 1])
        case 0x80:
            code = bytes[(offset + 1)..<(offset + 9)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        case 0xa3, 0xb3:
            let name = scanner.content(ofVariableAt: offset).map { bytes[$0] } ?? []
            code = SectionKind.allCases.first { name.elementsEqual($0.symbolicDescriptor.utf8) }.map { UInt64($0.rawValue) }
            guard code != nil else {
                throw AMQPEncodingScanner.error(
                    "'\(String(decoding: name, as: UTF8.self))' is not the symbolic descriptor of a message section",
                    at: offset
                )
            }
        default:
            throw AMQPEncodingScanner.error(
                "a section descriptor must be a ulong or a symbol, not \(AMQPEncodingScanner.name(bytes[offset]))",
                at: offset
            )
        }
        guard let code, code <= 0xff, let kind = SectionKind(rawValue: UInt8(code)) else {
            throw AMQPEncodingScanner.error(
                "descriptor \(code.map { "0x" + String($0, radix: 16) } ?? "?") is not a message section (0x70 to 0x78)",
                at: offset
            )
        }
        return (kind, end)
    }

    /// Sections come at most once each, in their order; the body is one amqp-value, or data sections, or
    /// amqp-sequence sections, never a mix.
    private static func checkOrder(_ kind: SectionKind, after previous: SectionKind, at offset: Int) throws(AMQPError) {
        if kind.isBody && previous.isBody {
            guard kind == previous && kind != .amqpValue else {
                throw AMQPEncodingScanner.error(
                    "a \(kind) section follows a \(previous) section; a body is one amqp-value, or data sections, or "
                        + "amqp-sequence sections",
                    at: offset
                )
            }
        } else if kind <= previous {
            throw AMQPEncodingScanner.error(
                "a \(kind) section follows the \(previous) section; sections come once each, in the order header, "
                    + "delivery-annotations, message-annotations, properties, application-properties, body, footer",
                at: offset
            )
        }
    }

    /// The value each section must hold: a list, a map (null allowed where the section is optional content), a
    /// binary for data; amqp-value holds anything.
    private static func checkType(of kind: SectionKind, valueAt offset: Int, _ bytes: [UInt8]) throws(AMQPError) {
        let code = bytes[offset]
        let expected: String
        switch kind {
        case .header, .properties:
            if code == 0x40 || code == 0x45 || code == 0xc0 || code == 0xd0 { return }
            expected = "a list"
        case .amqpSequence:
            if code == 0x45 || code == 0xc0 || code == 0xd0 { return }
            expected = "a list"
        case .deliveryAnnotations, .messageAnnotations, .applicationProperties, .footer:
            if code == 0x40 || code == 0xc1 || code == 0xd1 { return }
            expected = "a map"
        case .data:
            if code == 0xa0 || code == 0xb0 { return }
            expected = "a binary"
        case .amqpValue:
            return
        }
        throw AMQPEncodingScanner.error(
            "the \(kind) section holds \(AMQPEncodingScanner.name(code)), not \(expected)",
            at: offset
        )
    }
}
