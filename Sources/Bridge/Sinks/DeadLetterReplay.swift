//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import AMQP
import Foundation
public import Logging
import RuleSQL

/// `iotbridge deadletter replay`: sends dead-lettered messages (JSON lines with the message as received, in
/// `amqp`) back through the sinks once the cause is fixed.
///
/// A record names the sink that refused it (`sink`); it goes back to that sink only, so sinks that confirmed
/// the message the first time do not get it twice. A record without a sink (the message itself was the
/// problem: undecodable, too large, a rule failed on it) is skipped unless `--sink` names where to send it.
/// A rule's output is sent as it was recorded. Records that fail again are written to the `remaining` file
/// with the new reason, so a replay can be repeated on what is left.
public struct DeadLetterReplay {
    /// What a replay did.
    public struct Report: Sendable, Hashable {
        /// Records read.
        public var records = 0
        /// Records the sink confirmed.
        public var replayed = 0
        /// Records refused again (written to the remaining file).
        public var refused = 0
        /// Records skipped: no sink recorded and none given, or not readable.
        public var skipped = 0
    }

    let configuration: BridgeConfiguration
    let engine: AMQPEngine
    let logger: Logger

    /// Creates a replay with the sinks of `configuration`.
    public init(configuration: BridgeConfiguration, engine: AMQPEngine, logger: Logger) {
        self.configuration = configuration
        self.engine = engine
        self.logger = logger
    }

    /// Replays every record of `file`; `sinkOverride` sends every record to that sink. Records that are not
    /// confirmed go to `remaining` (JSON lines, the same format).
    public func run(file: String, sinkOverride: String?, remaining: String) async throws -> Report {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw BridgeError(.configuration, "cannot read the dead-letter file '\(file)': \(BridgeConfigurationLoader.reason(error))")
        }
        let names = self.configuration.sinks.map(\.name)
        if let sinkOverride, !names.contains(sinkOverride) {
            throw BridgeError(.configuration, "--sink \(sinkOverride): no such sink in \(self.configuration.file) (sinks: \(names.joined(separator: ", ")))")
        }
        var sinks: [String: any Sink] = [:]
        let leftovers = JSONLinesSink(name: "remaining", path: remaining, logger: self.logger, format: MessageEnvelope.deadLetterLine)
        try await leftovers.start()
        var report = Report()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            report.records += 1
            guard let record = try? JSONParser.parse(String(line)), let object = record.objectValue,
                let amqp = object["amqp"]?.stringValue, let bytes = Data(base64Encoded: amqp)
            else {
                self.logger.warning("skipped an unreadable dead-letter record", metadata: ["line": "\(index + 1)"])
                report.skipped += 1
                continue
            }
            guard let sinkName = sinkOverride ?? object["sink"]?.stringValue, let configured = self.configuration.sinks.first(where: { $0.name == sinkName })
            else {
                self.logger.notice(
                    "skipped a record with no sink to send it to (pass --sink NAME)",
                    metadata: [
                        "line": "\(index + 1)", "messageId": "\(object["messageId"]?.stringValue ?? "-")", "reason": "\(object["reason"]?.stringValue ?? "-")",
                    ]
                )
                report.skipped += 1
                continue
            }
            let message = BridgeMessage(
                encoded: Array(bytes),
                decodingError: nil,
                upstream: object["upstream"]?.stringValue ?? "replay",
                instanceLabel: object["iotInstanceId"]?.stringValue ?? "replay",
                maxMessageSize: Int.max
            )
            var item = SinkMessage(message: message, rule: object["rule"]?.stringValue)
            if item.rule != nil, let payload = object["payload"]?.stringValue {
                item.rulePayload = object["payloadEncoding"]?.stringValue == "base64" ? Data(base64Encoded: payload).map(Array.init) : Array(payload.utf8)
            }
            if message.defect != nil, item.rulePayload == nil {
                report.skipped += 1
                self.logger.notice("skipped a record whose message cannot be sent", metadata: ["line": "\(index + 1)", "reason": "\(message.defect!)"])
                continue
            }
            let sink: any Sink
            if let existing = sinks[sinkName] {
                sink = existing
            } else {
                sink = Bridge.makeSink(configured, engine: self.engine, logger: self.logger, deadLetter: false)
                do {
                    try await sink.start()
                } catch {
                    for started in sinks.values { await started.shutdown(deadline: .seconds(10)) }
                    await leftovers.shutdown(deadline: .seconds(5))
                    throw error
                }
                sinks[sinkName] = sink
            }
            // One at a time: a replay is rare, and the order of the file is kept.
            let toSend = item
            let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<SinkOutcome, Never>) in
                Task {
                    do {
                        try await sink.send(toSend) { continuation.resume(returning: $0) }
                    } catch {
                        continuation.resume(returning: .refused("\(error)"))
                    }
                }
            }
            let failure: String
            switch outcome {
            case .confirmed:
                report.replayed += 1
                continue
            case .refused(let reason):
                failure = reason
            case .abandoned:
                failure = "not confirmed before the replay ended"
            }
            report.refused += 1
            var dead = item
            dead.deadLetterReason = failure
            dead.refusedBy = sinkName
            let leftover = dead
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Task {
                    do {
                        try await leftovers.send(leftover) { _ in continuation.resume() }
                    } catch {
                        continuation.resume()
                    }
                }
            }
        }
        for sink in sinks.values { await sink.shutdown(deadline: .seconds(10)) }
        await leftovers.shutdown(deadline: .seconds(5))
        return report
    }
}
