//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton
import Foundation
import Logging
import Synchronization

/// Routes Proton's log lines into swift-log. FRAME and RAW lines (every AMQP frame and byte) are enabled only
/// when the logger is at trace level. No line carries a secret: SASL responses are redacted from frame traces,
/// and SASL frames never appear in raw traces (see `redactedRaw`).
enum ProtonLogging {
    private static let logger = Mutex<Logger?>(nil)

    /// Points Proton's default logger (which every new transport copies) at `logger`.
    static func install(logger: Logger) {
        let first = self.logger.withLock { current -> Bool in
            defer { current = logger }
            return current == nil
        }
        guard let defaultLogger = pn_default_logger() else { return }
        // Proton's errors reach the caller as AMQPError values, so its own lines are detail: debug and below.
        var levels: UInt16 = 0
        if logger.logLevel <= .debug {
            levels |= UInt16(
                PN_LEVEL_CRITICAL.rawValue | PN_LEVEL_ERROR.rawValue | PN_LEVEL_WARNING.rawValue
                    | PN_LEVEL_INFO.rawValue | PN_LEVEL_DEBUG.rawValue
            )
        }
        if logger.logLevel <= .trace {
            levels |= UInt16(PN_LEVEL_TRACE.rawValue | PN_LEVEL_FRAME.rawValue | PN_LEVEL_RAW.rawValue)
        }
        pn_logger_reset_mask(defaultLogger, UInt16(PN_SUBSYSTEM_ALL.rawValue), UInt16(PN_LEVEL_ALL.rawValue))
        pn_logger_set_mask(defaultLogger, UInt16(PN_SUBSYSTEM_ALL.rawValue), levels)
        if first {
            pn_logger_set_log_sink(
                defaultLogger,
                { _, subsystem, level, message in
                    guard let message else { return }
                    ProtonLogging.log(subsystem: subsystem, level: level, message: String(cString: message))
                }, 0)
        }
    }

    static func log(subsystem: pn_log_subsystem_t, level: pn_log_level_t, message: String) {
        guard let logger = self.logger.withLock({ $0 }) else { return }
        let swiftLevel: Logger.Level
        switch level {
        case PN_LEVEL_CRITICAL, PN_LEVEL_ERROR, PN_LEVEL_WARNING, PN_LEVEL_INFO, PN_LEVEL_DEBUG: swiftLevel = .debug
        default: swiftLevel = .trace
        }
        let subsystemName = pn_logger_subsystem_name(subsystem).map { String(cString: $0) } ?? "proton"
        let isRaw = level.rawValue & PN_LEVEL_RAW.rawValue != 0
        let text = isRaw ? self.redactedRaw(message) : self.redacted(message)
        logger.log(level: swiftLevel, "\(text)", metadata: ["proton.subsystem": "\(subsystemName)"])
    }

    /// Removes SASL credentials from a frame trace: the PLAIN password in
    /// `sasl-init(... initial-response=b"\\x00user\\x00pass")`, and any `sasl-response(response=b"…")`. Proton quotes
    /// binary as `b"…"` with every `"` and `\\` hex-escaped, so the value ends at the next quote; anything it
    /// cannot recognise is redacted to the end of the line.
    static func redacted(_ message: String) -> String {
        self.redactedQuotedBytes(self.redactedResponses(message))
    }

    /// Proton quotes what a peer sent when it cannot make sense of it (`Unknown protocol detected:
    /// '\\x00\\x00…'`), with every `'` inside escaped: such a segment can hold anything the peer typed, a
    /// password sent in the wrong place included, so it is replaced whole.
    static func redactedQuotedBytes(_ message: String) -> String {
        guard message.contains("'") else { return message }
        var result = ""
        var rest = Substring(message)
        while let open = rest.firstIndex(of: "'") {
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(of: "'") else { break }
            let quoted = rest[afterOpen..<close]
            result += rest[...open]
            result += quoted.contains("\\x") ? "<\(quoted.count) characters of peer bytes redacted>" : String(quoted)
            result += "'"
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    private static func redactedResponses(_ message: String) -> String {
        var result = ""
        var rest = Substring(message)
        // Every `response=` (which `initial-response=` ends with too) is followed by the value to hide.
        while let range = rest.range(of: "response=") {
            result += rest[..<range.upperBound]
            let value = rest[range.upperBound...]
            guard value.hasPrefix("b\""), let close = value.dropFirst(2).firstIndex(of: "\"") else {
                return result + "<redacted>"
            }
            result += "<redacted>"
            rest = value[value.index(after: close)...]
        }
        return result + rest
    }

    /// Redacts a raw I/O trace line. Proton prints the bytes of the output buffer quoted (`"\\x00\\x00\\x00\\x1f…"`:
    /// printable ASCII as it is, everything else, `"`, `'` and `\\` as `\\xNN`), from the start of the buffer, so
    /// the line may begin with an earlier frame, a SASL one with the password among them. The bytes are split
    /// into frames again (4-byte size, data offset, type): AMQP frames (type 0) are printed as they were, every
    /// other frame (SASL is type 1) as `<sasl frame, N bytes, redacted>`, and whatever does not parse as a frame
    /// is redacted to the end. A line that is not a quoted byte string is redacted whole, except Proton's `EOS`.
    static func redactedRaw(_ message: String) -> String {
        let trimmed = message.trimmingCharacters(in: .whitespaces)
        if trimmed == "-> EOS" || trimmed == "<- EOS" { return message }
        let utf8 = Array(message.utf8)
        guard utf8.count >= 2, utf8.first == UInt8(ascii: "\""), utf8.last == UInt8(ascii: "\""),
            let bytes = self.unquoted(utf8[1..<(utf8.count - 1)])
        else { return "<raw trace redacted>" }
        var output = "\""
        var offset = 0
        while offset < bytes.count {
            let remaining = bytes.count - offset
            if remaining >= 8 && bytes[offset..<(offset + 4)].elementsEqual("AMQP".utf8) {
                // A protocol header: AMQP, then the protocol id (0 AMQP, 2 TLS, 3 SASL) and version.
                output += self.quoted(bytes[offset..<(offset + 8)])
                offset += 8
                continue
            }
            guard remaining >= 6 else {
                output += "<\(remaining) bytes redacted>"
                break
            }
            let size = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let dataOffset = bytes[offset + 4]
            let type = bytes[offset + 5]
            guard size >= 8, dataOffset >= 2 else {
                output += "<\(remaining) bytes redacted: not a frame>"
                break
            }
            let end = min(bytes.count, offset + size)
            if type == 0 {
                output += self.quoted(bytes[offset..<end])
            } else {
                output += "<\(type == 1 ? "sasl" : "type \(type)") frame, \(size) bytes, redacted>"
            }
            offset = end
        }
        return output + "\""
    }

    /// The bytes of Proton's quoting (`\\xNN` escapes, everything else literal), nil if an escape is malformed.
    private static func unquoted(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "\\") {
                guard index + 4 <= text.endIndex, text[index + 1] == UInt8(ascii: "x"),
                    let value = UInt8(String(decoding: text[(index + 2)..<(index + 4)], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
                index += 4
            } else {
                bytes.append(byte)
                index += 1
            }
        }
        return bytes
    }

    /// Bytes quoted the way Proton quotes them.
    private static func quoted(_ bytes: ArraySlice<UInt8>) -> String {
        var text = ""
        text.reserveCapacity(bytes.count)
        for byte in bytes {
            let isPlain =
                byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "\"")
                && byte != UInt8(ascii: "'")
            if isPlain {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return text
    }
}
