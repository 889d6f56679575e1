//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import HTTPClient
import HTTPServer

/// `iotbridge status`: a running bridge's figures in a terminal, from its `/status` (the same figures as the web
/// dashboard); the rendering is ``StatusBoard``'s, so `iotbridge demo` shows the same lines.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running bridge's figures: rates, duplicates dropped, devices migrated, events emitted.",
        discussion: """
            Reads the bridge's /status on its HTTP port (the `http: { listen: HOST:PORT }` of bridge.yaml) and \
            prints per-upstream rates, the merged rate, duplicates dropped, devices migrated, events emitted and \
            each sink's health and backlog. Rates are differences of the bridge's counters between two answers \
            a second apart, so the first screen of --watch (and a single run) shows "—" for them. The same \
            figures, live in a browser: http://HOST:PORT/dashboard.

            A bridge that does not answer is an error naming the URL (exit 2). With --watch the command keeps \
            polling and says "not live" until the bridge answers again; old figures are never shown as current.

            Examples:
              iotbridge status --url http://127.0.0.1:9464
              iotbridge status --url http://127.0.0.1:9464 --watch
              iotbridge status --url http://127.0.0.1:9464 --json
              iotbridge status --url http://127.0.0.1:9464 --watch --count 10
            """
    )

    @Option(help: "The bridge's HTTP address (its http.listen), or the full URL of its /status.")
    var url: String = "http://127.0.0.1:9464"

    @Flag(help: "Redraw every second until Ctrl-C (when stdout is not a terminal: one plain block a second).")
    var watch = false

    @Flag(help: "Print /status as the bridge sent it, one JSON object a line (with --watch, one a second).")
    var json = false

    @Option(help: "With --watch: stop after this many polls (default: until Ctrl-C); exit 2 if the last one failed.")
    var count: Int?

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if self.count != nil && !self.watch { throw ValidationError("--count needs --watch") }
    }

    func run() async throws {
        let statusURL = Self.statusURL(self.url)
        var configuration = HTTPClientConfiguration()
        configuration.connectTimeoutMilliseconds = 2_000
        configuration.requestTimeoutMilliseconds = 5_000
        let client = HTTPClient(configuration: configuration)
        guard self.watch else {
            let (body, snapshot) = try await Self.fetch(client, statusURL)
            if self.json {
                Self.write(body)
            } else {
                Self.write(StatusBoard(current: snapshot, previous: nil).lines.joined(separator: "\n") + "\n")
            }
            return
        }
        let terminal = isatty(STDOUT_FILENO) != 0
        var previous: StatusSnapshot?
        var lastAnswer: ContinuousClock.Instant?
        var polls = 0
        var lastFailure: CLIError?
        while self.count.map({ polls < $0 }) ?? true {
            if polls > 0 { try await Task.sleep(for: .seconds(1)) }
            polls += 1
            do {
                let (body, snapshot) = try await Self.fetch(client, statusURL)
                lastFailure = nil
                lastAnswer = .now
                if self.json {
                    Self.write(body)
                } else {
                    let board = StatusBoard(current: snapshot, previous: previous).lines.joined(separator: "\n")
                    // A terminal gets the board redrawn in place; a pipe or file one block a second.
                    Self.write(terminal ? Self.clearScreen + board + "\n" : board + "\n\n")
                }
                previous = snapshot
            } catch let error as CLIError {
                lastFailure = error
                // After a gap, rates start again from the next answer rather than spanning the gap.
                previous = nil
                let age = lastAnswer.map { " (last answer \($0.duration(to: .now).components.seconds) s ago)" } ?? ""
                let line = "not live: \(error.message)\(age); retrying every second"
                if self.json {
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                } else {
                    Self.write(terminal ? Self.clearScreen + line + "\n" : line + "\n\n")
                }
            }
        }
        if let lastFailure { throw lastFailure }
    }

    /// Moves the cursor home and clears the screen (ANSI), so the board is redrawn in place.
    static let clearScreen = "\u{1B}[H\u{1B}[2J"

    /// `http://HOST:PORT` (or with a trailing `/`, or `/dashboard`) → its `/status`; a URL already ending in
    /// `/status` is kept.
    static func statusURL(_ url: String) -> String {
        var base = url
        if base.hasSuffix("/status") { return base }
        if base.hasSuffix("/dashboard") { base.removeLast("/dashboard".count) }
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/status"
    }

    /// GETs /status: its body and the parsed snapshot; a ``CLIError`` naming the URL when that fails.
    static func fetch(_ client: HTTPClient, _ url: String) async throws -> ([UInt8], StatusSnapshot) {
        let response: HTTPResponse
        do {
            response = try await client.execute(HTTPRequest(url: url))
        } catch let error as HTTPClientError {
            throw CLIError(
                "cannot reach the bridge at \(url): \(error.detail) — is `iotbridge run` running with http.listen there?"
            )
        } catch {
            throw CLIError("cannot reach the bridge at \(url): \(error)")
        }
        guard response.status == 200 else {
            throw CLIError(
                "\(url) answered HTTP \(response.status), not the bridge's /status — check --url (the bridge's http.listen)"
            )
        }
        do {
            return (response.body, try StatusSnapshot(json: response.body))
        } catch {
            throw CLIError(
                "\(url) did not answer a bridge's /status JSON (\(Self.reason(error))) — check --url (the bridge's http.listen)"
            )
        }
    }

    /// A decoding error in a few words, naming the member.
    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted: "not JSON"
        default: "\(error)"
        }
    }

    static func write(_ text: String) { Self.write(Array(text.utf8)) }

    static func write(_ bytes: [UInt8]) { FileHandle.standardOutput.write(Data(bytes)) }
}
