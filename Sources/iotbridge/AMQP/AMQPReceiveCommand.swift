//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import ArgumentParser
import Foundation
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `iotbridge amqp receive`: print each message as a JSON line, then accept it.
struct AMQPReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Receive messages and print each as one JSON line, then accept it.",
        discussion: """
            Each line holds topic, messageId and generateTime (the IoT platform's application properties), the \
            other application properties under "properties", and the payload: as text when it is UTF-8, else \
            base64 (then "payloadEncoding" is "base64"). A message is accepted only after its line is written. \
            A transfer that is not a valid AMQP message is rejected (amqp:decode-error, so the peer can dead-letter \
            it) and reported on standard error; it prints no line and does not count towards --count.

            Exit status: 0 when --count messages arrived; 1 on timeout; 2 on a connection, login or usage error.

            Examples:
              iotbridge amqp receive --url amqp://127.0.0.1:5672//queue/demo \\
                  --user guest --password-env PW --count 5
              export ALIYUN_SECRET=...
              iotbridge amqp receive \\
                  --url amqps://iot-06z00abc.amqp.iothub.aliyuncs.com \\
                  --aksign --access-key-id LTAI... \\
                  --access-key-secret-env ALIYUN_SECRET \\
                  --consumer-group DEFAULT_GROUP --instance-id iot-06z00abc \\
                  --count 1 --timeout 60
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LogOptions

    @Option(help: "Stop after this many messages (exit 0). Default: run until interrupted or --timeout.")
    var count: Int?

    @Option(help: "The credit window: how many messages may be in flight unsettled (the prefetch).")
    var credit: Int = 100

    @Option(help: "Give up after this many seconds (exit 1) if --count messages have not arrived.")
    var timeout: Double?

    func validate() throws {
        if let count = self.count, count < 1 { throw ValidationError("--count must be at least 1") }
        if self.credit < 1 { throw ValidationError("--credit must be at least 1") }
        if let timeout = self.timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let logger = try self.logging.makeLogger(label: "iotbridge.amqp")
        // A closed pipe (`| head`) is a write error we report and release for, not a silent SIGPIPE death.
        signal(SIGPIPE, SIG_IGN)
        var configuration = try self.connection.makeConfiguration()
        if let timeout = self.timeout {
            configuration.connectTimeout = .milliseconds(Int64(min(timeout, 15) * 1000))
        }
        let engine = AMQPEngine(logger: logger)
        let amqp = engine.makeConnection(configuration)
        let service = ReceiveService(
            connection: amqp,
            address: configuration.endpoint.address,
            count: self.count,
            credit: self.credit,
            timeout: self.timeout
        )
        // SIGTERM/SIGINT through swift-service-lifecycle: what was received is written and accepted, the rest
        // stays with the peer.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        let outcome: ReceiveOutcome
        do {
            try await group.run()
            outcome = service.outcome ?? .interrupted
        } catch let error as AMQPError {
            await amqp.close()
            await engine.shutdown()
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(2)
        } catch let error as JSONLineWriteError {
            await amqp.close()
            await engine.shutdown()
            FileHandle.standardError.write(Data("error: \(error); the unwritten messages were released for redelivery\n".utf8))
            throw ExitCode(1)
        }
        await amqp.close()
        await engine.shutdown()
        let got = ReceiveProgress.shared.count
        let wanted = self.count.map { " of \($0)" } ?? ""
        switch outcome {
        case .done:
            break
        case .timedOut:
            FileHandle.standardError.write(Data("error: timed out after \(self.timeout ?? 0) s with \(got)\(wanted) messages\n".utf8))
            throw ExitCode(1)
        case .interrupted:
            if self.count != nil {
                FileHandle.standardError.write(Data("interrupted with \(got)\(wanted) messages\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    /// The receive as a `Service`, so that a signal ends it gracefully.
    final class ReceiveService: Service, Sendable {
        let connection: AMQPConnection
        let address: String?
        let count: Int?
        let credit: Int
        let timeout: Double?
        private let result = Mutex<ReceiveOutcome?>(nil)

        init(connection: AMQPConnection, address: String?, count: Int?, credit: Int, timeout: Double?) {
            self.connection = connection
            self.address = address
            self.count = count
            self.credit = credit
            self.timeout = timeout
        }

        var outcome: ReceiveOutcome? { self.result.withLock { $0 } }

        func run() async throws {
            let outcome = try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: ReceiveOutcome.self) { group in
                    group.addTask {
                        try await AMQPReceiveCommand.receive(on: self.connection, address: self.address, count: self.count, credit: self.credit)
                    }
                    if let timeout = self.timeout {
                        group.addTask {
                            try await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                            return .timedOut
                        }
                    }
                    let first = try await group.next()!
                    group.cancelAll()
                    return first
                }
            }
            self.result.withLock { $0 = outcome }
        }
    }

    enum ReceiveOutcome: Sendable {
        case done
        case timedOut
        case interrupted
    }

    static func receive(on amqp: AMQPConnection, address: String?, count: Int?, credit: Int) async throws -> ReceiveOutcome {
        try await amqp.open()
        let receiver = try await amqp.openReceiver(address: address, credit: credit)
        var output = JSONLineOutput()
        var iterator = receiver.deliveries.makeAsyncIterator()
        var received = 0
        var written: [AMQPDelivery] = []
        var undecodable = 0
        // Settling in slices of a quarter window keeps credit flowing back while a large batch is written.
        let slice = max(1, credit / 4)
        var interrupted = false
        do {
            while let delivery = try await iterator.next() {
                if let error = delivery.decodingError {
                    // Not a message: no line for it (never an empty one); the peer learns why and can dead-letter it.
                    undecodable += 1
                    delivery.reject(AMQPCondition(name: AMQPCondition.decodeError, description: error.message))
                    FileHandle.standardError.write(
                        Data(
                            "error: rejected an undecodable message of \(delivery.encoded.count) bytes (\(undecodable) so far): \(error.message)\n".utf8
                        ))
                } else {
                    output.append(delivery.message)
                    written.append(delivery)
                    received += 1
                }
                let done = count.map { received >= $0 } ?? false
                if written.count >= slice || output.isFull || !iterator.hasBufferedDeliveries || done {
                    // Accept only once the lines are written to stdout: a crash before this re-delivers, never loses.
                    try Self.flush(&output, settling: &written, on: receiver)
                    ReceiveProgress.shared.count = received
                }
                if done { break }
            }
        } catch is CancellationError {
            // A signal or the timeout: what arrived so far is still written and accepted below.
            interrupted = true
        }
        try Self.flush(&output, settling: &written, on: receiver)
        ReceiveProgress.shared.count = received
        return interrupted ? (count.map { received >= $0 } ?? false ? .done : .interrupted) : .done
    }

    /// Writes the pending lines, then accepts their deliveries; when the write fails, releases them instead (the
    /// peer redelivers) and throws.
    private static func flush(_ output: inout JSONLineOutput, settling written: inout [AMQPDelivery], on receiver: AMQPReceiver) throws {
        defer { written.removeAll(keepingCapacity: true) }
        do {
            try output.flush()
        } catch {
            receiver.settle(written, .released)
            throw error
        }
        receiver.settle(written, .accepted)
    }
}

/// How many messages arrived, readable by the timeout path.
final class ReceiveProgress: Sendable {
    static let shared = ReceiveProgress()
    private let accepted = Atomic<Int>(0)

    /// Messages written and accepted so far.
    var count: Int {
        get { self.accepted.load(ordering: .relaxed) }
        set { self.accepted.store(newValue, ordering: .relaxed) }
    }
}
