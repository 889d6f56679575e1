//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Draws `migrate run` progress on stderr: a bar redrawn in place on a terminal, one plain line per step
/// otherwise (logs, CI).
///
/// Stateless apart from two constants, so it is `Sendable`.
public final class ProgressRenderer: Sendable {
    /// Whether stderr is a terminal.
    public let isTerminal: Bool
    private let width: Int

    /// Creates a renderer; `isTerminal` defaults to asking the OS about stderr.
    public init(isTerminal: Bool? = nil, width: Int = 30) {
        self.isTerminal = isTerminal ?? (isatty(STDERR_FILENO) == 1)
        self.width = width
    }

    /// Formats seconds as `m:ss`.
    static func clock(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "--:--" }
        let total = Int(seconds.rounded())
        return String(format: "%d:%02d", total / 60, total % 60)
    }

    /// The text for one report (without line control).
    public func line(for progress: MigrationProgress) -> String {
        let eta = "ETA \(Self.clock(progress.etaSeconds))"
        if self.isTerminal {
            let filled = progress.total == 0 ? self.width : progress.done * self.width / progress.total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: self.width - filled)
            var current = progress.stepId
            if current.count > 40 { current = String(current.prefix(39)) + "…" }
            return "[\(bar)] \(progress.done)/\(progress.total)  \(current)  \(eta)"
        }
        return "[\(progress.done)/\(progress.total)] \(progress.phase.rawValue) \(progress.stepId) (\(eta))"
    }

    /// Writes one report.
    public func render(_ progress: MigrationProgress) {
        if self.isTerminal {
            // \r + erase-line redraws the bar in place.
            Self.write("\r\u{1B}[2K" + self.line(for: progress))
            if progress.phase == .failed || progress.done == progress.total { Self.write("\n") }
        } else if progress.phase != .started {
            Self.write(self.line(for: progress) + "\n")
        }
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
