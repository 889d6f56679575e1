//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import Testing

@testable import AMQP

/// The listener against clients that cheat or blunder, in one process on loopback: each refusal comes with the
/// AMQP condition that says why, is counted, and leaves the listener serving a well-behaved client.
@Suite(.timeLimit(.minutes(2)))
struct ListenerHardeningTests {
    static let user = "hardening-user"
    static let password = "hardening-pw-51c9"

    /// Runs `body` with an engine and a listener on a free loopback port that requires `user`/`password`,
    /// configured further by `configure`.
    static func withListener(
        _ configure: (inout AMQPListenerConfiguration) -> Void = { _ in },
        _ body: (AMQPEngine, AMQPListener) async throws -> Void
    ) async throws {
        let engine = AMQPEngine(logger: Loopback.logger)
        do {
            var configuration = AMQPListenerConfiguration(host: "127.0.0.1", port: 0)
            configuration.authenticator = .fixed(username: Self.user, password: Self.password)
            configure(&configuration)
            let listener = try await engine.listen(configuration)
            try await body(engine, listener)
            await listener.close()
            await engine.shutdown()
        } catch {
            await engine.shutdown()
            throw error
        }
    }

    /// A client configuration for `listener` that fails fast.
    static func client(_ listener: AMQPListener, user: String = Self.user, password: String = Self.password) throws -> AMQPConnectionConfiguration {
        var configuration = AMQPConnectionConfiguration(
            endpoint: AMQPEndpoint(host: "127.0.0.1", port: listener.port),
            authentication: .plain(username: user, password: password)
        )
        configuration.reconnect = .never
        configuration.connectTimeout = .seconds(10)
        return configuration
    }

    /// Serves the listener's links: accepts every message published, and counts them.
    static func serve(_ listener: AMQPListener, received: Collector<AMQPMessage>) -> Task<Void, Never> {
        Task {
            await withDiscardingTaskGroup { group in
                for await link in listener.links {
                    guard case .publishing(let receiver, _) = link else { continue }
                    group.addTask {
                        do {
                            for try await delivery in receiver.deliveries {
                                received.append(delivery.message)
                                delivery.accept()
                            }
                        } catch {}
                    }
                }
            }
        }
    }

    /// A normal client still logs in and publishes: the check after every abuse.
    static func expectServing(_ engine: AMQPEngine, _ listener: AMQPListener, _ received: Collector<AMQPMessage>) async throws {
        let connection = engine.makeConnection(try Self.client(listener))
        try await connection.open()
        let sender = try await connection.openSender(address: "still-serving")
        let before = received.count
        #expect(try await sender.send(AMQPMessage(body: .data([1, 2, 3]))) == .accepted)
        try await waitUntil("the listener received the message") { received.count > before }
        await connection.close()
    }

    @Test("a client that skips SASL gets Open and Close(unauthorized-access), and never a Begin or Attach")
    func skippingSASLIsRefused() async throws {
        try await Self.withListener { engine, listener in
            let received = Collector<AMQPMessage>()
            let server = Self.serve(listener, received: received)
            defer { server.cancel() }
            let port = listener.port
            let (bytes, closed) = try await Task.detached {
                let socket = try RawAMQPSocket(port: port)
                socket.write(
                    RawAMQPSocket.amqpHeader + RawAMQPSocket.open(containerID: "sneaky") + RawAMQPSocket.begin()
                        + RawAMQPSocket.attach(name: "sneak", handle: 0, address: "secrets"))
                return socket.readUntilClosed(timeout: .seconds(5))
            }.value
            #expect(closed, "the listener closes the connection")
            #expect(RawAMQPSocket.performatives(in: bytes) == [0x10, 0x18], "Open then Close, nothing else")
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.contains("amqp:unauthorized-access"))
            #expect(text.contains("requires SASL authentication"))
            #expect(listener.statistics.loginsRefused == 1)
            #expect(received.count == 0)
            try await Self.expectServing(engine, listener, received)
        }
    }

    @Test("a client that begins more sessions than channel-max allows never gets the extra one")
    func sessionsBeyondTheLimitAreRefused() async throws {
        // No authenticator: the raw client may skip SASL and go straight to its sessions.
        try await Self.withListener({
            $0.authenticator = nil
            $0.limits.maxSessionsPerConnection = 2
        }) { _, listener in
            let port = listener.port
            let (first, bytes, closed) = try await Task.detached {
                let socket = try RawAMQPSocket(port: port)
                socket.write(
                    RawAMQPSocket.amqpHeader + RawAMQPSocket.open(containerID: "greedy")
                        + RawAMQPSocket.begin(channel: 0) + RawAMQPSocket.begin(channel: 1))
                let first = socket.readUntilClosed(timeout: .seconds(1)).bytes
                // Our Open announced channel-max 1: a third session needs channel 2.
                socket.write(RawAMQPSocket.begin(channel: 2))
                let (rest, closed) = socket.readUntilClosed(timeout: .seconds(5))
                return (first, rest, closed)
            }.value
            #expect(RawAMQPSocket.performatives(in: first) == [0x10, 0x11, 0x11], "Open and two Begins")
            #expect(RawAMQPSocket.performatives(in: bytes) == [0x18], "then Close, no third Begin")
            #expect(closed)
            #expect(String(decoding: bytes, as: UTF8.self).contains("channel_max"))
        }
    }

    @Test("the user name of every connection is the one it logged in with (the string outlives Proton's use)")
    func peerUserIsTheLoggedInUser() async throws {
        try await Self.withListener({ configuration in
            configuration.authenticator = AMQPAuthenticator { user, password in user.hasPrefix("user-") && password == "pw-" + user }
        }) { engine, listener in
            let users = (1...20).map { "user-\($0)-" + String(repeating: "x", count: $0 * 7) }
            let seen = Collector<String>()
            let collector = Task {
                for await link in listener.links {
                    if case .publishing(_, let peer) = link {
                        seen.append(peer.user ?? "<nil>")
                        #expect(peer.mechanism == "PLAIN")
                    }
                    if seen.count == users.count { return }
                }
            }
            var connections: [AMQPConnection] = []
            for user in users {
                let connection = engine.makeConnection(try Self.client(listener, user: user, password: "pw-" + user))
                try await connection.open()
                _ = try await connection.openSender(address: "who")
                connections.append(connection)
            }
            try await withTimeout(.seconds(10), "every link arrived") { await collector.value }
            #expect(Set(seen.all) == Set(users))
            for connection in connections { await connection.close() }
        }
    }

    @Test("a wrong password is answered only after the failed-login delay, which grows per address")
    func failedLoginsAreDelayed() async throws {
        try await Self.withListener({ configuration in
            configuration.limits.failedLoginDelay = .milliseconds(200)
            configuration.limits.maxFailedLoginDelay = .milliseconds(800)
        }) { engine, listener in
            let clock = ContinuousClock()
            var waits: [Duration] = []
            for _ in 0..<3 {
                let start = clock.now
                let connection = engine.makeConnection(try Self.client(listener, password: "wrong"))
                let error = await #expect(throws: AMQPError.self) { try await connection.open() }
                #expect(error?.code == .authentication)
                waits.append(clock.now - start)
            }
            #expect(waits[0] >= .milliseconds(190))
            #expect(waits[1] >= .milliseconds(390))
            #expect(waits[2] >= .milliseconds(790))
            #expect(listener.statistics.loginsFailed == 3)
            // While the address has recent failures, a right password waits as long: the timing tells nothing.
            let start = clock.now
            let connection = engine.makeConnection(try Self.client(listener))
            try await connection.open()
            #expect(clock.now - start >= .milliseconds(790))
            await connection.close()
        }
    }

    @Test("a sasl-init sent with the very first bytes is judged with the client's address like any other")
    func pipelinedLoginsCountAgainstTheirAddress() async throws {
        try await Self.withListener({
            $0.limits.failedLoginDelay = .milliseconds(300)
            $0.limits.maxFailedLoginDelay = .seconds(2)
        }) { engine, listener in
            let port = listener.port
            let clock = ContinuousClock()
            let start = clock.now
            let closed = try await Task.detached {
                let socket = try RawAMQPSocket(port: port)
                socket.write(RawAMQPSocket.saslHeader + RawAMQPSocket.saslInitPlain(user: Self.user, password: "guess"))
                return socket.readUntilClosed(timeout: .seconds(5)).closed
            }.value
            #expect(closed)
            #expect(clock.now - start >= .milliseconds(290), "the failure waited for its delay")
            // The failure counts for 127.0.0.1: a right password from there now waits for the second delay.
            let loginStart = clock.now
            let connection = engine.makeConnection(try Self.client(listener))
            try await connection.open()
            #expect(clock.now - loginStart >= .milliseconds(590))
            await connection.close()
            #expect(listener.statistics.loginsFailed == 1)
        }
    }

    @Test("a client that connects and says nothing, or trickles, is closed at the handshake deadline")
    func silentAndSlowClientsAreClosedAtTheDeadline() async throws {
        try await Self.withListener({ $0.limits.handshakeTimeout = .milliseconds(400) }) { engine, listener in
            let received = Collector<AMQPMessage>()
            let server = Self.serve(listener, received: received)
            defer { server.cancel() }
            let port = listener.port
            let (silentClosed, slowClosed) = try await Task.detached {
                let silent = try RawAMQPSocket(port: port)
                let slow = try RawAMQPSocket(port: port)
                slow.write(RawAMQPSocket.saslHeader)
                // One byte of a frame every 100 ms: never a whole frame before the deadline.
                var slowClosed = false
                for byte in RawAMQPSocket.open(containerID: "slow").prefix(20) {
                    if !slow.write([byte]) {
                        slowClosed = true
                        break
                    }
                    if slow.readUntilClosed(timeout: .milliseconds(100)).closed {
                        slowClosed = true
                        break
                    }
                }
                return (silent.readUntilClosed(timeout: .seconds(3)).closed, slowClosed || slow.readUntilClosed(timeout: .seconds(3)).closed)
            }.value
            #expect(silentClosed)
            #expect(slowClosed)
            // Closed by the listener (the reads report a close, not a give-up after 3 s), and counted as handshake
            // timeouts: no wall-clock bound, which a loaded 2-core machine overran (6.02 s once).
            #expect(listener.statistics.handshakeTimeouts == 2)
            try await Self.expectServing(engine, listener, received)
        }
    }

    @Test("a frame header announcing 4 GB, and garbage, end the connection after at most the max frame size")
    func hugeFramesAndGarbageAreRefused() async throws {
        try await Self.withListener({ $0.limits.maxFrameSize = 4096 }) { engine, listener in
            let received = Collector<AMQPMessage>()
            let server = Self.serve(listener, received: received)
            defer { server.cancel() }
            let port = listener.port
            let (hugeSent, garbageClosed) = try await Task.detached {
                let huge = try RawAMQPSocket(port: port)
                huge.write(RawAMQPSocket.saslHeader + [0xff, 0xff, 0xff, 0x00, 2, 1, 0, 0])
                // Keep sending until the listener closes: it must not read (and hold) megabytes.
                var sent = 0
                let chunk = [UInt8](repeating: 0x41, count: 16_384)
                while sent < 64 << 20, huge.write(chunk) { sent += chunk.count }
                let garbage = try RawAMQPSocket(port: port)
                garbage.write((0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) })
                return (sent, garbage.readUntilClosed(timeout: .seconds(5)).closed)
            }.value
            // The kernel buffers a few MB of socket data before the close shows; far less than 64 MB.
            #expect(hugeSent < 16 << 20, "sent \(hugeSent) bytes before the listener closed")
            #expect(garbageClosed)
            try await waitUntil("both failures counted") { listener.statistics.protocolErrors >= 2 }
            try await Self.expectServing(engine, listener, received)
        }
    }

    @Test("a message over the max message size detaches the link with message-size-exceeded; the next link works")
    func oversizedMessagesAreRefused() async throws {
        try await Self.withListener({ $0.limits.maxMessageSize = 64 << 10 }) { engine, listener in
            let received = Collector<AMQPMessage>()
            let server = Self.serve(listener, received: received)
            defer { server.cancel() }
            let connection = engine.makeConnection(try Self.client(listener))
            try await connection.open()
            let sender = try await connection.openSender(address: "big")
            let big = AMQPMessage(body: .data([UInt8](repeating: 7, count: 200 << 10)))
            // The delivery is rejected with the reason, and the link detached with it.
            let outcome = try? await sender.send(big)
            guard case .rejected(let condition) = outcome else {
                Issue.record("expected a rejection, got \(String(describing: outcome))")
                return
            }
            #expect(condition?.name == AMQPCondition.messageSizeExceeded)
            let detached = await #expect(throws: AMQPError.self) { try await sender.send(AMQPMessage(body: .data([1]))) }
            #expect(detached?.condition?.name == AMQPCondition.messageSizeExceeded)
            #expect(listener.statistics.messagesTooLarge == 1)
            #expect(received.count == 0)
            let next = try await connection.openSender(address: "small")
            #expect(try await next.send(AMQPMessage(body: .data([UInt8](repeating: 7, count: 60 << 10)))) == .accepted)
            await connection.close()
        }
    }

    @Test("links beyond the per-session limit are refused; attach and detach in a loop never runs out")
    func linkLimitIsEnforcedAndDetachedLinksAreFreed() async throws {
        try await Self.withListener({ $0.limits.maxLinksPerSession = 3 }) { engine, listener in
            let received = Collector<AMQPMessage>()
            let server = Self.serve(listener, received: received)
            defer { server.cancel() }
            let connection = engine.makeConnection(try Self.client(listener))
            try await connection.open()
            var senders: [AMQPSender] = []
            for index in 0..<3 { senders.append(try await connection.openSender(address: "l\(index)")) }
            let error = await #expect(throws: AMQPError.self) { _ = try await connection.openSender(address: "one-too-many") }
            #expect(error?.condition?.name == AMQPCondition.resourceLimitExceeded)
            #expect(error?.condition?.description.contains("3 links") == true)
            #expect(listener.statistics.linksRefused == 1)
            // Proton writes a new link's Attach before an older link's Detach that was asked for in the same
            // batch, so the loop keeps a slot spare for that overlap; a leaked slot would still exhaust it at once.
            senders.removeLast().close()
            senders.removeLast().close()
            // A message on the remaining link goes out after both detaches: the listener has them once it is accepted.
            #expect(try await senders[0].send(AMQPMessage(body: .data([0]))) == .accepted)
            for index in 0..<300 {
                let sender = try await connection.openSender(address: "loop-\(index)")
                sender.close()
                await sender.waitClosed()
            }
            let last = try await connection.openSender(address: "last")
            #expect(try await last.send(AMQPMessage(body: .data([9]))) == .accepted)
            await connection.close()
        }
    }

    @Test("connections over the per-address limit are told resource-limit-exceeded at Open")
    func connectionLimitsAreEnforced() async throws {
        try await Self.withListener({ $0.limits.maxConnectionsPerAddress = 2 }) { engine, listener in
            let first = engine.makeConnection(try Self.client(listener))
            try await first.open()
            let second = engine.makeConnection(try Self.client(listener))
            try await second.open()
            let third = engine.makeConnection(try Self.client(listener))
            let error = await #expect(throws: AMQPError.self) { try await third.open() }
            #expect(error?.condition?.name == AMQPCondition.resourceLimitExceeded)
            #expect(error?.message.contains("per remote address") == true)
            #expect(listener.statistics.connectionsRefused == 1)
            await first.close()
            try await waitUntil("the closed connection is forgotten") { listener.statistics.connectionsOpen <= 2 }
            let fourth = engine.makeConnection(try Self.client(listener))
            try await fourth.open()
            await second.close()
            await fourth.close()
        }
    }

    @Test("PLAIN over plain TCP on a listener others can reach is refused with the reason, unless allowed")
    func insecurePlainIsRefusedWithTheReason() async throws {
        try await Self.withListener({ $0.host = "0.0.0.0" }) { engine, listener in
            let connection = engine.makeConnection(try Self.client(listener))
            let error = await #expect(throws: AMQPError.self) { try await connection.open() }
            #expect(error?.code == .authentication)
            #expect(error?.message.contains("amqps") == true, "\(String(describing: error))")
            #expect(listener.statistics.loginsRefused == 1)
        }
        try await Self.withListener({
            $0.host = "0.0.0.0"
            $0.allowInsecure = true
        }) { engine, listener in
            let connection = engine.makeConnection(try Self.client(listener))
            try await connection.open()
            await connection.close()
        }
    }

    @Test("a transfer that is not an AMQP message is rejected with decode-error and never reaches the application")
    func undecodableTransfersAreRejected() async throws {
        try await Self.withListener { engine, listener in
            let received = Collector<AMQPMessage>()
            let server = Self.serve(listener, received: received)
            defer { server.cancel() }
            let connection = engine.makeConnection(try Self.client(listener))
            try await connection.open()
            let sender = try await connection.openSender(address: "garbage")
            let outcomes = Collector<AMQPOutcome>()
            for bytes in [[0x01], Array(EncodedMessageTests.full.prefix(50))] as [[UInt8]] {
                try await sender.enqueue(encoded: bytes) { if case .success(let outcome) = $0 { outcomes.append(outcome) } }
            }
            #expect(try await sender.send(AMQPMessage(body: .data([1]))) == .accepted)
            try await waitUntil("both outcomes") { outcomes.count == 2 }
            for outcome in outcomes.all {
                guard case .rejected(let condition) = outcome else {
                    Issue.record("expected rejected, got \(outcome)")
                    continue
                }
                #expect(condition?.name == AMQPCondition.decodeError)
            }
            #expect(listener.statistics.undecodableMessages == 2)
            #expect(received.count == 1)
            await connection.close()
        }
    }

    @Test("an invalid limit is refused before anything is bound")
    func invalidLimitsAreRefused() async throws {
        let engine = AMQPEngine(logger: Loopback.logger)
        var configuration = AMQPListenerConfiguration(host: "127.0.0.1", port: 0)
        configuration.limits.maxFrameSize = 100
        let error = await #expect(throws: AMQPError.self) { _ = try await engine.listen(configuration) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("512") == true)
        await engine.shutdown()
    }
}
