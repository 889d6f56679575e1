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

/// An exclusive advisory lock on `PATH.lock`, held from `init` until the lock is released: one bridge per state
/// file. The lock file keeps the holder's pid so that the refusal can name it.
///
/// `flock` locks belong to the open file description, not to the process: a second `open` of the same file in
/// the same process conflicts too, so two stores of one process are kept apart as well. The kernel drops the
/// lock when the descriptor is closed, also when the process dies: a stale lock file never blocks a restart.
/// The file is never deleted (deleting it would let two processes lock two different inodes of one name).
final class StateFileLock: Sendable {
    /// The lock file.
    let path: String
    /// Open, and locked, until `deinit`.
    private let descriptor: Int32

    /// Takes the lock, or throws naming the process that holds it.
    init(statePath: String) throws {
        let path = statePath + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StateStoreError(path: statePath, message: "cannot open the lock file \(path): \(Self.lastError())")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            defer { close(descriptor) }
            guard failure == EWOULDBLOCK else {
                throw StateStoreError(path: statePath, message: "cannot lock \(path): \(Self.lastError(failure))")
            }
            // The holder writes its pid right after locking: an empty file means it is between those two steps.
            let holder = Self.readPid(descriptor).map { "pid \($0)" } ?? "pid unknown"
            throw StateStoreError(
                path: statePath,
                message: "another iotbridge (\(holder)) uses this state file",
                advice: "one bridge per state file; give each its own `state:`"
            )
        }
        // The pid is only for the message of the next process: a failure to write it must not fail the store.
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 {
            _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        }
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        // Closing the only descriptor of this open file description releases the lock.
        close(self.descriptor)
    }

    private static func readPid(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer.prefix(count), as: UTF8.self)
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static func lastError(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
