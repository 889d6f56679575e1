//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation

/// Formats messages as JSON lines into a buffer and writes it to standard output in large chunks. A value type,
/// so the hot loop pays no dynamic exclusivity checks on the buffer.
struct JSONLineOutput {
    private var buffer: [UInt8] = []

    init() {
        self.buffer.reserveCapacity(1 << 16)
    }

    /// Appends one message as a line.
    mutating func append(_ message: AMQPMessage) {
        var properties = message.applicationProperties
        self.buffer.append(UInt8(ascii: "{"))
        var first = true
        for key in ["topic", "messageId", "generateTime"] {
            guard let value = properties.removeValue(forKey: key) else { continue }
            self.key(key, first: &first)
            self.value(value)
        }
        if let id = message.messageID, message.applicationProperties["messageId"] == nil {
            self.key("messageId", first: &first)
            self.string(id.description)
        }
        if !properties.isEmpty {
            self.key("properties", first: &first)
            self.buffer.append(UInt8(ascii: "{"))
            var innerFirst = true
            for key in properties.keys.sorted() {
                self.key(key, first: &innerFirst)
                self.value(properties[key]!)
            }
            self.buffer.append(UInt8(ascii: "}"))
        }
        let payload = message.body.bytes
        self.key("payload", first: &first)
        if payload.allSatisfy({ $0 < 0x80 }) {
            // ASCII (most JSON payloads) is valid UTF-8 as it is: no String to build.
            self.escaped(payload)
        } else if let text = String(validating: payload, as: UTF8.self) {
            self.string(text)
        } else {
            self.string(Data(payload).base64EncodedString())
            self.key("payloadEncoding", first: &first)
            self.string("base64")
        }
        self.buffer.append(UInt8(ascii: "}"))
        self.buffer.append(UInt8(ascii: "\n"))
    }

    /// Whether the buffer is big enough to be worth a write.
    var isFull: Bool { self.buffer.count >= 1 << 16 }

    /// Writes everything buffered to standard output.
    /// Writes the buffer to standard output. Throws, keeping nothing, when the write fails (a closed pipe, a
    /// full disk): the caller must then not settle the messages of these lines.
    mutating func flush() throws(JSONLineWriteError) {
        guard !self.buffer.isEmpty else { return }
        defer { self.buffer.removeAll(keepingCapacity: true) }
        var failure: Int32 = 0
        self.buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(1, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    failure = written < 0 ? errno : EIO
                    return
                }
                offset += written
            }
        }
        if failure != 0 { throw JSONLineWriteError(code: failure) }
    }

    private mutating func key(_ key: String, first: inout Bool) {
        if !first { self.buffer.append(UInt8(ascii: ",")) }
        first = false
        self.string(key)
        self.buffer.append(UInt8(ascii: ":"))
    }

    private mutating func value(_ value: AMQPValue) {
        switch value {
        case .null, .unsupported: self.buffer.append(contentsOf: "null".utf8)
        case .bool(let v): self.buffer.append(contentsOf: (v ? "true" : "false").utf8)
        case .int(let v): self.integer(Int64(v))
        case .long(let v), .timestamp(let v): self.integer(v)
        case .ulong(let v): self.buffer.append(contentsOf: String(v).utf8)
        case .double(let v): self.buffer.append(contentsOf: (v.isFinite ? String(v) : "null").utf8)
        case .string(let v), .symbol(let v): self.string(v)
        case .binary(let v), .uuid(let v): self.string(Data(v).base64EncodedString())
        }
    }

    /// Appends the decimal digits of `value` without building a String (generateTime is on every message).
    private mutating func integer(_ value: Int64) {
        if value < 0 { self.buffer.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = self.buffer.count
        repeat {
            self.buffer.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        self.buffer[start...].reverse()
    }

    private mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { self.escaped($0) }
    }

    /// Appends UTF-8 bytes as a JSON string: in one copy when nothing needs escaping (the usual case).
    private mutating func escaped(_ bytes: some Collection<UInt8>) {
        self.buffer.append(UInt8(ascii: "\""))
        if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            self.buffer.append(contentsOf: bytes)
            self.buffer.append(UInt8(ascii: "\""))
            return
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): self.buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): self.buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): self.buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): self.buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): self.buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: self.buffer.append(byte)
            }
        }
        self.buffer.append(UInt8(ascii: "\""))
    }
}

/// Standard output could not be written.
struct JSONLineWriteError: Error, CustomStringConvertible {
    /// The `errno`.
    var code: Int32

    var description: String { "writing to standard output failed: \(String(cString: strerror(self.code)))" }
}
