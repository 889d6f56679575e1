//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import IoTPlatform
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension IntegrationSuites {
    /// `iotbridge amqp broker` (the process, as backends meet it) against what an attacker or a clumsy client
    /// does, each case bounded in count and time and followed by a normal client that must still publish and
    /// consume. Memory is measured (VmRSS) before and after the cases that could grow it, and printed.
    @Suite(
        "Abuse: the listener refuses what it must and keeps serving",
        .serialized,
        .timeLimit(.minutes(5)),
        .enabled(if: TestEnvironment.binary != nil && TestEnvironment.hasPythonPeers, "needs IOTBRIDGE_BIN and the Python peers")
    )
    struct ListenerAbuseTests {
        static let user = "abuse-user"
        /// Characters that base64 and percent-encoding care about, so every form of it can be searched for.
        static let password = "Abuse-Pw-3f9e+/="

        /// Runs `body` with a broker (handshake timeout 2 s, failed-login delay 0.2 s unless `arguments` say
        /// otherwise), an engine for the normal client, and a folder for output; stops everything afterwards.
        static func withBroker(
            _ arguments: [String] = [],
            descriptorLimit: Int? = nil,
            caFile: String? = nil,
            _ body: (BrokerProcess, AMQPEngine, TemporaryDirectory) async throws -> Void
        ) async throws {
            let directory = try TemporaryDirectory("abuse")
            defer { directory.remove() }
            let broker = try await BrokerProcess(
                user: Self.user,
                password: Self.password,
                arguments: ["--handshake-timeout", "2", "--failed-login-delay", "0.2"] + arguments,
                descriptorLimit: descriptorLimit,
                caFile: caFile,
                in: directory
            )
            defer { broker.process.stop() }
            try await AMQPTestSupport.withEngine { engine in
                try await broker.expectServing(engine)
                try await body(broker, engine, directory)
            }
        }

        /// Runs `abuse_peer.py MODE ARGUMENTS` to completion and returns its `done` event.
        static func peer(
            _ mode: String,
            _ arguments: [String],
            timeout: Duration = .seconds(90),
            in directory: TemporaryDirectory
        ) async throws -> JSON {
            let process = try PythonPeers.start("abuse_peer.py", [mode] + arguments, in: directory)
            defer { process.stop() }
            try await process.waitForExit(timeout: timeout)
            guard let done = process.events("done").last else {
                throw IntegrationTestError("abuse_peer.py \(mode) reported nothing\n\(process.outputTail)")
            }
            return done
        }

        /// Prints a memory measurement (the test log is where the numbers of a run are read).
        static func report(_ what: String, before: Int, after: Int) {
            print("[abuse] \(what): RSS \(before) KiB before, \(after) KiB after, growth \(after - before) KiB")
        }

        @Test("a client that skips SASL gets Open and Close(unauthorized-access) and nothing else, over TCP and TLS")
        func skippingSASL() async throws {
            try await Self.withBroker { broker, engine, directory in
                let done = try await Self.peer("skip-sasl", ["--port", String(broker.port)], in: directory)
                #expect(done["closed"] == .bool(true))
                #expect(done["unauthorized"] == .bool(true))
                #expect(done["performatives"] == .array([.number(0x10), .number(0x18)]), "Open, Close: no Begin, no Attach")
                try await broker.expectServing(engine)
                // Nothing the sneaky links attached to was served: the queue never existed.
                let stopped = try await broker.stop()
                #expect(stopped["loginsRefused"]?.int == 1)
            }
            guard let openssl = TestEnvironment.openSSL else { return }
            let certificates = try TemporaryDirectory("abuse-tls")
            defer { certificates.remove() }
            let made = try await TestCertificates.make(openssl: openssl, in: certificates)
            try await Self.withBroker(
                ["--tls-certificate", made.certificateFile, "--tls-key", made.privateKeyFile],
                caFile: made.caFile
            ) { broker, engine, directory in
                let done = try await Self.peer("skip-sasl", ["--port", String(broker.port), "--tls"], in: directory)
                #expect(done["unauthorized"] == .bool(true))
                #expect(done["performatives"] == .array([.number(0x10), .number(0x18)]))
                try await broker.expectServing(engine)
            }
        }

        @Test("garbage and a frame header announcing ~4 GB end their connection at once; memory stays flat")
        func garbageAndHugeFrames() async throws {
            try await Self.withBroker { broker, engine, directory in
                let before = broker.residentKiB
                let garbage = try await Self.peer("garbage", ["--port", String(broker.port)], in: directory)
                #expect(garbage["closed"] == .bool(true))
                let huge = try await Self.peer("huge-frame", ["--port", String(broker.port), "--mb", "64"], in: directory)
                #expect(huge["closed"] == .bool(true))
                // The kernel's socket buffers take a few MB before the reset shows; the broker reads 64 KiB at most.
                #expect((huge["sent"]?.int ?? .max) < 16 << 20, "\(huge)")
                let after = broker.residentKiB
                Self.report("garbage + 64 MB behind a 4 GB frame header", before: before, after: after)
                #expect(after - before < 8 * 1024)
                try await broker.expectServing(engine)
                let stopped = try await broker.stop()
                #expect((stopped["protocolErrors"]?.int ?? 0) >= 2)
            }
        }

        @Test("a 50 MB message is refused with message-size-exceeded after 1 MiB; memory stays flat")
        func fiftyMegabyteMessage() async throws {
            try await Self.withBroker { broker, engine, directory in
                let before = broker.residentKiB
                let done = try await Self.peer("big-message", ["--url", broker.url("big"), "--mb", "50"], in: directory)
                #expect(done["result"]?.string?.contains("amqp:link:message-size-exceeded") == true, "\(done)")
                let after = broker.residentKiB
                Self.report("one 50 MB message", before: before, after: after)
                #expect(after - before < 16 * 1024)
                try await broker.expectServing(engine)
            }
        }

        @Test("1,000 idle connections from one address: 100 held until the handshake timeout, the rest refused")
        func thousandIdleConnections() async throws {
            try await Self.withBroker { broker, engine, directory in
                let before = broker.residentKiB
                let idle = try PythonPeers.start(
                    "abuse_peer.py",
                    ["idle", "--port", String(broker.port), "--count", "1000", "--hold", "3", "--source", "127.0.0.2"],
                    in: directory
                )
                defer { idle.stop() }
                try await idle.waitForLine(timeout: .seconds(60)) { $0.contains("\"connected\"") }
                // While they are held, a client from another address is served.
                try await broker.expectServing(engine)
                let peak = broker.residentKiB
                try await idle.waitForExit(timeout: .seconds(30))
                let done = try #require(idle.events("done").last)
                #expect(done["closedByServer"] == done["open"], "\(done)")
                try await waitUntil("the broker let go of them", timeout: .seconds(10)) { broker.openDescriptors < 40 }
                let after = broker.residentKiB
                Self.report("1,000 idle connections (peak \(peak) KiB)", before: before, after: after)
                #expect(after - before < 16 * 1024)
                try await broker.expectServing(engine)
                let stopped = try await broker.stop()
                #expect((stopped["handshakeTimeouts"]?.int ?? 0) >= 100)
                #expect((stopped["connectionsRefused"]?.int ?? 0) >= 1)
            }
        }

        @Test("10,000 links: 64 per session attach, the rest are refused; 10,000 attach/detach leave memory flat")
        func tenThousandLinks() async throws {
            try await Self.withBroker { broker, engine, directory in
                let flood = try await Self.peer(
                    "links",
                    ["--url", broker.url("flood"), "--count", "10000", "--wave", "10000", "--keep"],
                    in: directory
                )
                #expect(flood["attached"]?.int == 64, "\(flood)")
                #expect(flood["refused"]?.int == 10000 - 64)
                try await broker.expectServing(engine)
                // Warm up the allocator, then measure repeated attach and detach of consumer links.
                _ = try await Self.peer("links", ["--url", broker.url("warm"), "--count", "1000", "--wave", "50"], in: directory)
                let before = broker.residentKiB
                let loop = try await Self.peer("links", ["--url", broker.url("loop"), "--count", "10000", "--wave", "50"], in: directory)
                #expect(loop["attached"]?.int == 10000, "\(loop)")
                let after = broker.residentKiB
                Self.report("10,000 consumer links attached and detached", before: before, after: after)
                #expect(after - before < 4 * 1024, "links are freed when detached")
                try await broker.expectServing(engine)
            }
        }

        @Test("connect/disconnect loops: 2 × 1,000 logins leave memory flat")
        func connectDisconnectLoops() async throws {
            try await Self.withBroker { broker, engine, directory in
                _ = try await Self.peer("connect-loop", ["--url", broker.url("loop"), "--count", "300"], in: directory)
                let before = broker.residentKiB
                for _ in 0..<2 {
                    let done = try await Self.peer("connect-loop", ["--url", broker.url("loop"), "--count", "1000"], in: directory)
                    #expect(done["opened"]?.int == 1000, "\(done)")
                }
                let after = broker.residentKiB
                Self.report("2,000 connects and disconnects", before: before, after: after)
                #expect(after - before < 4 * 1024)
                try await broker.expectServing(engine)
            }
        }

        @Test("a client trickling its handshake is closed at the handshake timeout while others are served")
        func slowSenders() async throws {
            try await Self.withBroker { broker, engine, directory in
                let slow = try PythonPeers.start(
                    "abuse_peer.py",
                    ["slow", "--port", String(broker.port), "--interval", "0.2", "--limit", "15"],
                    in: directory
                )
                defer { slow.stop() }
                try await broker.expectServing(engine)
                try await slow.waitForExit(timeout: .seconds(20))
                let done = try #require(slow.events("done").last)
                #expect(done["closed"] == .bool(true))
                #expect((done["seconds"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? 99) < 5, "\(done)")
                let stopped = try await broker.stop()
                #expect((stopped["handshakeTimeouts"]?.int ?? 0) >= 1)
            }
        }

        @Test("wrong passwords in a loop are answered ever more slowly; the right one still logs in")
        func wrongPasswordsInALoop() async throws {
            try await Self.withBroker { broker, engine, directory in
                let done = try await Self.peer("wrong-passwords", ["--url", broker.url("nope"), "--count", "8"], in: directory)
                #expect(done["failed"]?.int == 8)
                let durations: [Double] = {
                    guard case .array(let values) = done["durations"] else { return [] }
                    return values.compactMap { if case .number(let n) = $0 { n } else { nil } }
                }()
                print("[abuse] 8 wrong passwords answered after \(durations) s")
                #expect(durations.count == 8)
                #expect(durations.first.map { $0 >= 0.19 } == true)
                #expect(durations.last.map { $0 >= 0.95 } == true, "the delay grows to its maximum")
                #expect(durations.reduce(0, +) >= 5)
                try await broker.expectServing(engine)
                let stopped = try await broker.stop()
                #expect(stopped["loginsFailed"]?.int == 8)
            }
        }

        @Test("out of file descriptors (ulimit -n 256, 300 connections): refused, then served again; SIGTERM exits cleanly")
        func descriptorExhaustion() async throws {
            try await Self.withBroker(["--handshake-timeout", "30"], descriptorLimit: 256) { broker, engine, directory in
                // A client connected before the flood keeps being served throughout.
                var configuration = AMQPConnectionConfiguration(
                    endpoint: AMQPEndpoint(host: "127.0.0.1", port: broker.port),
                    authentication: .plain(username: Self.user, password: Self.password)
                )
                configuration.reconnect = .never
                let existing = engine.makeConnection(configuration)
                try await existing.open()
                let sender = try await existing.openSender(address: "existing")
                let flood = try PythonPeers.start(
                    "abuse_peer.py",
                    ["idle", "--port", String(broker.port), "--count", "300", "--hold", "4", "--source", "127.0.0.2"],
                    in: directory
                )
                defer { flood.stop() }
                let connected = try await flood.waitForLine(timeout: .seconds(60)) { $0.contains("\"connected\"") }
                #expect((JSON(parsing: connected)?["failed"]?.int ?? 0) > 0, "some were refused: \(connected)")
                #expect(broker.process.stderr.contains("amqp listener paused"))
                #expect(try await sender.send(AMQPTestSupport.platformMessage(id: "during", body: "x")) == .accepted)
                try await flood.waitForExit(timeout: .seconds(30))
                try await waitUntil("the listener resumed", timeout: .seconds(10)) {
                    broker.process.stderr.contains("amqp listener resuming")
                }
                try await broker.expectServing(engine)
                await existing.close()

                // The crash of the issue: SIGTERM while more connections are open than descriptors allow.
                let again = try PythonPeers.start(
                    "abuse_peer.py",
                    ["idle", "--port", String(broker.port), "--count", "300", "--hold", "6", "--source", "127.0.0.3"],
                    in: directory
                )
                defer { again.stop() }
                try await again.waitForLine(timeout: .seconds(60)) { $0.contains("\"connected\"") }
                let stopped = try await broker.stop(timeout: .seconds(10))
                #expect(!broker.process.wasSignalled, "no SIGABRT")
                #expect(broker.process.exitStatus == 0)
                #expect(!broker.process.stderr.contains("Assertion"))
                #expect((stopped["descriptorPauses"]?.int ?? 0) >= 1)
            }
        }

        @Test("no log line at trace level carries the password or the AccessKey secret, as text, hex or base64")
        func noSecretInTraceLogs() async throws {
            try await Self.withBroker(["--log-level", "trace"]) { broker, _, directory in
                let environment = ["IOTBRIDGE_ABUSE_PW": Self.password]
                let url = "amqp://127.0.0.1:\(broker.port)/secrets"
                var logs = ""
                for arguments in [
                    ["amqp", "send", "--url", url, "--count", "2", "--body", "hello"],
                    ["amqp", "receive", "--url", url, "--count", "2", "--timeout", "10"],
                ] {
                    let run = try await IOTBridgeCLI.run(
                        arguments + ["--user", Self.user, "--password-env", "IOTBRIDGE_ABUSE_PW", "--log-level", "trace"],
                        environment: environment,
                        in: directory
                    )
                    #expect(run.status == 0, "\(arguments[1]): \(run.stderr.suffix(500))")
                    logs += run.stderr + run.stdout
                }
                // A wrong password: the client's trace and the broker's log of the refusal.
                let wrong = try await IOTBridgeCLI.run(
                    ["amqp", "send", "--url", url, "--count", "1", "--user", Self.user, "--password-env", "WRONG", "--log-level", "trace"],
                    environment: ["WRONG": Self.password + "x"],
                    in: directory
                )
                #expect(wrong.status != 0)
                logs += wrong.stderr
                // An aksign login (refused by this broker): its signature is the password of that login.
                let secret = "AkSecret-7d1e+/="
                let started = Int64(Date().timeIntervalSince1970 * 1000)
                let aksign = try await IOTBridgeCLI.run(
                    [
                        "amqp", "receive", "--url", url, "--count", "1", "--timeout", "3", "--aksign", "--access-key-id", "LTAIabuse",
                        "--access-key-secret-env", "AK_SECRET", "--consumer-group", "DEFAULT_GROUP", "--client-id", "abuse-client",
                        "--log-level", "trace",
                    ],
                    environment: ["AK_SECRET": secret],
                    in: directory
                )
                let finished = Int64(Date().timeIntervalSince1970 * 1000)
                logs += aksign.stderr
                _ = try await broker.stop()
                logs += broker.process.stderr + broker.process.stdout
                #expect(logs.contains("initial-response=<redacted>"), "the trace did cover the login")
                #expect(logs.contains("<sasl frame,"), "raw traces were on")
                for secretText in [Self.password, Self.password + "x", secret] {
                    let bytes = Array(secretText.utf8)
                    let forms = [
                        secretText,
                        bytes.map { String(format: "%02x", $0) }.joined(),
                        bytes.map { String(format: "%02X", $0) }.joined(),
                        bytes.map { String(format: "\\x%02x", $0) }.joined(),
                        Data(bytes).base64EncodedString(),
                        Data([0] + Array(Self.user.utf8) + [0] + bytes).base64EncodedString(),
                        secretText.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secretText,
                    ]
                    for form in forms { #expect(!logs.contains(form), "found \(form)") }
                }
                // Every signature the aksign client could have computed during its run.
                var leaked = 0
                for timestamp in started...finished {
                    let login = try AMQPPlatformLogin(
                        clientId: "abuse-client",
                        accessKeyId: "LTAIabuse",
                        accessKeySecret: secret,
                        consumerGroupId: "DEFAULT_GROUP",
                        iotInstanceId: nil,
                        signMethod: .hmacsha1,
                        timestamp: timestamp
                    )
                    if logs.contains(login.password) { leaked += 1 }
                }
                #expect(leaked == 0, "an aksign signature appeared in a log")
            }
        }
    }
}
