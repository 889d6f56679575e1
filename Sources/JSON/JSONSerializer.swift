//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

extension JSONValue {
    /// The value as compact JSON text (no spaces), keys in object order.
    ///
    /// Doubles print in their shortest round-trip form and keep a decimal point (`39.0`), so the
    /// int/double distinction survives a round trip; NaN and infinities print as `null`, since JSON cannot
    /// spell them. `.binary` prints as a base64 string.
    public func jsonString() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        self.writeJSON(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value as compact JSON in UTF-8 bytes.
    public func jsonBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        self.writeJSON(into: &bytes)
        return bytes
    }

    /// Appends the compact JSON text of the value to `bytes`.
    public func writeJSON(into bytes: inout [UInt8]) {
        switch self {
        case .null:
            bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let flag):
            if flag {
                bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
            } else {
                bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
            }
        case .int(let value):
            JSONWriter.writeInteger(value, into: &bytes)
        case .double(let value):
            JSONWriter.writeDouble(value, into: &bytes)
        case .string(let text):
            JSONWriter.writeString(text, into: &bytes)
        case .binary(let data):
            JSONWriter.writeString(Base64.encode(data), into: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                element.writeJSON(into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            object.writeJSON(into: &bytes)
        }
    }
}

extension JSONObject {
    /// The object as compact JSON text, keys in order.
    public func jsonString() -> String {
        JSONValue.object(self).jsonString()
    }

    /// Appends the compact JSON text of the object to `bytes`.
    public func writeJSON(into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        for (position, member) in self.members.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(member.key, into: &bytes)
            bytes.append(UInt8(ascii: ":"))
            member.value.writeJSON(into: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }
}

/// The primitive writers of the serializer, public so that code emitting JSON of its own shape (the CLI's
/// JSON lines of AMQP messages) escapes exactly as rule output does, without building ``JSONValue``s.
public enum JSONWriter {
    /// Appends the decimal digits of `value`.
    public static func writeInteger(_ value: Int, into bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        Self.writeDigits(UInt64(value.magnitude), into: &bytes)
    }

    /// Appends the decimal digits of `value` (AMQP's `ulong` goes past `Int.max`).
    public static func writeInteger(_ value: UInt64, into bytes: inout [UInt8]) {
        Self.writeDigits(value, into: &bytes)
    }

    private static func writeDigits(_ value: UInt64, into bytes: inout [UInt8]) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value
        // At most 20 digits; write them backwards into a fixed buffer to avoid a String.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            while magnitude > 0 {
                digits[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }

    /// Appends `value` in its shortest round-trip form; NaN and infinities become `null`, which JSON can spell.
    public static func writeDouble(_ value: Double, into bytes: inout [UInt8]) {
        guard value.isFinite else {
            bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            return
        }
        // Swift's description is the shortest text that round-trips, and it keeps ".0" on integral values.
        bytes.append(contentsOf: value.description.utf8)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string.
    public static func writeString(_ text: String, into bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { Self.writeString(utf8: $0, into: &bytes) }
    }

    /// Appends UTF-8 bytes as a JSON string: in one copy when nothing needs escaping (the usual case).
    /// The bytes must be valid UTF-8; only `"`, `\\` and control characters are escaped, the rest is copied,
    /// so non-ASCII text stays readable.
    public static func writeString(utf8 text: UnsafeBufferPointer<UInt8>, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        if !text.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: text)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text {
            switch byte {
            case UInt8(ascii: "\""):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "\\"))
            case 0x0A:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "n"))
            case 0x0D:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "r"))
            case 0x09:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
