//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Migration
import RuleSQL
import Rules

/// The one voice of every iotbridge error (README, "Errors and exit codes"):
///
/// - a one-line `error: what — where/what to do`, or, for a problem inside a file, compiler-style
///   `file:line:col: error: …` with the source line and a caret;
/// - exit 2 for every error, usage errors included; exit 1 only for a documented "no match" (grep's convention);
/// - never Foundation's `NSCocoaErrorDomain` dump, never the usage text after a runtime error.
///
/// A new command throws ``CLIError`` (or any error whose `description` is one actionable line) and lets
/// ``IOTBridge/main()`` print it; there is nothing else to adopt.
struct CLIError: Error, CustomStringConvertible {
    /// The line after `error: `.
    var message: String
    /// The process exit status. Default: 2.
    var exitCode: Int32 = 2

    /// Creates an error; `message` is printed after `error: `.
    init(_ message: String, exitCode: Int32 = 2) {
        self.message = message
        self.exitCode = exitCode
    }

    /// The message.
    var description: String { self.message }

    /// The text printed for any error a command threw at run time, and the exit status.
    static func rendering(_ error: any Error) -> (text: String, exitCode: Int32) {
        switch error {
        case let error as CLIError:
            return (Self.prefixed(error.message), error.exitCode)
        case let error as MigrationError where !error.diagnostics.isEmpty:
            return (error.diagnostics.map(\.description).joined(separator: "\n"), 2)
        case let error as Diagnostic:
            return (error.description, 2)
        case let error as ValidationError:
            return (Self.prefixed(error.message), 2)
        case let error as TextFile.ReadError:
            return (Self.prefixed(error.description), 2)
        case let error as CocoaError:
            return (Self.prefixed(Self.foundation(error)), 2)
        case let error as any CustomStringConvertible where !(type(of: error) is NSError.Type):
            return (Self.prefixed(error.description), 2)
        default:
            return (Self.prefixed(Self.foundation(error)), 2)
        }
    }

    /// Prints an error in the one voice and returns its exit status.
    static func report(_ error: any Error) -> Int32 {
        let (text, code) = Self.rendering(error)
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return code
    }

    /// `error: ` + the message, unless it already starts with it (errors rendered by lower layers).
    static func prefixed(_ message: String) -> String {
        message.hasPrefix("error: ") ? message : "error: " + message
    }

    /// A Foundation error as the system's words plus the file it names, never the `NSCocoaErrorDomain` dump.
    private static func foundation(_ error: any Error) -> String {
        let nsError = error as NSError
        let path = (nsError.userInfo[NSFilePathErrorKey] as? String) ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path
        return (path.map { "'\($0)': " } ?? "") + TextFile.reason(error)
    }
}
