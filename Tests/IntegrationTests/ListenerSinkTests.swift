//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

extension IntegrationSuites {
    /// The bridge as an AMQP endpoint (`kind: listener`), with real processes: `iotbridge run` merges two RabbitMQ
    /// queues (overlapping messageIds) and serves the stream over TLS; the platform's official Python sample
    /// (peers/platform_sample_consumer.py, unchanged but for host and CA) consumes it.
    @Suite(
        "Listener sink: the bridge serves consumer groups",
        .serialized,
        .timeLimit(.minutes(5)),
        .enabled(
            if: TestEnvironment.rabbitMQURL != nil && TestEnvironment.hasPythonPeers && TestEnvironment.openSSL != nil,
            "needs RabbitMQ, the Python peers and openssl (scripts/test.sh)"
        )
    )
    struct ListenerSinkTests {
        static let secret = "backend-secret"
        static let otherSecret = "other-secret"
        static let drainPassword = "drain-pw"

        /// A running bridge with a listener sink, and how to reach it.
        struct Setup {
            let harness: BridgeHarness
            let certificates: TestCertificates
            let port: Int
            let config: String
        }

        func setUp(
            _ name: String,
            ackTimeout: String = "30s",
            maxConsumersPerGroup: Int = 128,
            envelope: String = "platform",
            migrationEvents: Bool = false
        ) async throws -> Setup {
            let harness = try BridgeHarness(name)
            let certificates = try await TestCertificates.make(openssl: try #require(TestEnvironment.openSSL), in: harness.directory)
            let port = try Sockets.freePort()
            let base = try harness.writeConfiguration(webhookURL: nil)
            var yaml = try String(contentsOfFile: base, encoding: .utf8)
            let listener = """
                  - name: backends
                    kind: listener
                    listen: 127.0.0.1:\(port)
                    tls: { certificate: \(certificates.certificateFile), privateKey: \(certificates.privateKeyFile) }
                    ackTimeout: \(ackTimeout)
                    maxConsumersPerGroup: \(maxConsumersPerGroup)
                    envelope: \(envelope)
                    migrationEvents: \(migrationEvents)
                    consumerGroups:
                      - id: cg-backend
                        accessKeys: [ { accessKeyId: LTAItest, accessKeySecret: "${BACKEND_SECRET}" } ]
                        users: [ { user: drainer, password: "${DRAIN_PW}" } ]
                      - id: cg-other
                        accessKeys: [ { accessKeyId: LTAIother, accessKeySecret: "${OTHER_SECRET}" } ]

                """
            // Replace the amqp sink with the listener: the listener alone decides when upstream settles.
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            yaml = lines.map { $0.contains("name: merged, kind: amqp") ? listener.trimmingCharacters(in: .newlines) : String($0) }
                .joined(separator: "\n")
            try yaml.write(toFile: base, atomically: true, encoding: .utf8)
            return Setup(harness: harness, certificates: certificates, port: port, config: base)
        }

        func startBridge(_ setup: Setup) async throws {
            setup.harness.runs += 1
            let bridge = try ManagedProcess(
                try #require(TestEnvironment.binary),
                ["run", "--config", setup.config, "--quiet"],
                name: "bridge-\(setup.harness.runs)",
                environment: [
                    "RABBIT_PW": "guest", "BACKEND_SECRET": Self.secret, "OTHER_SECRET": Self.otherSecret,
                    "DRAIN_PW": Self.drainPassword,
                ],
                outputDirectory: setup.harness.directory
            )
            setup.harness.bridge = bridge
            try await waitUntil("the bridge started", timeout: .seconds(30)) {
                if !bridge.isRunning { throw IntegrationTestError("the bridge exited: \(bridge.outputTail)") }
                return bridge.stderr.contains("bridge started")
            }
        }

        func consumer(
            _ setup: Setup,
            clientId: String,
            group: String = "cg-backend",
            key: String = "LTAItest",
            secret: String = Self.secret,
            extra: [String] = []
        ) throws -> ManagedProcess {
            try ManagedProcess(
                try #require(TestEnvironment.python),
                [
                    try #require(TestEnvironment.peers) + "/platform_sample_consumer.py", "localhost", "\(setup.port)", clientId, key,
                    secret, group, "--ca", setup.certificates.caFile, "--timeout", "240",
                ] + extra,
                name: clientId,
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: setup.harness.directory
            )
        }

        /// The bridge's /status (its HTTP port is in its log).
        func status(_ setup: Setup) async throws -> JSON {
            let port = try await setup.harness.httpPort()
            let result = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-sS", "http://127.0.0.1:\(port)/status"],
                outputDirectory: setup.harness.directory
            )
            return try #require(JSON(parsing: result.stdout), "\(result)")
        }

        /// The bridge's /metrics (Prometheus text).
        func metrics(_ setup: Setup) async throws -> String {
            let port = try await setup.harness.httpPort()
            // Gauges are recorded each second with the sink's phase.
            try await Task.sleep(for: .milliseconds(1_200))
            return try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-sS", "http://127.0.0.1:\(port)/metrics"],
                outputDirectory: setup.harness.directory
            ).stdout
        }

        /// The first sink of a /status.
        static func firstSink(_ status: JSON) -> JSON? {
            guard case .array(let sinks) = status["sinks"] else { return nil }
            return sinks.first
        }

        /// messageIds a consumer printed, with counts.
        static func received(_ process: ManagedProcess) -> [String: Int] {
            var counts: [String: Int] = [:]
            for event in process.events("message") {
                if let id = event["messageId"]?.string { counts[id, default: 0] += 1 }
            }
            return counts
        }

        /// Upstream credit of the harness's configuration: 100 per connection, three connections. A crash can
        /// re-deliver at most what was unsettled upstream, so each kill adds at most this many duplicates.
        static let inFlightBound = 300

        @Test("the official Python sample receives every messageId of the merged stream, in both groups, through two kill -9")
        func officialSampleReceivesEverything() async throws {
            let count = 3000
            let setup = try await self.setUp("listener-sample")
            defer { setup.harness.stop() }
            let publisher = try await setup.harness.publish(count, redeliver: 0)
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            try await self.startBridge(setup)
            // No consumer yet: the groups hold their messages unsettled upstream, and /status says so.
            var status = JSON.null
            try await waitUntil("/status shows the held messages", timeout: .seconds(30)) {
                status = try await self.status(setup)
                return (Self.firstSink(status)?["inFlight"]?.int ?? 0) > 0
            }
            #expect(Self.firstSink(status)?["state"]?.string == "holding", "\(status)")
            #expect(status["heldBackBy"]?.string == "backends", "\(status)")
            var notes: [String] = []
            if case .array(let items) = Self.firstSink(status)?["notes"] { notes = items.compactMap(\.string) }
            #expect(notes.contains { $0.contains("consumer group cg-backend has no consumer") }, "\(notes)")
            let upstreamDepth = try await IntegrationSuites.RabbitMQTests.queueDepth(setup.harness.source)
            #expect((upstreamDepth?.unacknowledged ?? 0) > 0, "held messages stay unsettled upstream")
            let first = try self.consumer(setup, clientId: "backend-1")
            let other = try self.consumer(setup, clientId: "other-1", group: "cg-other", key: "LTAIother", secret: Self.otherSecret)
            defer {
                first.stop()
                other.stop()
            }
            // Two crashes mid-stream; the sample's client reconnects by itself (Proton's default) with the same login.
            for threshold in [count / 5, count / 2] {
                try await waitUntil("the consumer got \(threshold)", timeout: .seconds(60)) { Self.received(first).count >= threshold }
                let bridge = try #require(setup.harness.bridge)
                bridge.send(SIGKILL)
                _ = try await bridge.waitForExit(timeout: .seconds(10))
                try await self.startBridge(setup)
            }
            try await waitUntil("both groups have every message", timeout: .seconds(120)) {
                Self.received(first).count >= count && Self.received(other).count >= count
            }
            for process in [first, other] {
                let counts = Self.received(process)
                #expect(counts.count == count)
                let duplicates = counts.values.reduce(0) { $0 + $1 - 1 }
                #expect(duplicates <= 2 * Self.inFlightBound, "\(duplicates) duplicates")
                let event = try #require(process.events("message").first)
                #expect(event["topic"]?.string?.hasPrefix("/") == true)
                #expect(event["iotInstanceId"]?.string == "source" || event["iotInstanceId"]?.string == "target")
                #expect(event["body"]?.string?.hasPrefix("{\"seq\":") == true)
            }
            // Both groups accepted everything: nothing is left upstream.
            try await waitUntil("the upstream queues are empty", timeout: .seconds(30)) {
                for queue in [setup.harness.source, setup.harness.target] {
                    let depth = try await IntegrationSuites.RabbitMQTests.queueDepth(queue)
                    if depth != .init(ready: 0, unacknowledged: 0) { return false }
                }
                return true
            }
            #expect(setup.harness.deadLetters().isEmpty)
        }

        @Test("competing consumers: one killed mid-stream, one that never settles; nothing lost")
        func competingConsumersLoseNothing() async throws {
            let count = 1500
            let setup = try await self.setUp("listener-compete", ackTimeout: "2s")
            defer { setup.harness.stop() }
            try await self.startBridge(setup)
            let a = try self.consumer(setup, clientId: "a")
            let b = try self.consumer(setup, clientId: "b")
            let victim = try self.consumer(setup, clientId: "victim")
            let stuck = try self.consumer(setup, clientId: "stuck", extra: ["--no-settle"])
            // The other group must get everything regardless.
            let other = try self.consumer(setup, clientId: "other-1", group: "cg-other", key: "LTAIother", secret: Self.otherSecret)
            defer {
                for process in [a, b, victim, stuck, other] { process.stop() }
            }
            for process in [a, b, victim, stuck, other] {
                _ = try await process.waitForLine { $0.contains("\"opened\"") }
            }
            let publisher = try await setup.harness.publish(count, redeliver: 0, rate: 1000)
            try await waitUntil("the victim got some", timeout: .seconds(60)) { Self.received(victim).count >= 20 }
            victim.send(SIGKILL)
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            // What the victim accepted before the kill is consumed; what it held unsettled moves to a and b.
            func union() -> Set<String> {
                Set(Self.received(a).keys).union(Self.received(b).keys).union(Self.received(victim).keys)
            }
            try await waitUntil("the group has every message", timeout: .seconds(90)) { union().count >= count }
            #expect(union().count == count)
            try await waitUntil("the upstream queues are empty", timeout: .seconds(30)) {
                for queue in [setup.harness.source, setup.harness.target] {
                    let depth = try await IntegrationSuites.RabbitMQTests.queueDepth(queue)
                    if depth != .init(ready: 0, unacknowledged: 0) { return false }
                }
                return true
            }
            // The stuck consumer's messages moved after the ack timeout (they are among a's and b's), with a
            // delivery-count above zero.
            let stuckIds = Set(Self.received(stuck).keys)
            #expect(!stuckIds.isEmpty)
            #expect(stuckIds.isSubset(of: union()))
            let moved = (a.events("message") + b.events("message")).filter { stuckIds.contains($0["messageId"]?.string ?? "") }
            #expect(moved.allSatisfy { ($0["deliveryCount"]?.int ?? 0) >= 1 }, "\(moved.prefix(3))")
            try await waitUntil("the other group has every message", timeout: .seconds(60)) { Self.received(other).count >= count }
        }

        @Test("refused: bad signature, unknown group, no TLS, migration-events, one consumer over the group's limit")
        func refusals() async throws {
            let setup = try await self.setUp("listener-refusals", maxConsumersPerGroup: 3)
            defer { setup.harness.stop() }
            try await self.startBridge(setup)
            let good = try self.consumer(setup, clientId: "good")
            defer { good.stop() }
            _ = try await good.waitForLine { $0.contains("\"opened\"") }
            let badSignature = try self.consumer(setup, clientId: "bad-sig", extra: ["--password-override", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="])
            let unknownGroup = try self.consumer(setup, clientId: "no-group", group: "cg-nope")
            let noTLS = try self.consumer(setup, clientId: "no-tls", extra: ["--plain"])
            for process in [badSignature, unknownGroup, noTLS] {
                let line = try await process.waitForLine(timeout: .seconds(30)) { $0.contains("\"error\"") }
                #expect(!line.contains("\"opened\""), "\(process.outputTail)")
                process.stop()
            }
            #expect(badSignature.events("opened").isEmpty && unknownGroup.events("opened").isEmpty && noTLS.events("opened").isEmpty)
            let bridge = try #require(setup.harness.bridge)
            try await waitUntil("the refusals are logged with the clientId", timeout: .seconds(10)) {
                bridge.stderr.contains("login of clientId 'bad-sig' refused: the password is not the hmacsha1 signature")
                    && bridge.stderr.contains("login of clientId 'no-group' refused: unknown consumer group 'cg-nope'")
            }
            #expect(!bridge.stderr.contains(Self.secret))
            // The reserved address is refused with a condition that says why.
            let events = try self.consumer(setup, clientId: "events", extra: ["--address", "migration-events"])
            let refusal = try await events.waitForLine(timeout: .seconds(30)) { $0.contains("\"error\"") }
            #expect(refusal.contains("amqp:not-found") && refusal.contains("reserved for migration-status events"), "\(refusal)")
            events.stop()
            // A flood: the group allows 3 consumers; the 4th is refused, the others are served.
            let second = try self.consumer(setup, clientId: "second", extra: ["--address", "default"])
            let third = try self.consumer(setup, clientId: "third", extra: ["--address", "/queue-name"])
            defer {
                second.stop()
                third.stop()
            }
            for process in [second, third] { _ = try await process.waitForLine { $0.contains("\"opened\"") } }
            let fourth = try self.consumer(setup, clientId: "fourth")
            let limit = try await fourth.waitForLine(timeout: .seconds(30)) { $0.contains("\"error\"") }
            #expect(limit.contains("amqp:resource-limit-exceeded") && limit.contains("maxConsumersPerGroup"), "\(limit)")
            fourth.stop()
            // Everyone admitted is unaffected: together they get every message.
            let publisher = try await setup.harness.publish(60, overlap: 0, redeliver: 0)
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0)
            try await waitUntil("the admitted consumers got the messages", timeout: .seconds(30)) {
                Set(Self.received(good).keys).union(Self.received(second).keys).union(Self.received(third).keys).count >= 60
            }
            #expect(!Self.received(second).isEmpty && !Self.received(third).isEmpty, "each competing consumer got a share")
        }

        @Test("drain is honoured: what the group has goes out, then the rest of the credit is used up")
        func drainIsHonoured() async throws {
            let setup = try await self.setUp("listener-drain")
            defer { setup.harness.stop() }
            try await self.startBridge(setup)
            let trigger = setup.harness.directory.file("drain-now")
            let drainer = try ManagedProcess(
                try #require(TestEnvironment.python),
                [
                    try #require(TestEnvironment.peers) + "/drain_consumer.py", "localhost", "\(setup.port)", "drainer",
                    Self.drainPassword, trigger, "10", "--ca", setup.certificates.caFile,
                ],
                name: "drainer",
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: setup.harness.directory
            )
            defer { drainer.stop() }
            _ = try await drainer.waitForLine { $0.contains("\"opened\"") }
            let publisher = try await setup.harness.publish(3, overlap: 0, redeliver: 0)
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0)
            // The consumer granted no credit: the group holds the three.
            try await waitUntil("the bridge holds the three", timeout: .seconds(30)) {
                (Self.firstSink(try await self.status(setup))?["inFlight"]?.int ?? 0) == 3
            }
            #expect(drainer.events("message").isEmpty)
            _ = FileManager.default.createFile(atPath: trigger, contents: nil)
            let drained = try await drainer.waitForLine(timeout: .seconds(30)) { $0.contains("\"drained\"") }
            #expect(JSON(parsing: drained)?["received"]?.int == 3, "\(drained)")
            // The drain used the credit up: later messages wait in the bridge and none reach the consumer.
            let more = try await setup.harness.publish(2, overlap: 0, redeliver: 0, prefix: "n")
            #expect(try await more.waitForExit(timeout: .seconds(60)) == 0)
            try await waitUntil("the group holds the two for lack of credit", timeout: .seconds(30)) {
                guard case .array(let notes) = Self.firstSink(try await self.status(setup))?["notes"] else { return false }
                return notes.contains { $0.string?.hasPrefix("consumer group cg-backend: 1 consumers, 0 unsettled, 2 waiting") == true }
            }
            #expect(drainer.events("message").count == 3)
        }

        @Test("SIGTERM: dispatch stops, the listener closes, unsettled messages stay upstream and come after the restart")
        func gracefulStop() async throws {
            let count = 20
            let setup = try await self.setUp("listener-stop")
            defer { setup.harness.stop() }
            try await self.startBridge(setup)
            let stuck = try self.consumer(setup, clientId: "stuck", extra: ["--no-settle"])
            defer { stuck.stop() }
            _ = try await stuck.waitForLine { $0.contains("\"opened\"") }
            let publisher = try await setup.harness.publish(count, overlap: 0, redeliver: 0)
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0)
            try await waitUntil("the stuck consumer holds some", timeout: .seconds(30)) { Self.received(stuck).count >= 5 }
            let bridge = try #require(setup.harness.bridge)
            let stopping = ContinuousClock.now
            bridge.send(SIGTERM)
            // shutdown.deadline is 5 s in the harness's configuration; the close grace comes on top.
            #expect(try await bridge.waitForExit(timeout: .seconds(20)) == 0, "\(bridge.outputTail)")
            #expect(stopping.duration(to: .now) < .seconds(15))
            #expect(bridge.stderr.contains("bridge stopped"))
            // Nothing was accepted, so nothing was settled: every message is back in the queues.
            try await waitUntil("the messages are back upstream", timeout: .seconds(30)) {
                let source = try await IntegrationSuites.RabbitMQTests.queueDepth(setup.harness.source)
                let target = try await IntegrationSuites.RabbitMQTests.queueDepth(setup.harness.target)
                return (source?.ready ?? 0) + (target?.ready ?? 0) == count
            }
            stuck.stop()
            try await self.startBridge(setup)
            let backend = try self.consumer(setup, clientId: "after-restart")
            defer { backend.stop() }
            try await waitUntil("every message after the restart", timeout: .seconds(60)) { Self.received(backend).count >= count }
        }

        @Test("rejected: the message goes to the dead letter with the consumer's reason, the rest is confirmed")
        func rejectedGoesToTheDeadLetter() async throws {
            let count = 10
            let setup = try await self.setUp("listener-reject")
            defer { setup.harness.stop() }
            try await self.startBridge(setup)
            let rejecting = try self.consumer(setup, clientId: "picky", extra: ["--reject", "m3", "--reject", "m7"])
            let other = try self.consumer(setup, clientId: "other-1", group: "cg-other", key: "LTAIother", secret: Self.otherSecret)
            defer {
                rejecting.stop()
                other.stop()
            }
            for process in [rejecting, other] { _ = try await process.waitForLine { $0.contains("\"opened\"") } }
            let publisher = try await setup.harness.publish(count, overlap: 0, redeliver: 0)
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0)
            try await waitUntil("two dead letters", timeout: .seconds(30)) { setup.harness.deadLetters().count >= 2 }
            let dead = setup.harness.deadLetters()
            #expect(Set(dead.compactMap { $0["messageId"]?.string }) == ["m3", "m7"])
            for letter in dead {
                let reason = letter["reason"]?.string ?? ""
                #expect(reason.contains("consumer group cg-backend") && reason.contains("amqp:precondition-failed: bad payload"), "\(reason)")
                #expect(letter["sink"]?.string == "backends")
            }
            // Every message is settled upstream: the eight accepted and the two dead-lettered.
            try await waitUntil("the upstream queues are empty", timeout: .seconds(30)) {
                for queue in [setup.harness.source, setup.harness.target] {
                    let depth = try await IntegrationSuites.RabbitMQTests.queueDepth(queue)
                    if depth != .init(ready: 0, unacknowledged: 0) { return false }
                }
                return true
            }
        }

        @Test("max-message-size: a consumer gets nothing larger than its link allows; too large for every consumer → dead letter")
        func consumersMaxMessageSize() async throws {
            let count = 40
            let setup = try await self.setUp("listener-max-size", ackTimeout: "2s")
            defer { setup.harness.stop() }
            try await self.startBridge(setup)
            // cg-backend: one consumer that takes up to 1000 bytes, one without a limit. cg-other: only the small one.
            let small = try self.consumer(setup, clientId: "small", extra: ["--max-message-size", "1000"])
            let large = try self.consumer(setup, clientId: "large")
            let otherSmall = try self.consumer(
                setup,
                clientId: "other-small",
                group: "cg-other",
                key: "LTAIother",
                secret: Self.otherSecret,
                extra: ["--max-message-size", "1000"]
            )
            defer {
                for process in [small, large, otherSmall] { process.stop() }
            }
            for process in [small, large, otherSmall] { _ = try await process.waitForLine { $0.contains("\"opened\"") } }
            // Every 10th message has a 3000-byte body (m9, m19, m29, m39); the others are about 400 bytes in all.
            let publisher = try ManagedProcess(
                try #require(TestEnvironment.python),
                [
                    try #require(TestEnvironment.peers) + "/bridge_publish.py", setup.harness.endpoint, setup.harness.source,
                    setup.harness.target, "\(count)", "--overlap", "0", "--redeliver", "0", "--large-every", "10",
                    "--large-size", "3000",
                ],
                name: "publish-sized",
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: setup.harness.directory
            )
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            let largeIds: Set<String> = ["m9", "m19", "m29", "m39"]
            try await waitUntil("cg-backend has every message", timeout: .seconds(60)) {
                Set(Self.received(small).keys).union(Self.received(large).keys).count >= count
            }
            // The small consumer got only messages within its limit (its own measure of each), none of the large.
            let smallMessages = small.events("message")
            #expect(!smallMessages.isEmpty, "the small consumer got its share")
            #expect(smallMessages.allSatisfy { ($0["size"]?.int ?? Int.max) <= 1000 }, "\(smallMessages.map { $0["size"]?.int ?? -1 })")
            #expect(Set(Self.received(small).keys).isDisjoint(with: largeIds))
            #expect(largeIds.isSubset(of: Set(Self.received(large).keys)))
            #expect(small.events("error").isEmpty && large.events("error").isEmpty)
            // cg-other's only consumer cannot take the large ones: after the ack timeout they go to the dead letter,
            // with the reason; it got every other message.
            try await waitUntil("four dead letters", timeout: .seconds(30)) { setup.harness.deadLetters().count >= 4 }
            let dead = setup.harness.deadLetters()
            #expect(Set(dead.compactMap { $0["messageId"]?.string }) == largeIds)
            for letter in dead {
                let reason = letter["reason"]?.string ?? ""
                #expect(
                    reason.contains("consumer group cg-other")
                        && reason.contains("larger than the max-message-size of every consumer attached (the largest allows 1000 bytes)"),
                    "\(reason)"
                )
            }
            #expect(Set(Self.received(otherSmall).keys) == Set((0..<count).map { "m\($0)" }).subtracting(largeIds))
            #expect(otherSmall.events("message").allSatisfy { ($0["size"]?.int ?? Int.max) <= 1000 })
            // Everything is settled upstream: accepted by both groups, or dead-lettered.
            try await waitUntil("the upstream queues are empty", timeout: .seconds(30)) {
                for queue in [setup.harness.source, setup.harness.target] {
                    let depth = try await IntegrationSuites.RabbitMQTests.queueDepth(queue)
                    if depth != .init(ready: 0, unacknowledged: 0) { return false }
                }
                return true
            }
        }

        @Test("migration-events: a backend's receiver at the reserved address gets each migration event, in sequence")
        func migrationEventsLink() async throws {
            let setup = try await self.setUp("listener-events", migrationEvents: true)
            defer { setup.harness.stop() }
            try await self.startBridge(setup)
            // The platform's migration message for three devices, in the source instance's stream.
            let devices = ["d1", "d2", "d3"]
            let list = devices.map { "{\"productKey\":\"a1PK\",\"deviceName\":\"\($0)\"}" }.joined(separator: ",")
            let payload = "{\"status\":\"GRAY_EXECUTING\",\"targetInstance\":\"iot-target\",\"successDevices\":[\(list)]}"
            let line = try JSONSerialization.data(withJSONObject: [
                "address": setup.harness.source, "topic": "/sys/a1PK/platform/migration/status", "messageId": "mig-1",
                "payload": payload,
            ])
            let file = setup.harness.directory.file("migration.jsonl")
            try (String(decoding: line, as: UTF8.self) + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let publisher = try ManagedProcess(
                try #require(TestEnvironment.python),
                [try #require(TestEnvironment.peers) + "/events_publish.py", setup.harness.endpoint, file],
                name: "publish",
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: setup.harness.directory
            )
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            // The stream's consumer gets the migration message itself; the events receiver, attached after the
            // events were committed, gets them from the outbox.
            let backend = try self.consumer(setup, clientId: "stream")
            defer { backend.stop() }
            try await waitUntil("the stream consumer got the migration message", timeout: .seconds(30)) {
                Self.received(backend)["mig-1"] != nil
            }
            let watcher = try self.consumer(setup, clientId: "events", extra: ["--address", "migration-events"])
            defer { watcher.stop() }
            try await waitUntil("three device.migrated events", timeout: .seconds(30)) {
                watcher.events("message").filter { ($0["topic"]?.string ?? "").hasSuffix(".device.migrated") }.count >= 3
            }
            var sequences: [Int] = []
            var subjects: Set<String> = []
            for message in watcher.events("message") {
                let event = try #require(JSON(parsing: message["body"]?.string ?? ""), "\(message)")
                #expect(event["specversion"]?.string == "1.0")
                #expect(event["id"]?.string == message["messageId"]?.string, "the AMQP messageId is the event's id")
                if event["type"]?.string == "com.iotbridge.migration.device.migrated" {
                    #expect(event["data"]?["toInstanceId"]?.string == "iot-target")
                    subjects.insert(event["subject"]?.string ?? "")
                }
                sequences.append(try #require(event["data"]?["sequence"]?.int))
            }
            #expect(subjects == Set(devices.map { "a1PK/\($0)" }))
            #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count, "\(sequences)")
            // No message of the stream went to the events receiver, and no event to the stream's consumer.
            #expect(Self.received(watcher)["mig-1"] == nil)
            #expect(Set(Self.received(backend).keys) == ["mig-1"])
            let notes = Self.firstSink(try await self.status(setup))?["notes"]
            #expect("\(String(describing: notes))".contains("migration-events: 1 consumers"), "\(String(describing: notes))")
            // Per-group figures on /metrics: what each route sent and how it was settled.
            let metrics = try await self.metrics(setup)
            func value(_ name: String, _ group: String, outcome: String? = nil) -> Double {
                let line = metrics.split(separator: "\n").first { line in
                    line.hasPrefix(name + "{") && line.contains("group=\"\(group)\"")
                        && (outcome.map { line.contains("outcome=\"\($0)\"") } ?? true)
                }
                return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
            }
            #expect(value("iotbridge_listener_sent_total", "migration-events") >= 3, "\(metrics)")
            #expect(value("iotbridge_listener_settled_total", "migration-events", outcome: "accepted") >= 3)
            #expect(value("iotbridge_listener_sent_total", "cg-backend") >= 1)
            #expect(value("iotbridge_listener_consumers", "migration-events") == 1)
        }

        @Test("envelope: mns — an MNS consumer's parsing code gets the MNS queue message through the listener")
        func mnsEnvelope() async throws {
            let setup = try await self.setUp("listener-mns", envelope: "mns")
            defer { setup.harness.stop() }
            try await self.startBridge(setup)
            let consumer = try self.consumer(setup, clientId: "mns-backend")
            defer { consumer.stop() }
            let publisher = try await setup.harness.publish(5, overlap: 0, redeliver: 0)
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0)
            try await waitUntil("five messages", timeout: .seconds(30)) { Self.received(consumer).count >= 5 }
            for event in consumer.events("message") {
                let body = try #require(JSON(parsing: event["body"]?.string ?? ""), "\(event)")
                #expect(body["messageid"]?.string == event["messageId"]?.string)
                #expect(body["messagetype"]?.string == "upload")
                #expect(body["topic"]?.string == event["topic"]?.string)
                let payload = try #require(Data(base64Encoded: body["payload"]?.string ?? ""))
                #expect(String(decoding: payload, as: UTF8.self).hasPrefix("{\"seq\":"), "\(body)")
                #expect(body["timestamp"]?.int != nil)
            }
        }
    }
}
