//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import JSON

/// Formats messages as JSON lines into a buffer and writes it to standard output in large chunks. A value type,
/// so the hot loop pays no dynamic exclusivity checks on the buffer. Strings and numbers are written by the JSON
/// module's ``JSONWriter``, so a line escapes exactly as rule output does.
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
            payload.withUnsafeBufferPointer { JSONWriter.writeString(utf8: $0, into: &self.buffer) }
        } else if let text = String(validating: payload, as: UTF8.self) {
            self.string(text)
        } else {
            self.string(Base64.encode(payload))
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
        case .int(let v): JSONWriter.writeInteger(Int(v), into: &self.buffer)
        case .long(let v), .timestamp(let v): JSONWriter.writeInteger(Int(v), into: &self.buffer)
        case .ulong(let v): JSONWriter.writeInteger(v, into: &self.buffer)
        case .double(let v): JSONWriter.writeDouble(v, into: &self.buffer)
        case .string(let v), .symbol(let v): self.string(v)
        case .binary(let v), .uuid(let v): self.string(Base64.encode(v))
        }
    }

    private mutating func string(_ text: String) {
        JSONWriter.writeString(text, into: &self.buffer)
    }
}

/// Standard output could not be written.
struct JSONLineWriteError: Error, CustomStringConvertible {
    /// The `errno`.
    var code: Int32

    var description: String { "writing to standard output failed: \(String(cString: strerror(self.code)))" }
}
