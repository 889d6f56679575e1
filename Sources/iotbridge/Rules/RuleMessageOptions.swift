//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import RuleSQL
import Rules

/// The message a rule is run over: `--topic`, `--payload` and the optional identity and clock flags, shared
/// by `rules eval` and `rules run-script`.
struct RuleMessageOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The message's topic, e.g. /a1HHrkm/dev1/thing/event/property/post.",
            discussion: "Both /sys/${pk}/${dn}/… and /${pk}/${dn}/… forms match the same FROM filters."
        )
    )
    var topic: String

    @Option(
        help: ArgumentHelp(
            "The payload: JSON text, or @FILE to read it (raw bytes) from a file.",
            discussion: #"Examples: --payload '{"temperature":39}'   --payload @frame.bin"#,
            valueName: "json|@file"
        )
    )
    var payload: String

    @Option(help: "The device name for deviceName(). Default: topic level 2 (level 3 for /sys/ topics).")
    var deviceName: String?

    @Option(help: "The product key. Default: topic level 1 (level 2 for /sys/ topics).")
    var productKey: String?

    @Option(help: "The message ID messageId() returns. Default: empty.")
    var messageId: String = ""

    @Option(
        help: ArgumentHelp(
            "Fixes \"now\" (epoch milliseconds) for timestamp() and timestamp_utc().",
            discussion:
                "Example: --timestamp 1543373798943 makes timestamp('yyyy-MM-dd HH:mm:ss') give 2018-11-28 10:56:38.",
            valueName: "epoch-ms"
        )
    )
    var timestamp: Int?

    @Option(
        name: .customLong("tag"),
        help: ArgumentHelp(
            "A device tag for attribute(key), as key=value; repeat for several.",
            discussion:
                "Example: --tag location=hangzhou. Without tags, attribute() returns \"\" as the console's SQL debugger does.",
            valueName: "key=value"
        )
    )
    var tags: [String] = []

    /// The payload bytes: the argument's own bytes, or the file's bytes for `@FILE` — the same bytes either way,
    /// so a payload that is not UTF-8 behaves alike from the command line and from a file.
    func payloadBytes() throws -> [UInt8] {
        guard self.payload.hasPrefix("@") else {
            return RawArguments.bytes(of: self.payload) ?? Array(self.payload.utf8)
        }
        let path = String(self.payload.dropFirst())
        do {
            return Array(try TextFile.bytes(path, what: "--payload @file"))
        } catch {
            throw CLIError(error.description)
        }
    }

    /// The message context the options describe.
    func message() throws -> MessageContext {
        var context = MessageContext(
            topic: self.topic,
            payload: try self.payloadBytes(),
            productKey: self.productKey,
            deviceName: self.deviceName,
            messageId: self.messageId,
            now: self.timestamp
        )
        if !self.tags.isEmpty {
            var table: [String: String] = [:]
            for tag in self.tags {
                guard let equals = tag.firstIndex(of: "=") else {
                    throw ValidationError("--tag \(tag): write key=value, e.g. --tag location=hangzhou")
                }
                table[String(tag[..<equals])] = String(tag[tag.index(after: equals)...])
            }
            context.tags = StaticDeviceTags(["\(context.productKey)/\(context.deviceName)": table])
        }
        return context
    }
}

/// Writing to standard error, and exiting with grep's codes.
enum RulesOutput {
    /// Writes a line to standard error.
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Writes bytes to standard output.
    static func write(_ bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Exit code 1: no match, or a test failed.
    static let noMatch = ExitCode(1)
    /// Exit code 2: an error.
    static let failure = ExitCode(2)
}

/// The process's arguments as the bytes the shell passed: Swift's `CommandLine.arguments` replaces bytes that are
/// not UTF-8 with U+FFFD, which would silently change a binary payload.
enum RawArguments {
    /// The raw bytes of the argument (or of the value of a `--name=value` argument) whose decoding is `value`.
    static func bytes(of value: String) -> [UInt8]? {
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let raw = Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer)))
            if String(decoding: raw, as: UTF8.self) == value { return raw }
            if let equals = raw.firstIndex(of: UInt8(ascii: "=")), raw.first == UInt8(ascii: "-") {
                let tail = Array(raw[(equals + 1)...])
                if String(decoding: tail, as: UTF8.self) == value { return tail }
            }
        }
        return nil
    }
}
