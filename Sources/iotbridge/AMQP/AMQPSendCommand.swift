//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Foundation
import Rules
import Synchronization

/// `iotbridge amqp send`: send N messages and report the peer's outcomes.
struct AMQPSendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send messages and report how many the peer accepted, rejected or released.",
        discussion: """
            Each message carries the IoT platform's application properties: messageId (PREFIX-N), \
            generateTime (now, epoch ms) and any --property you add, and the body as a data section. \
            Messages stay in flight up to --window at a time; an outcome counts only once the peer's \
            disposition arrived. A message in flight when the connection drops is counted "unsettled", \
            never "accepted"; "sent" counts only messages handed to an open connection (0 when the \
            connection or login failed), "requested" is --count.

            The summary is one JSON object on standard output. Exit status: 0 when every message was \
            accepted; 1 when some were not; 2 on a connection, login or usage error.

            Examples:
              iotbridge amqp send --url amqp://guest:guest@127.0.0.1:5672//queue/demo \\
                  --count 1000 --body hello
              iotbridge amqp send --url amqp://127.0.0.1:5672//queue/demo \\
                  --count 1 --body-file reading.json \\
                  --property topic=/a1B2c3/dev1/user/update --property qos:int=1
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LogOptions

    @Option(help: "How many messages to send.")
    var count: Int = 1

    @Option(help: "The body text (sent as UTF-8 bytes in a data section).")
    var body: String?

    @Option(help: ArgumentHelp("Read the body from this file (sent as-is).", valueName: "file"))
    var bodyFile: String?

    @Option(
        help: ArgumentHelp(
            "An application property KEY=VALUE (repeatable). Typed: KEY:int=1, KEY:long=1, KEY:double=1.5, KEY:bool=true, KEY:timestamp=EPOCH_MS.",
            valueName: "key=value"
        )
    )
    var property: [String] = []

    @Option(help: "The prefix of each messageId; the message number follows it.")
    var messageIdPrefix: String = "iotbridge-\(ProcessInfo.processInfo.processIdentifier)-"

    @Option(help: "How many messages may be in flight (queued or awaiting their outcome) at once.")
    var window: Int = 1000

    func validate() throws {
        if self.count < 1 { throw ValidationError("--count must be at least 1") }
        if self.window < 1 { throw ValidationError("--window must be at least 1") }
        if self.body != nil && self.bodyFile != nil { throw ValidationError("use either --body or --body-file, not both") }
        _ = try Self.parseProperties(self.property)
    }

    func run() async throws {
        let logger = try self.logging.makeLogger(label: "iotbridge.amqp")
        let configuration = try self.connection.makeConfiguration()
        let properties = try Self.parseProperties(self.property)
        let payload: [UInt8]
        if let file = self.bodyFile {
            do {
                payload = Array(try TextFile.bytes(file, what: "--body-file"))
            } catch {
                throw CLIError(error.description)
            }
        } else {
            payload = Array((self.body ?? "").utf8)
        }
        let engine = AMQPEngine(logger: logger)
        let amqp = engine.makeConnection(configuration)
        let tally = OutcomeTally(expected: self.count)
        let started = ContinuousClock.now
        do {
            try await amqp.open()
            let sender = try await amqp.openSender(address: configuration.endpoint.address, window: self.window)
            let generateTime = AMQPValue.long(Int64(Date().timeIntervalSince1970 * 1000))
            for index in 1...self.count {
                var applicationProperties = properties
                applicationProperties.reserveCapacity(properties.count + 2)
                let id = "\(self.messageIdPrefix)\(index)"
                if applicationProperties["messageId"] == nil { applicationProperties["messageId"] = .string(id) }
                if applicationProperties["generateTime"] == nil { applicationProperties["generateTime"] = generateTime }
                let message = AMQPMessage(
                    body: .data(payload),
                    applicationProperties: applicationProperties,
                    messageID: .string(id)
                )
                try await sender.enqueue(message) { tally.record($0) }
                tally.recordSent()
            }
            await tally.waitForAll()
        } catch let error as AMQPError {
            await amqp.close()
            await engine.shutdown()
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            print(tally.summaryJSON(seconds: Self.seconds(since: started)))
            throw ExitCode(2)
        }
        await amqp.close()
        await engine.shutdown()
        print(tally.summaryJSON(seconds: Self.seconds(since: started)))
        if !tally.allAccepted { throw ExitCode(1) }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    /// Parses `KEY=VALUE` and `KEY:TYPE=VALUE` into application properties.
    static func parseProperties(_ items: [String]) throws -> [String: AMQPValue] {
        var result: [String: AMQPValue] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "=") else {
                throw ValidationError("--property '\(item)': expected KEY=VALUE")
            }
            var key = String(item[..<equals])
            let text = String(item[item.index(after: equals)...])
            var type = "string"
            if let colon = key.lastIndex(of: ":") {
                type = String(key[key.index(after: colon)...])
                key = String(key[..<colon])
            }
            guard !key.isEmpty else { throw ValidationError("--property '\(item)': the key is empty") }
            let value: AMQPValue?
            switch type {
            case "string": value = .string(text)
            case "int": value = Int32(text).map { .int($0) }
            case "long": value = Int64(text).map { .long($0) }
            case "double": value = Double(text).map { .double($0) }
            case "bool": value = Bool(text).map { .bool($0) }
            case "timestamp": value = Int64(text).map { .timestamp($0) }
            default:
                throw ValidationError("--property '\(item)': unknown type '\(type)' (use int, long, double, bool, timestamp)")
            }
            guard let value else { throw ValidationError("--property '\(item)': '\(text)' is not a valid \(type)") }
            result[key] = value
        }
        return result
    }
}

/// Counts outcomes as they arrive on the proactor thread and wakes the sender when all are in.
final class OutcomeTally: Sendable {
    private struct Counts {
        var accepted = 0
        var rejected = 0
        var released = 0
        var modified = 0
        var unsettled = 0
        var failed = 0
        var firstFailure: String?
        var sent = 0
        var waiter: CheckedContinuation<Void, Never>?
        var total: Int { self.accepted + self.rejected + self.released + self.modified + self.unsettled + self.failed }
    }

    private let expected: Int
    private let counts = Mutex(Counts())

    init(expected: Int) {
        self.expected = expected
    }

    func record(_ result: Result<AMQPOutcome, AMQPError>) {
        let waiter = self.counts.withLock { counts -> CheckedContinuation<Void, Never>? in
            switch result {
            case .success(.accepted): counts.accepted += 1
            case .success(.rejected(let condition)):
                counts.rejected += 1
                if counts.firstFailure == nil { counts.firstFailure = "rejected: \(condition?.name ?? "no condition")" }
            case .success(.released): counts.released += 1
            case .success(.modified): counts.modified += 1
            case .success(.unsettled): counts.unsettled += 1
            case .failure(let error):
                counts.failed += 1
                if counts.firstFailure == nil { counts.firstFailure = error.message }
            }
            guard counts.total >= self.expected, let waiter = counts.waiter else { return nil }
            counts.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Counts a message handed to the connection; only those are reported as sent.
    func recordSent() {
        self.counts.withLock { $0.sent += 1 }
    }

    func waitForAll() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.counts.withLock { counts -> Bool in
                if counts.total >= self.expected { return true }
                counts.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    var allAccepted: Bool { self.counts.withLock { $0.accepted == self.expected } }

    func summaryJSON(seconds: Double) -> String {
        self.counts.withLock { c in
            let rate = seconds > 0 ? Double(c.accepted) / seconds : 0
            var text =
                "{\"requested\":\(self.expected),\"sent\":\(c.sent),\"accepted\":\(c.accepted),\"rejected\":\(c.rejected),"
                + "\"released\":\(c.released),\"modified\":\(c.modified),\"unsettled\":\(c.unsettled),"
                + "\"failed\":\(c.failed),\"seconds\":\(String(format: "%.3f", seconds)),"
                + "\"acceptedPerSecond\":\(Int(rate))"
            if let failure = c.firstFailure {
                text += ",\"firstFailure\":\"\(failure.replacingOccurrences(of: "\"", with: "'"))\""
            }
            return text + "}"
        }
    }
}
