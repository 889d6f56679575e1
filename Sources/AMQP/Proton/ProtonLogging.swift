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
/// when the logger is at trace level, and SASL initial responses are redacted so a password never reaches a log.
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
            pn_logger_set_log_sink(defaultLogger, { _, subsystem, level, message in
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
        logger.log(level: swiftLevel, "\(self.redacted(message))", metadata: ["proton.subsystem": "\(subsystemName)"])
    }

    /// Removes SASL PLAIN credentials from a frame trace (`sasl-init(... initial-response=b"\\x00user\\x00pass")`).
    /// Proton quotes binary as `b"…"` with every `"` and `\\` hex-escaped, so the value ends at the next quote;
    /// anything it cannot recognise is redacted to the end of the line.
    static func redacted(_ message: String) -> String {
        guard let range = message.range(of: "initial-response=") else { return message }
        let rest = message[range.upperBound...]
        guard rest.hasPrefix("b\""), let close = rest.dropFirst(2).firstIndex(of: "\"") else {
            return String(message[..<range.upperBound]) + "<redacted>"
        }
        return String(message[..<range.upperBound]) + "<redacted>" + String(rest[rest.index(after: close)...])
    }
}
