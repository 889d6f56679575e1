//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// What a child process printed and how it ended.
public struct ChildRun: Sendable {
    /// The exit status (or the terminating signal's number, as Foundation reports it).
    public var status: Int32
    /// Everything written to standard output.
    public var stdout: String
    /// Everything written to standard error.
    public var stderr: String
}

/// Runs child processes from async tests without holding a thread of Swift's cooperative pool.
///
/// Swift Testing runs every test of a `swift test` run as a task on the cooperative pool, which has one thread per
/// core: two on CI. `Process.waitUntilExit()` and `readDataToEndOfFile()` block their thread, so two tests waiting
/// for children at once stopped every other test, and the PostgreSQL tests (whose pool and queries need those
/// threads to resume) all ran into their operation timeouts together. The blocking calls run here on a thread of
/// their own instead.
public enum ChildProcess {
    /// Runs `executable` with `arguments` (in `currentDirectory`, if given) to its end and returns its output.
    public static func run(_ executable: String, _ arguments: [String], currentDirectory: URL? = nil) async throws -> ChildRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let started = StartedProcess(process: process, out: out, err: err)
        return await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: started.waitForEnd()) }.start()
        }
    }

    /// Waits on a thread of its own until `process` (already started) has exited.
    public static func waitUntilExit(_ process: Process) async {
        let started = StartedProcess(process: process, out: nil, err: nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                started.process.waitUntilExit()
                continuation.resume()
            }.start()
        }
    }
}

/// A started process and its pipes, handed to the thread that waits for it (Process is not Sendable; only that
/// thread touches it until the run ends).
private final class StartedProcess: @unchecked Sendable {
    let process: Process
    let out: Pipe?
    let err: Pipe?

    init(process: Process, out: Pipe?, err: Pipe?) {
        self.process = process
        self.out = out
        self.err = err
    }

    /// Reads both pipes to their end (standard error on a second thread, so that a child filling one pipe never
    /// waits for us reading the other), then waits for the exit.
    func waitForEnd() -> ChildRun {
        let stderrDone = DispatchSemaphore(value: 0)
        let stderrBytes = StderrBuffer()
        Thread { [err] in
            stderrBytes.data = err?.fileHandleForReading.readDataToEndOfFile() ?? Data()
            stderrDone.signal()
        }.start()
        let stdoutBytes = self.out?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        stderrDone.wait()
        self.process.waitUntilExit()
        return ChildRun(
            status: self.process.terminationStatus,
            stdout: String(decoding: stdoutBytes, as: UTF8.self),
            stderr: String(decoding: stderrBytes.data, as: UTF8.self)
        )
    }
}

/// Standard error's bytes, written by the reader thread before it signals.
private final class StderrBuffer: @unchecked Sendable {
    var data = Data()
}
