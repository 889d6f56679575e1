//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import Synchronization

/// Writes one JSON line per message to a file (appending) or to standard output ("-").
///
/// Lines are written in batches on a dedicated serial queue (blocking I/O stays off the cooperative pool) and a
/// regular file is fsync'd once per batch: a message is confirmed only after its line is on disk (on a pipe or
/// terminal, once it is written). A failed write confirms nothing: the batch is kept, the error reported on
/// /status and in the log, and the write retried with backoff, so upstream settlement stops instead of losing.
final class JSONLinesSink: Sink, @unchecked Sendable {
    // @unchecked Sendable: `descriptor` and `isRegularFile` are set in `start()` before any send and only read
    // on `queue` afterwards; everything else is in `pending` (a Mutex) or immutable.

    private struct Pending {
        var lines: [([UInt8], @Sendable (SinkOutcome) -> Void)] = []
        var isFlushScheduled = false
        var state = SinkState(phase: "starting")
        var stopped = false
    }

    let name: String
    let path: String
    let format: @Sendable (SinkMessage) -> [UInt8]
    let logger: Logger
    private let window: SinkWindow
    private let queue: DispatchQueue
    private let pending = Mutex(Pending())
    private var descriptor: Int32 = -1
    private var isRegularFile = false

    /// `format` turns a message into its line (the envelope for sinks, the dead-letter record for the dead
    /// letter).
    init(name: String, path: String, window: Int = 10_000, logger: Logger, format: @escaping @Sendable (SinkMessage) -> [UInt8]) {
        self.name = name
        self.path = path
        self.format = format
        self.logger = logger
        self.window = SinkWindow(capacity: window)
        self.queue = DispatchQueue(label: "iotbridge.sink.\(name)")
    }

    func start() async throws {
        if self.path == "-" {
            self.descriptor = STDOUT_FILENO
        } else {
            let fd = open(self.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw BridgeError(.sinkUnavailable, "sink \(self.name): cannot open '\(self.path)': \(String(cString: strerror(errno)))")
            }
            self.descriptor = fd
        }
        var info = stat()
        self.isRegularFile = fstat(self.descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        self.pending.withLock { $0.state.phase = "flowing" }
    }

    func send(_ message: SinkMessage, completion: @escaping @Sendable (SinkOutcome) -> Void) async throws {
        try await self.window.acquire()
        let line = self.format(message)
        let schedule = self.pending.withLock { pending -> Bool in
            pending.lines.append((line, completion))
            pending.state.inFlight += 1
            defer { pending.isFlushScheduled = true }
            return !pending.isFlushScheduled
        }
        if schedule { self.queue.async { self.flush(attempt: 0) } }
    }

    /// On `queue`: writes everything pending as one batch, fsyncs, then confirms the batch.
    private func flush(attempt: Int) {
        let batch = self.pending.withLock { pending -> [([UInt8], @Sendable (SinkOutcome) -> Void)] in
            if pending.stopped { return [] }
            if pending.lines.isEmpty { pending.isFlushScheduled = false }
            defer { pending.lines.removeAll(keepingCapacity: true) }
            return pending.lines
        }
        guard !batch.isEmpty else { return }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(batch.reduce(0) { $0 + $1.0.count })
        for (line, _) in batch { buffer.append(contentsOf: line) }
        if let error = self.writeAll(buffer) {
            let (delay, stopped) = self.pending.withLock { pending -> (Double, Bool) in
                // Put the batch back in front: order is kept and nothing is confirmed.
                pending.lines.insert(contentsOf: batch, at: 0)
                pending.state.retries += 1
                pending.state.phase = "retrying"
                pending.state.lastError = error
                return (min(30, 0.1 * pow(2, Double(min(attempt, 9)))), pending.stopped)
            }
            if attempt == 0 || attempt % 10 == 0 {
                self.logger.error("sink write failed; retrying", metadata: ["sink": "\(self.name)", "error": "\(error)"])
            }
            if stopped { return }
            self.queue.asyncAfter(deadline: .now() + delay) { self.flush(attempt: attempt + 1) }
            return
        }
        self.pending.withLock { pending in
            pending.state.inFlight -= batch.count
            pending.state.confirmed += batch.count
            pending.state.phase = "flowing"
            pending.state.lastError = nil
        }
        for (_, completion) in batch {
            self.window.release()
            completion(.confirmed)
        }
        self.queue.async { self.flush(attempt: 0) }
    }

    /// Writes every byte and fsyncs a regular file; returns the error text, or nil.
    private func writeAll(_ bytes: [UInt8]) -> String? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                write(self.descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return "writing '\(self.path)': \(String(cString: strerror(errno)))"
            }
            offset += written
        }
        if self.isRegularFile, fsync(self.descriptor) != 0 {
            return "fsync of '\(self.path)': \(String(cString: strerror(errno)))"
        }
        return nil
    }

    func shutdown(deadline: Duration) async {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        while self.pending.withLock({ $0.state.inFlight }) > 0, clock.now < end {
            try? await Task.sleep(for: .milliseconds(20))
        }
        self.pending.withLock { $0.stopped = true }
        // After the batch being written (if any) finished: what is left was never confirmed.
        let leftovers = self.queue.sync {
            if self.descriptor > STDERR_FILENO { close(self.descriptor) }
            return self.pending.withLock { pending -> [([UInt8], @Sendable (SinkOutcome) -> Void)] in
                pending.state.phase = "stopped"
                pending.state.inFlight = 0
                defer { pending.lines.removeAll() }
                return pending.lines
            }
        }
        self.window.close()
        for (_, completion) in leftovers { completion(.abandoned) }
    }

    var state: SinkState { self.pending.withLock { $0.state } }
}
