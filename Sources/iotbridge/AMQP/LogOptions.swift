//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Logging

/// `--log-level`, shared by long-running commands. Logs go to standard error.
struct LogOptions: ParsableArguments {
    @Option(
        help:
            "Log level on standard error: trace, debug, info, notice, warning, error or critical. info shows connects and reconnects; trace shows every AMQP frame (credentials redacted)."
    )
    var logLevel: String = "info"

    /// Bootstraps swift-log once and returns a logger at the chosen level.
    func makeLogger(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: self.logLevel) else {
            throw ValidationError("--log-level: '\(self.logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        LogBootstrap.once(level: level)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// Guards `LoggingSystem.bootstrap`, which traps when called twice.
enum LogBootstrap {
    private static let done: Void = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
    }()

    static func once(level: Logger.Level) {
        _ = Self.done
    }
}
