//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP client that speaks AMQP by hand: for what a well-behaved client never does (skip SASL, send garbage, a
/// frame header announcing gigabytes, nothing at all). Blocking socket calls with a receive timeout; the tests
/// call it from a detached task so no cooperative thread waits on the network.
final class RawAMQPSocket: @unchecked Sendable {
    // @unchecked Sendable: one test uses one socket from one task at a time.
    let descriptor: Int32

    /// Connects to 127.0.0.1:`port` (from `sourceAddress` if given, e.g. 127.0.0.2).
    init(port: Int, sourceAddress: String? = nil) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackError("socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let sourceAddress {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(sourceAddress)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(descriptor)
                throw LoopbackError("bind(\(sourceAddress)) failed: errno \(errno)")
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(descriptor)
            throw LoopbackError("connect(127.0.0.1:\(port)) failed: errno \(error)")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(self.descriptor)
    }

    /// Writes all of `bytes`; false once the peer closed (EPIPE, ECONNRESET).
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    /// Reads until the peer closes or `timeout` passes; returns what arrived and whether the peer closed.
    func readUntilClosed(timeout: Duration) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                return (received, true)
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                return (received, true)
            }
        }
        return (received, false)
    }

    // MARK: - Frames

    /// `AMQP 0 1 0 0`: plain AMQP, no SASL.
    static let amqpHeader: [UInt8] = Array("AMQP".utf8) + [0, 1, 0, 0]
    /// `AMQP 3 1 0 0`: SASL first.
    static let saslHeader: [UInt8] = Array("AMQP".utf8) + [3, 1, 0, 0]

    /// An AMQP frame (type 0) on `channel` holding the performative `code` with list `fields` (already encoded).
    static func frame(code: UInt8, channel: UInt16 = 0, type: UInt8 = 0, fields: [[UInt8]]) -> [UInt8] {
        let body = fields.flatMap { $0 }
        let list: [UInt8] = [0xd0] + uint32(body.count + 4) + uint32(fields.count) + body
        let performative: [UInt8] = [0x00, 0x53, code] + list
        return uint32(8 + performative.count) + [2, type] + [UInt8(channel >> 8), UInt8(channel & 0xff)] + performative
    }

    /// A SASL frame (type 1) with sasl-init for PLAIN with `user` and `password`.
    static func saslInitPlain(user: String, password: String) -> [UInt8] {
        let response = [0] + Array(user.utf8) + [0] + Array(password.utf8)
        return self.frame(
            code: 0x41,
            type: 1,
            fields: [[0xa3, 5] + Array("PLAIN".utf8), [0xb0] + uint32(response.count) + response]
        )
    }

    /// Open with `containerID`.
    static func open(containerID: String) -> [UInt8] { self.frame(code: 0x10, fields: [string(containerID)]) }

    /// Begin on `channel` (remote-channel null, next-outgoing-id 0, windows 100).
    static func begin(channel: UInt16 = 0) -> [UInt8] {
        self.frame(code: 0x11, channel: channel, fields: [[0x40], [0x43], [0x70] + uint32(100), [0x70] + uint32(100)])
    }

    /// Attach of a sending link (role sender) named `name` with handle `handle` to `address`.
    static func attach(name: String, handle: UInt32, address: String, channel: UInt16 = 0) -> [UInt8] {
        let target: [UInt8] = [0x00, 0x53, 0x29, 0xd0] + uint32(string(address).count + 4) + uint32(1) + string(address)
        return self.frame(code: 0x12, channel: channel, fields: [string(name), [0x70] + uint32(Int(handle)), [0x42], [0x40], [0x40], [0x40], target])
    }

    static func string(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return [0xb1] + uint32(utf8.count) + utf8
    }

    static func uint32(_ value: Int) -> [UInt8] {
        let value = UInt32(truncatingIfNeeded: value)
        return [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    /// The performative codes of the AMQP frames in `bytes` (after any protocol headers), in order: 0x10 open,
    /// 0x11 begin, 0x12 attach, 0x18 close, …; SASL frames (type 1) as 0x40 + their code.
    static func performatives(in bytes: [UInt8]) -> [UInt8] {
        var codes: [UInt8] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            if bytes[offset..<(offset + 4)].elementsEqual("AMQP".utf8) {
                offset += 8
                continue
            }
            let size = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let dataOffset = Int(bytes[offset + 4]) * 4
            guard size >= 8, offset + size <= bytes.count else { break }
            let start = offset + dataOffset
            if size > dataOffset, start + 2 < bytes.count, bytes[start] == 0x00, bytes[start + 1] == 0x53 {
                codes.append(bytes[offset + 5] == 1 ? 0x40 &+ bytes[start + 2] : bytes[start + 2])
            }
            offset += size
        }
        return codes
    }
}
