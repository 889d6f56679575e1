//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// One AMQP value read from an encoded message, reduced to what identifies it: its AMQP type and its value's
/// bytes, whatever width the sender chose to encode it with. So `str8 "42"` equals `str32 "42"`, `smallulong 42`
/// equals `ulong 42`, but the string `"42"` never equals the ulong `42` — what de-duplicating by message id
/// needs.
public struct AMQPEncodedValue: Hashable, Sendable, CustomStringConvertible {
    /// The AMQP type, independent of the encoding's width: `null`, `boolean`, `ubyte`, `ushort`, `uint`, `ulong`,
    /// `byte`, `short`, `int`, `long`, `float`, `double`, `decimal32`, `decimal64`, `decimal128`, `char`,
    /// `timestamp`, `uuid`, `binary`, `string`, `symbol`, `list`, `map`, `array` or `described`.
    public let typeName: String
    /// The value as bytes that do not depend on the encoding's width:
    /// - `string`, `symbol`, `binary`: the content bytes;
    /// - integers (`ubyte` … `long`): the value as 8 bytes, big-endian (signed types sign-extended);
    /// - `timestamp`: 8 bytes, big-endian milliseconds since the Unix epoch;
    /// - `boolean`: one byte, 0 or 1; `null`: no bytes;
    /// - `float`, `double`, `char`, decimals, `uuid`: their encoded bytes (big-endian, as on the wire);
    /// - `list`, `map`, `array`, `described`: the element count (8 bytes, big-endian), then for an array its
    ///   element type name (length-prefixed), then each element as its type name (length-prefixed, 1 byte) and
    ///   its canonical bytes (length-prefixed, 8 bytes) — so compounds compare by their elements' values, in
    ///   order (a map's entry order counts). An array of zero-width elements (`null`, `true`, …) lists one.
    public let canonicalBytes: [UInt8]

    /// Creates a value from its type name and canonical bytes.
    public init(typeName: String, canonicalBytes: [UInt8]) {
        self.typeName = typeName
        self.canonicalBytes = canonicalBytes
    }

    /// The text of a `string` or `symbol`; nil for other types or when the bytes are not valid UTF-8 (a broken
    /// sender: AMQP strings must be UTF-8).
    public var stringValue: String? {
        guard self.typeName == "string" || self.typeName == "symbol" else { return nil }
        return String(validating: self.canonicalBytes, as: UTF8.self)
    }

    /// The value as a 64-bit integer, as `AMQPValue.int64Value` gives it for the decoded value: any integer type
    /// or a timestamp (a `ulong` above `Int64.max` is nil), or a `string` of digits; nil for anything else.
    public var int64Value: Int64? {
        switch self.typeName {
        case "byte", "short", "int", "long", "ubyte", "ushort", "uint", "timestamp":
            guard self.canonicalBytes.count == 8 else { return nil }
            return Int64(bitPattern: self.canonicalBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        case "ulong":
            guard self.canonicalBytes.count == 8 else { return nil }
            return Int64(exactly: self.canonicalBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        case "string":
            return self.stringValue.flatMap { Int64($0) }
        default:
            return nil
        }
    }

    /// Whether `canonicalBytes` are valid UTF-8: false for a `string` that breaks the AMQP rule; true for a
    /// `binary` that happens to be text (useful to show a binary message id).
    public var isValidUTF8: Bool {
        String(validating: self.canonicalBytes, as: UTF8.self) != nil
    }

    /// The type and the value, for logs: `string(42)`, `ulong(42)`, `uuid(12345678…)`.
    public var description: String {
        if let text = self.stringValue { return "\(self.typeName)(\(text))" }
        switch self.typeName {
        case "ubyte", "ushort", "uint", "ulong":
            return "\(self.typeName)(\(self.canonicalBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))"
        case "byte", "short", "int", "long", "timestamp":
            return "\(self.typeName)(\(Int64(bitPattern: self.canonicalBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))"
        case "boolean":
            return "boolean(\(self.canonicalBytes == [1]))"
        case "null":
            return "null"
        default:
            let hex = self.canonicalBytes.prefix(32).map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            return "\(self.typeName)(\(hex.joined())\(self.canonicalBytes.count > 32 ? "…" : ""))"
        }
    }
}

/// Walks AMQP 1.0 encoded values (AMQP 1.0 part 1, §1.6) in place: where each one ends, checked against every
/// size and count it declares, without decoding it. Every primitive format code is known; a code AMQP does not
/// define is an error rather than something to skip by its width category, because in a message that only
/// happens when the bytes are garbage.
struct AMQPEncodingScanner {
    /// Values nested deeper than this are refused: the scanner recurses, and no real message nests anywhere
    /// near this deep (a hostile one could otherwise exhaust the stack).
    static let maximumDepth = 64

    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: - Skipping (validates)

    /// Where the value whose constructor is at `offset` ends, reading no further than `limit`.
    func end(ofValueAt offset: Int, limit: Int, depth: Int = 0) throws(AMQPError) -> Int {
        guard offset < limit else { throw Self.error("a value is missing (the data ends here)", at: offset) }
        let code = self.bytes[offset]
        guard code == 0x00 else { return try self.end(ofDataOf: code, at: offset + 1, limit: limit, depth: depth) }
        // A described value: its descriptor, then the value it describes.
        guard depth < Self.maximumDepth else { throw Self.tooDeep(at: offset) }
        let descriptorEnd = try self.end(ofValueAt: offset + 1, limit: limit, depth: depth + 1)
        return try self.end(ofValueAt: descriptorEnd, limit: limit, depth: depth + 1)
    }

    /// Where the data of a primitive value with format `code` ends when it starts at `start` (right after the
    /// constructor, or at an array element, which has none).
    func end(ofDataOf code: UInt8, at start: Int, limit: Int, depth: Int) throws(AMQPError) -> Int {
        if let width = Self.fixedWidth(code) {
            guard width <= limit - start else {
                throw Self.error("a \(Self.name(code)) needs \(width) bytes, \(max(0, limit - start)) remain", at: start - 1)
            }
            if code == 0x56, self.bytes[start] > 1 {
                throw Self.error("a boolean octet must be 0x00 or 0x01, not \(Self.hex(self.bytes[start]))", at: start)
            }
            return start + width
        }
        switch code {
        case 0xa0, 0xa1, 0xa3, 0xb0, 0xb1, 0xb3:
            let sizeWidth = code < 0xb0 ? 1 : 4
            let size = try self.size(width: sizeWidth, at: start, limit: limit, of: code)
            guard size <= limit - start - sizeWidth else {
                throw Self.error(
                    "a \(Self.name(code)) of \(size) bytes is truncated (\(max(0, limit - start - sizeWidth)) remain)",
                    at: start - 1
                )
            }
            return start + sizeWidth + size
        case 0xc0, 0xc1, 0xd0, 0xd1:
            return try self.end(ofCompound: code, at: start, limit: limit, depth: depth)
        case 0xe0, 0xf0:
            return try self.end(ofArray: code, at: start, limit: limit, depth: depth)
        default:
            throw Self.error("\(Self.hex(code)) is not an AMQP format code", at: start - 1)
        }
    }

    /// A list or map: size, count, then `count` complete values that must fill the size exactly.
    private func end(ofCompound code: UInt8, at start: Int, limit: Int, depth: Int) throws(AMQPError) -> Int {
        let width = code < 0xd0 ? 1 : 4
        let (end, count) = try self.sizeAndCount(width: width, at: start, limit: limit, of: code, minimum: width)
        if code & 0x0f == 0x01, count % 2 != 0 {
            throw Self.error("a \(Self.name(code)) holds \(count) elements; a map needs key-value pairs", at: start - 1)
        }
        guard depth < Self.maximumDepth else { throw Self.tooDeep(at: start - 1) }
        var position = start + 2 * width
        // Each element takes at least its constructor byte, so this runs at most `end - position` times.
        for _ in 0..<count {
            position = try self.end(ofValueAt: position, limit: end, depth: depth + 1)
        }
        guard position == end else {
            throw Self.error(
                "a \(Self.name(code)) has \(end - position) bytes left over after its \(count) elements",
                at: start - 1
            )
        }
        return end
    }

    /// An array: size, count, one element constructor (possibly described), then `count` constructor-less
    /// elements that must fill the size exactly.
    private func end(ofArray code: UInt8, at start: Int, limit: Int, depth: Int) throws(AMQPError) -> Int {
        let width = code == 0xe0 ? 1 : 4
        let (end, count) = try self.sizeAndCount(width: width, at: start, limit: limit, of: code, minimum: width + 1)
        guard depth < Self.maximumDepth else { throw Self.tooDeep(at: start - 1) }
        let (elementCode, first) = try self.elementConstructor(at: start + 2 * width, limit: end, depth: depth)
        if let elementWidth = Self.fixedWidth(elementCode) {
            // Computed, not looped: zero-width elements (null, true, …) could otherwise spin for 2^32 counts.
            guard (end - first) == count * elementWidth else {
                throw Self.error(
                    "an array of \(count) \(Self.name(elementCode)) elements needs \(count * elementWidth) bytes, "
                        + "its size leaves \(end - first)",
                    at: start - 1
                )
            }
            if elementCode == 0x56, let bad = self.bytes[first..<end].first(where: { $0 > 1 }) {
                throw Self.error("a boolean octet must be 0x00 or 0x01, not \(Self.hex(bad))", at: first)
            }
            return end
        }
        var position = first
        // Variable-width and compound elements each take at least their size byte, so this loop is bounded.
        for _ in 0..<count {
            position = try self.end(ofDataOf: elementCode, at: position, limit: end, depth: depth + 1)
        }
        guard position == end else {
            throw Self.error("an array has \(end - position) bytes left over after its \(count) elements", at: start - 1)
        }
        return end
    }

    /// An array's element constructor at `offset`: its primitive format code and where the first element starts.
    private func elementConstructor(at offset: Int, limit: Int, depth: Int) throws(AMQPError) -> (code: UInt8, first: Int) {
        var position = offset
        if self.bytes[position] == 0x00 {
            position = try self.end(ofValueAt: position + 1, limit: limit, depth: depth + 1)
            guard position < limit else { throw Self.error("an array's described constructor has no format code", at: offset) }
        }
        let code = self.bytes[position]
        guard code != 0x00, Self.typeName(code) != nil else {
            throw Self.error("\(Self.hex(code)) is not a format code an array element can have", at: position)
        }
        return (code, position + 1)
    }

    /// Reads a compound's size and count fields (`width` bytes each) and checks that the size fits.
    private func sizeAndCount(
        width: Int,
        at start: Int,
        limit: Int,
        of code: UInt8,
        minimum: Int
    ) throws(AMQPError) -> (end: Int, count: Int) {
        let size = try self.size(width: width, at: start, limit: limit, of: code)
        guard size >= minimum else {
            throw Self.error("a \(Self.name(code)) declares a size of \(size), too small for its own fields", at: start - 1)
        }
        guard size <= limit - start - width else {
            throw Self.error(
                "a \(Self.name(code)) of \(size) bytes is truncated (\(max(0, limit - start - width)) remain)",
                at: start - 1
            )
        }
        let end = start + width + size
        return (end, try self.size(width: width, at: start + width, limit: end, of: code))
    }

    /// A big-endian 1- or 4-byte size or count at `offset`.
    private func size(width: Int, at offset: Int, limit: Int, of code: UInt8) throws(AMQPError) -> Int {
        guard width <= limit - offset else {
            throw Self.error("a \(Self.name(code)) is cut off inside its size or count field", at: offset - 1)
        }
        var value = 0
        for index in offset..<(offset + width) { value = value << 8 | Int(self.bytes[index]) }
        return value
    }

    // MARK: - Reading (on input the skipper accepted)

    /// The end of the value at `offset`, for input already validated.
    func skip(_ offset: Int) -> Int {
        (try? self.end(ofValueAt: offset, limit: self.bytes.count)) ?? self.bytes.count
    }

    /// A list's or map's element count and the range its elements fill; null and list0 count as empty. Nil for
    /// any other value.
    func elements(ofCompoundAt offset: Int) -> (count: Int, range: Range<Int>)? {
        self.elements(of: self.bytes[offset], at: offset + 1)
    }

    /// `elements(ofCompoundAt:)` for the data of format `code` starting at `start` (also an array element's).
    private func elements(of code: UInt8, at start: Int) -> (count: Int, range: Range<Int>)? {
        switch code {
        case 0x40, 0x45:
            return (0, start..<start)
        case 0xc0, 0xc1:
            return (Int(self.bytes[start + 1]), (start + 2)..<(start + 1 + Int(self.bytes[start])))
        case 0xd0, 0xd1:
            return (self.uint32(at: start + 4), (start + 8)..<(start + 4 + self.uint32(at: start)))
        default:
            return nil
        }
    }

    /// The content of a string, symbol or binary at `offset`; nil for other values.
    func content(ofVariableAt offset: Int) -> Range<Int>? {
        self.content(of: self.bytes[offset], at: offset + 1)
    }

    /// `content(ofVariableAt:)` for the data of format `code` starting at `start` (also an array element's).
    private func content(of code: UInt8, at start: Int) -> Range<Int>? {
        switch code {
        case 0xa0, 0xa1, 0xa3:
            return (start + 1)..<(start + 1 + Int(self.bytes[start]))
        case 0xb0, 0xb1, 0xb3:
            return (start + 4)..<(start + 4 + self.uint32(at: start))
        default:
            return nil
        }
    }

    /// Whether the value at `offset` is a string or symbol whose bytes are `text`.
    func isText(at offset: Int, equalTo text: String.UTF8View) -> Bool {
        switch self.bytes[offset] {
        case 0xa1, 0xa3, 0xb1, 0xb3:
            guard let range = self.content(ofVariableAt: offset) else { return false }
            return self.bytes[range].elementsEqual(text)
        default:
            return false
        }
    }

    /// The value at `offset`, reduced to its type and canonical bytes.
    func value(at offset: Int, depth: Int = 0) -> AMQPEncodedValue {
        let code = self.bytes[offset]
        guard code == 0x00 else { return self.value(of: code, at: offset + 1, depth: depth) }
        let descriptor = self.value(at: offset + 1, depth: depth + 1)
        let described = self.value(at: self.skip(offset + 1), depth: depth + 1)
        return AMQPEncodedValue(typeName: "described", canonicalBytes: Self.canonical(of: [descriptor, described]))
    }

    /// The value of format `code` whose data starts at `start`.
    private func value(of code: UInt8, at start: Int, depth: Int) -> AMQPEncodedValue {
        let typeName = Self.typeName(code) ?? "unknown"
        let canonical: [UInt8]
        switch code {
        case 0x40: canonical = []
        case 0x41: canonical = [1]
        case 0x42: canonical = [0]
        case 0x43, 0x44: canonical = Self.bigEndian(0)
        case 0x56: canonical = [self.bytes[start]]
        case 0x50, 0x52, 0x53: canonical = self.unsigned(at: start, width: 1)
        case 0x51, 0x54, 0x55: canonical = self.signed(at: start, width: 1)
        case 0x60: canonical = self.unsigned(at: start, width: 2)
        case 0x61: canonical = self.signed(at: start, width: 2)
        case 0x70: canonical = self.unsigned(at: start, width: 4)
        case 0x71: canonical = self.signed(at: start, width: 4)
        case 0x80, 0x81, 0x83: canonical = self.unsigned(at: start, width: 8)
        case 0x72, 0x73, 0x74, 0x82, 0x84, 0x94, 0x98:
            canonical = Array(self.bytes[start..<(start + (Self.fixedWidth(code) ?? 0))])
        case 0xa0, 0xa1, 0xa3, 0xb0, 0xb1, 0xb3:
            canonical = self.content(of: code, at: start).map { Array(self.bytes[$0]) } ?? []
        case 0x45, 0xc0, 0xc1, 0xd0, 0xd1:
            var elements: [AMQPEncodedValue] = []
            if depth < Self.maximumDepth, let compound = self.elements(of: code, at: start) {
                elements.reserveCapacity(compound.count)
                var position = compound.range.lowerBound
                for _ in 0..<compound.count {
                    elements.append(self.value(at: position, depth: depth + 1))
                    position = self.skip(position)
                }
            }
            canonical = Self.canonical(of: elements)
        case 0xe0, 0xf0:
            canonical = self.arrayCanonical(code, at: start, depth: depth)
        default:
            canonical = []
        }
        return AMQPEncodedValue(typeName: typeName, canonicalBytes: canonical)
    }

    /// The canonical bytes of the array whose data (size field first) starts at `start`.
    private func arrayCanonical(_ code: UInt8, at start: Int, depth: Int) -> [UInt8] {
        let width = code == 0xe0 ? 1 : 4
        let count = width == 1 ? Int(self.bytes[start + 1]) : self.uint32(at: start + 4)
        let end = start + width + (width == 1 ? Int(self.bytes[start]) : self.uint32(at: start))
        guard depth < Self.maximumDepth,
            let (elementCode, first) = try? self.elementConstructor(at: start + 2 * width, limit: end, depth: depth)
        else { return Self.canonical(of: []) }
        let constructor = start + 2 * width
        let descriptor = self.bytes[constructor] == 0x00 ? self.value(at: constructor + 1, depth: depth + 1) : nil
        func element(at position: Int) -> AMQPEncodedValue {
            let value = self.value(of: elementCode, at: position, depth: depth + 1)
            guard let descriptor else { return value }
            return AMQPEncodedValue(typeName: "described", canonicalBytes: Self.canonical(of: [descriptor, value]))
        }
        let elementType = descriptor == nil ? (Self.typeName(elementCode) ?? "unknown") : "described"
        if Self.fixedWidth(elementCode) == 0 {
            // Every element is the same and takes no bytes: list it once, whatever the count.
            return Self.canonical(of: count > 0 ? [element(at: first)] : [], count: count, elementType: elementType)
        }
        var elements: [AMQPEncodedValue] = []
        elements.reserveCapacity(count)
        var position = first
        for _ in 0..<count {
            elements.append(element(at: position))
            position = (try? self.end(ofDataOf: elementCode, at: position, limit: end, depth: depth + 1)) ?? end
        }
        return Self.canonical(of: elements, elementType: elementType)
    }

    private func unsigned(at start: Int, width: Int) -> [UInt8] {
        var value: UInt64 = 0
        for index in start..<(start + width) { value = value << 8 | UInt64(self.bytes[index]) }
        return Self.bigEndian(value)
    }

    private func signed(at start: Int, width: Int) -> [UInt8] {
        var value: UInt64 = 0
        for index in start..<(start + width) { value = value << 8 | UInt64(self.bytes[index]) }
        let shift = UInt64(64 - 8 * width)
        return Self.bigEndian(UInt64(bitPattern: Int64(bitPattern: value << shift) >> shift))
    }

    private func uint32(at offset: Int) -> Int {
        self.bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
    }

    // MARK: - Tables and helpers

    /// The bytes a fixed-width format code's data takes, nil for variable-width and compound codes.
    static func fixedWidth(_ code: UInt8) -> Int? {
        switch code {
        case 0x40...0x45: return 0
        case 0x50...0x56: return 1
        case 0x60, 0x61: return 2
        case 0x70...0x74: return 4
        case 0x80...0x84: return 8
        case 0x94, 0x98: return 16
        default: return nil
        }
    }

    /// The AMQP type a primitive format code encodes (see `AMQPEncodedValue.typeName`), nil for an unknown code.
    static func typeName(_ code: UInt8) -> String? {
        switch code {
        case 0x40: return "null"
        case 0x41, 0x42, 0x56: return "boolean"
        case 0x50: return "ubyte"
        case 0x51: return "byte"
        case 0x43, 0x52, 0x70: return "uint"
        case 0x44, 0x53, 0x80: return "ulong"
        case 0x54, 0x71: return "int"
        case 0x55, 0x81: return "long"
        case 0x60: return "ushort"
        case 0x61: return "short"
        case 0x72: return "float"
        case 0x73: return "char"
        case 0x74: return "decimal32"
        case 0x82: return "double"
        case 0x83: return "timestamp"
        case 0x84: return "decimal64"
        case 0x94: return "decimal128"
        case 0x98: return "uuid"
        case 0xa0, 0xb0: return "binary"
        case 0xa1, 0xb1: return "string"
        case 0xa3, 0xb3: return "symbol"
        case 0x45, 0xc0, 0xd0: return "list"
        case 0xc1, 0xd1: return "map"
        case 0xe0, 0xf0: return "array"
        default: return nil
        }
    }

    /// The encoding's name for error messages, e.g. `str8` or `list32`.
    static func name(_ code: UInt8) -> String {
        switch code {
        case 0xa0: return "vbin8"
        case 0xb0: return "vbin32"
        case 0xa1: return "str8"
        case 0xb1: return "str32"
        case 0xa3: return "sym8"
        case 0xb3: return "sym32"
        case 0xc0: return "list8"
        case 0xd0: return "list32"
        case 0xc1: return "map8"
        case 0xd1: return "map32"
        case 0xe0: return "array8"
        case 0xf0: return "array32"
        default: return "\(self.typeName(code) ?? "value") (\(self.hex(code)))"
        }
    }

    static func hex(_ byte: UInt8) -> String {
        byte < 16 ? "0x0" + String(byte, radix: 16) : "0x" + String(byte, radix: 16)
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    /// The canonical bytes of a compound (see `AMQPEncodedValue.canonicalBytes`).
    static func canonical(of elements: [AMQPEncodedValue], count: Int? = nil, elementType: String? = nil) -> [UInt8] {
        var bytes = self.bigEndian(UInt64(count ?? elements.count))
        if let elementType {
            bytes.append(UInt8(truncatingIfNeeded: elementType.utf8.count))
            bytes.append(contentsOf: elementType.utf8)
        }
        for element in elements {
            bytes.append(UInt8(truncatingIfNeeded: element.typeName.utf8.count))
            bytes.append(contentsOf: element.typeName.utf8)
            bytes.append(contentsOf: self.bigEndian(UInt64(element.canonicalBytes.count)))
            bytes.append(contentsOf: element.canonicalBytes)
        }
        return bytes
    }

    static func error(_ what: String, at offset: Int) -> AMQPError {
        AMQPError(.protocolViolation, "not a valid AMQP message encoding: at byte \(offset), \(what)")
    }

    private static func tooDeep(at offset: Int) -> AMQPError {
        self.error("values nest deeper than \(self.maximumDepth) levels", at: offset)
    }
}
