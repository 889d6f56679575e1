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

/// Loopback TCP sockets for the tests: free ports, and a server that accepts and never answers.
enum Sockets {
    /// A port on 127.0.0.1 that nothing listens on right now (the kernel's pick for a socket bound to port 0,
    /// released again). Another process could take it meanwhile; on a test machine that race is negligible.
    static func freePort() throws -> Int {
        let socket = try Self.boundSocket(port: 0)
        defer { close(socket.descriptor) }
        return socket.port
    }

    /// A TCP socket bound to 127.0.0.1:`port` (SO_REUSEADDR), and its port.
    static func boundSocket(port: Int) throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw IntegrationTestError("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let error = errno
            close(descriptor)
            throw IntegrationTestError("bind(127.0.0.1:\(port)) failed: errno \(error)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// A TCP server on 127.0.0.1 that completes connections and then never says a word: it listens but never calls
/// `accept`, so the kernel finishes the handshake from the backlog and the client's AMQP header goes nowhere.
/// Stands in for an unreachable or stalled host without depending on the network.
final class SilentTCPServer: Sendable {
    /// Its port.
    let port: Int
    private let descriptor: Int32

    /// Binds a free port and listens.
    init() throws {
        let (descriptor, port) = try Sockets.boundSocket(port: 0)
        guard listen(descriptor, 16) == 0 else {
            Glibc.close(descriptor)
            throw IntegrationTestError("listen() failed: errno \(errno)")
        }
        self.descriptor = descriptor
        self.port = port
    }

    /// Stops listening; connections still in the backlog are reset.
    func close() {
        _ = Glibc.close(self.descriptor)
    }
}
