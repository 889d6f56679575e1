//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's file descriptors: its limit and how many are open. The listener stops accepting before they
/// run out (see `DescriptorBudget`).
enum ProtonDescriptors {
    /// The soft RLIMIT_NOFILE, or nil when there is none to respect (unlimited, or unreadable).
    static func limit() -> Int? {
        var limit = rlimit()
        #if os(Linux)
        let status = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        let status = getrlimit(RLIMIT_NOFILE, &limit)
        #endif
        // RLIM_INFINITY is the largest value, so "unlimited" fails the range check too.
        guard status == 0, limit.rlim_cur < rlim_t(Int32.max) else { return nil }
        return Int(limit.rlim_cur)
    }

    /// How many descriptors the process has open now, counted in `/proc/self/fd` (Linux); nil where that cannot
    /// be read. Costs one directory read: a few microseconds per hundred descriptors.
    static func inUse() -> Int? {
        #if os(Linux)
        guard let directory = opendir("/proc/self/fd") else { return nil }
        var count = 0
        while let entry = readdir(directory) {
            // Skip "." and "..": a name that starts with a dot is never a descriptor number.
            if UInt8(bitPattern: entry.pointee.d_name.0) != UInt8(ascii: ".") { count += 1 }
        }
        closedir(directory)
        // The directory read itself held one descriptor.
        return max(0, count - 1)
        #else
        return nil
        #endif
    }
}
