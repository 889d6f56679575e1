//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Foundation

/// Copies messages between Swift values and Proton's `pn_message_t`. Proton does the AMQP encoding, so what
/// goes on the wire is exactly what every other Proton peer produces.
enum ProtonMessageCodec {
    /// Decodes `size` encoded bytes into a Swift message using `scratch` as Proton's working object.
    static func decode(_ bytes: UnsafePointer<CChar>, size: Int, scratch: OpaquePointer) throws(AMQPError) -> AMQPMessage {
        pn_message_clear(scratch)
        let status = pn_message_decode(scratch, bytes, size)
        guard status == 0 else {
            throw AMQPError(.protocolViolation, "a delivery of \(size) bytes is not a valid AMQP message (code \(status))")
        }
        return self.read(scratch)
    }

    /// Decodes a whole encoded message (non-empty: Proton asserts on zero bytes) using `scratch` as Proton's
    /// working object. `sections` are the message's sections when the caller split it already (they tell what
    /// Proton itself drops: a footer, all but one data section); without them, valid bytes are split here.
    static func decode(
        _ bytes: [UInt8],
        sections: [AMQPEncodedMessage.Section]? = nil,
        scratch: OpaquePointer
    ) throws(AMQPError) -> AMQPMessage {
        var result: Result<AMQPMessage, AMQPError> = .failure(AMQPError(.protocolViolation, "an empty transfer is not a message"))
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                guard let start = chars.baseAddress, !chars.isEmpty else { return }
                do throws(AMQPError) {
                    result = .success(try self.decode(start, size: chars.count, scratch: scratch))
                } catch {
                    result = .failure(error)
                }
            }
        }
        var message = try result.get()
        if let sections = sections ?? (try? AMQPEncodedMessage.sections(of: bytes)) {
            let bodies = sections.filter(\.kind.isBody)
            if bodies.count > 1 {
                message.unrepresented.append("body (\(bodies.count) \(bodies[0].kind) sections)")
            } else if bodies.first?.kind == .amqpSequence, !message.unrepresented.contains(where: { $0.hasPrefix("body") }) {
                message.unrepresented.append("body (amqp-sequence)")
            }
            if sections.contains(where: { $0.kind == .footer }) { message.unrepresented.append("footer") }
        }
        return message
    }

    /// Reads every supported section of a decoded `pn_message_t`.
    static func read(_ message: OpaquePointer) -> AMQPMessage {
        var result = AMQPMessage()
        result.durable = pn_message_is_durable(message)
        result.deliveryCount = pn_message_get_delivery_count(message)
        result.messageID = self.messageID(pn_message_get_id(message))
        result.correlationID = self.messageID(pn_message_get_correlation_id(message))
        result.subject = pn_message_get_subject(message).map { String(cString: $0) }
        result.contentType = pn_message_get_content_type(message).map { String(cString: $0) }
        let creation = pn_message_get_creation_time(message)
        result.creationTime = creation == 0 ? nil : creation
        if let properties = pn_message_properties(message) {
            result.applicationProperties = self.readMap(properties)
        }
        if let body = pn_message_body(message) {
            result.body = self.readBody(body, inferred: pn_message_is_inferred(message))
        }
        result.unrepresented = self.unrepresented(message, read: result)
        return result
    }

    /// The parts of a decoded `pn_message_t` that `read` did not carry into `message`.
    private static func unrepresented(_ message: OpaquePointer, read result: AMQPMessage) -> [String] {
        var parts: [String] = []
        if pn_message_get_ttl(message) != 0 { parts.append("header.ttl") }
        if pn_message_get_priority(message) != UInt8(PN_DEFAULT_PRIORITY) { parts.append("header.priority") }
        if pn_message_is_first_acquirer(message) { parts.append("header.first-acquirer") }
        if let annotations = pn_message_instructions(message), pn_data_size(annotations) > 0 {
            parts.append("delivery-annotations")
        }
        if let annotations = pn_message_annotations(message), pn_data_size(annotations) > 0 {
            parts.append("message-annotations")
        }
        if pn_message_get_user_id(message).size > 0 { parts.append("properties.user-id") }
        if pn_message_get_address(message) != nil { parts.append("properties.to") }
        if pn_message_get_reply_to(message) != nil { parts.append("properties.reply-to") }
        if pn_message_get_content_encoding(message) != nil { parts.append("properties.content-encoding") }
        if pn_message_get_expiry_time(message) != 0 { parts.append("properties.absolute-expiry-time") }
        if pn_message_get_group_id(message) != nil { parts.append("properties.group-id") }
        if pn_message_get_group_sequence(message) != 0 { parts.append("properties.group-sequence") }
        if pn_message_get_reply_to_group_id(message) != nil { parts.append("properties.reply-to-group-id") }
        if result.messageID == nil, pn_message_get_id(message).type != PN_NULL { parts.append("properties.message-id") }
        if result.correlationID == nil, pn_message_get_correlation_id(message).type != PN_NULL {
            parts.append("properties.correlation-id")
        }
        if let properties = pn_message_properties(message), pn_data_size(properties) > 0 {
            parts += self.unrepresentedProperties(properties)
        }
        parts += result.unencodable.filter { !parts.contains($0) }
        return parts
    }

    /// Application properties the model could not hold: keys that are not strings or symbols, and a section that
    /// is not a map at all.
    private static func unrepresentedProperties(_ data: OpaquePointer) -> [String] {
        pn_data_rewind(data)
        guard pn_data_next(data) else { return [] }
        guard pn_data_type(data) == PN_MAP else {
            return ["application-properties (\(self.typeName(pn_data_type(data))))"]
        }
        var parts: [String] = []
        pn_data_enter(data)
        while pn_data_next(data) {
            let keyType = pn_data_type(data)
            var key = ""
            switch keyType {
            case PN_STRING: key = self.string(pn_data_get_string(data))
            case PN_SYMBOL: key = self.string(pn_data_get_symbol(data))
            default: parts.append("application-properties key (\(self.typeName(keyType)))")
            }
            guard pn_data_next(data) else { break }
            if let widened = self.widenedTypes[pn_data_type(data)] {
                parts.append("application-properties[\"\(key)\"] (\(widened))")
            }
        }
        pn_data_exit(data)
        return parts
    }

    /// Fills `message` (cleared first) from a Swift message.
    static func write(_ source: AMQPMessage, into message: OpaquePointer) {
        pn_message_clear(message)
        if source.durable { pn_message_set_durable(message, true) }
        if source.deliveryCount > 0 { pn_message_set_delivery_count(message, source.deliveryCount) }
        if let id = source.messageID { self.withAtom(id) { _ = pn_message_set_id(message, $0) } }
        if let id = source.correlationID { self.withAtom(id) { _ = pn_message_set_correlation_id(message, $0) } }
        if let subject = source.subject { pn_message_set_subject(message, subject) }
        if let contentType = source.contentType { pn_message_set_content_type(message, contentType) }
        if let creation = source.creationTime { pn_message_set_creation_time(message, creation) }
        if !source.applicationProperties.isEmpty, let properties = pn_message_properties(message) {
            pn_data_put_map(properties)
            pn_data_enter(properties)
            // Sorted so the encoding is deterministic (tests compare bytes; peers do not care about order).
            for key in source.applicationProperties.keys.sorted() {
                self.putString(key, into: properties)
                self.put(source.applicationProperties[key]!, into: properties)
            }
            pn_data_exit(properties)
        }
        guard let body = pn_message_body(message) else { return }
        switch source.body {
        case .none, .unsupported:
            break
        case .data(let bytes):
            // A data section needs the inferred flag: otherwise Proton wraps binary in amqp-value.
            pn_message_set_inferred(message, true)
            self.putBinary(bytes, into: body)
        case .binary(let bytes):
            pn_message_set_inferred(message, false)
            self.putBinary(bytes, into: body)
        case .string(let text):
            pn_message_set_inferred(message, false)
            self.putString(text, into: body)
        }
    }

    /// Encodes a message to bytes (for tests and for callers that need the wire form).
    static func encode(_ source: AMQPMessage) -> [UInt8] {
        guard let message = pn_message() else { return [] }
        defer { pn_message_free(message) }
        self.write(source, into: message)
        var capacity = 1024
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            var size = capacity
            let status = buffer.withUnsafeMutableBufferPointer {
                $0.withMemoryRebound(to: CChar.self) { pn_message_encode(message, $0.baseAddress, &size) }
            }
            if status == PN_OVERFLOW {
                capacity *= 4
                continue
            }
            return status == 0 ? Array(buffer.prefix(size)) : []
        }
    }

    /// Decodes bytes produced by any AMQP encoder (for tests).
    static func decode(_ bytes: [UInt8]) throws(AMQPError) -> AMQPMessage {
        guard let message = pn_message() else { throw AMQPError(.transport, "out of memory") }
        defer { pn_message_free(message) }
        return try self.decode(bytes, scratch: message)
    }

    /// Proton's own description of an encoded message: every header and properties field, the delivery and
    /// message annotations, the application properties and the body as `pn_inspect` prints them (Proton reads
    /// but drops a footer). For tests that check an edited encoding still means the same to Proton.
    static func inspect(_ bytes: [UInt8]) throws(AMQPError) -> String {
        guard let message = pn_message(), let text = pn_string(nil) else { throw AMQPError(.transport, "out of memory") }
        defer {
            pn_free(UnsafeMutableRawPointer(text))
            pn_message_free(message)
        }
        _ = try self.decode(bytes, scratch: message)
        guard pn_inspect(UnsafeMutableRawPointer(message), text) == 0, let described = pn_string_get(text) else {
            throw AMQPError(.protocolViolation, "Proton could not describe the message")
        }
        return String(cString: described)
    }

    // MARK: - Reading

    private static func readBody(_ data: OpaquePointer, inferred: Bool) -> AMQPMessage.Body {
        pn_data_rewind(data)
        guard pn_data_next(data) else { return .none }
        switch pn_data_type(data) {
        case PN_BINARY:
            let bytes = self.bytes(pn_data_get_binary(data))
            return inferred ? .data(bytes) : .binary(bytes)
        case PN_STRING:
            return .string(self.string(pn_data_get_string(data)))
        case PN_NULL:
            return .none
        case let type:
            return .unsupported(self.typeName(type))
        }
    }

    private static func readMap(_ data: OpaquePointer) -> [String: AMQPValue] {
        pn_data_rewind(data)
        guard pn_data_next(data), pn_data_type(data) == PN_MAP else { return [:] }
        let count = Int(pn_data_get_map(data))
        var result: [String: AMQPValue] = [:]
        result.reserveCapacity(count / 2)
        pn_data_enter(data)
        while pn_data_next(data) {
            let keyType = pn_data_type(data)
            let key: String
            switch keyType {
            case PN_STRING: key = self.string(pn_data_get_string(data))
            case PN_SYMBOL: key = self.string(pn_data_get_symbol(data))
            default: key = "<\(self.typeName(keyType))>"
            }
            guard pn_data_next(data) else { break }
            result[key] = self.readValue(data)
        }
        pn_data_exit(data)
        return result
    }

    /// AMQP types `readValue` holds as a wider Swift case (sent back, they keep the value, not the type).
    private static let widenedTypes: [pn_type_t: String] = [
        PN_UINT: "uint, held as long", PN_SHORT: "short, held as int", PN_USHORT: "ushort, held as int",
        PN_BYTE: "byte, held as int", PN_UBYTE: "ubyte, held as int", PN_FLOAT: "float, held as double",
    ]

    private static func readValue(_ data: OpaquePointer) -> AMQPValue {
        switch pn_data_type(data) {
        case PN_NULL: return .null
        case PN_BOOL: return .bool(pn_data_get_bool(data))
        case PN_INT: return .int(pn_data_get_int(data))
        case PN_LONG: return .long(pn_data_get_long(data))
        case PN_ULONG: return .ulong(pn_data_get_ulong(data))
        case PN_UINT: return .long(Int64(pn_data_get_uint(data)))
        case PN_SHORT: return .int(Int32(pn_data_get_short(data)))
        case PN_USHORT: return .int(Int32(pn_data_get_ushort(data)))
        case PN_BYTE: return .int(Int32(pn_data_get_byte(data)))
        case PN_UBYTE: return .int(Int32(pn_data_get_ubyte(data)))
        case PN_DOUBLE: return .double(pn_data_get_double(data))
        case PN_FLOAT: return .double(Double(pn_data_get_float(data)))
        case PN_TIMESTAMP: return .timestamp(pn_data_get_timestamp(data))
        case PN_STRING: return .string(self.string(pn_data_get_string(data)))
        case PN_SYMBOL: return .symbol(self.string(pn_data_get_symbol(data)))
        case PN_BINARY: return .binary(self.bytes(pn_data_get_binary(data)))
        case PN_UUID:
            var uuid = pn_data_get_uuid(data)
            return .uuid(withUnsafeBytes(of: &uuid.bytes) { Array($0) })
        case let type:
            return .unsupported(self.typeName(type))
        }
    }

    private static func messageID(_ atom: pn_atom_t) -> AMQPMessage.MessageID? {
        switch atom.type {
        case PN_STRING, PN_SYMBOL: return .string(self.string(atom.u.as_bytes))
        case PN_ULONG: return .ulong(atom.u.as_ulong)
        case PN_BINARY: return .binary(self.bytes(atom.u.as_bytes))
        case PN_UUID:
            var uuid = atom.u.as_uuid
            return .uuid(withUnsafeBytes(of: &uuid.bytes) { Array($0) })
        default: return nil
        }
    }

    /// An AMQP type's name as the specification spells it (`list`, `decimal64`), not Proton's `PN_LIST`.
    static func typeName(_ type: pn_type_t) -> String {
        let name = String(cString: pn_type_name(type))
        return name.hasPrefix("PN_") ? String(name.dropFirst(3)).lowercased() : name.lowercased()
    }

    static func string(_ bytes: pn_bytes_t) -> String {
        guard let start = bytes.start, bytes.size > 0 else { return "" }
        return start.withMemoryRebound(to: UInt8.self, capacity: bytes.size) {
            String(decoding: UnsafeBufferPointer(start: $0, count: bytes.size), as: UTF8.self)
        }
    }

    static func bytes(_ bytes: pn_bytes_t) -> [UInt8] {
        guard let start = bytes.start, bytes.size > 0 else { return [] }
        return start.withMemoryRebound(to: UInt8.self, capacity: bytes.size) {
            Array(UnsafeBufferPointer(start: $0, count: bytes.size))
        }
    }

    // MARK: - Writing

    private static func put(_ value: AMQPValue, into data: OpaquePointer) {
        switch value {
        case .null, .unsupported: pn_data_put_null(data)
        case .bool(let v): pn_data_put_bool(data, v)
        case .int(let v): pn_data_put_int(data, v)
        case .long(let v): pn_data_put_long(data, v)
        case .ulong(let v): pn_data_put_ulong(data, v)
        case .double(let v): pn_data_put_double(data, v)
        case .timestamp(let v): pn_data_put_timestamp(data, v)
        case .string(let v): self.putString(v, into: data)
        case .symbol(let v):
            var text = v
            text.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { _ = pn_data_put_symbol(data, pn_bytes($0.count, $0.baseAddress)) }
            }
        case .binary(let v): self.putBinary(v, into: data)
        case .uuid(let v):
            var uuid = pn_uuid_t()
            withUnsafeMutableBytes(of: &uuid.bytes) { raw in
                for (index, byte) in v.prefix(16).enumerated() { raw[index] = byte }
            }
            pn_data_put_uuid(data, uuid)
        }
    }

    private static func putString(_ text: String, into data: OpaquePointer) {
        var text = text
        text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { _ = pn_data_put_string(data, pn_bytes($0.count, $0.baseAddress)) }
        }
    }

    private static func putBinary(_ bytes: [UInt8], into data: OpaquePointer) {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = pn_data_put_binary(data, pn_bytes($0.count, $0.baseAddress)) }
        }
    }

    private static func withAtom(_ id: AMQPMessage.MessageID, _ body: (pn_atom_t) -> Void) {
        var atom = pn_atom_t()
        switch id {
        case .ulong(let v):
            atom.type = PN_ULONG
            atom.u.as_ulong = v
            body(atom)
        case .uuid(let v):
            atom.type = PN_UUID
            withUnsafeMutableBytes(of: &atom.u.as_uuid.bytes) { raw in
                for (index, byte) in v.prefix(16).enumerated() { raw[index] = byte }
            }
            body(atom)
        case .string(let text):
            var text = text
            text.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) {
                    atom.type = PN_STRING
                    atom.u.as_bytes = pn_bytes($0.count, $0.baseAddress)
                    body(atom)
                }
            }
        case .binary(let bytes):
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    atom.type = PN_BINARY
                    atom.u.as_bytes = pn_bytes($0.count, $0.baseAddress)
                    body(atom)
                }
            }
        }
    }
}
