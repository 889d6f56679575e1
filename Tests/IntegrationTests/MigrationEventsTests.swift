//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Testing

extension IntegrationSuites {
    /// Migration-status events end to end, with real processes: RabbitMQ queues stand in for the two instances
    /// (the only stand-in: the cloud), `iotbridge run` recognises the platform's migration messages, commits events
    /// and registry rows, and its outbox delivers them to a RabbitMQ queue, a loopback webhook and a JSON-lines
    /// file; the README's Python subscriber keeps its own table from the queue; a kill -9 with an event committed
    /// but not yet delivered still delivers it after the restart.
    @Suite(
        "Events: migration-status events and the registry",
        .serialized,
        .timeLimit(.minutes(5)),
        .enabled(
            if: TestEnvironment.rabbitMQURL != nil && TestEnvironment.hasPythonPeers && TestEnvironment.binary != nil,
            "needs RabbitMQ, the Python peers and the iotbridge binary (scripts/test.sh)"
        )
    )
    struct MigrationEventsTests {
        /// The pieces of one scenario.
        final class Scenario: @unchecked Sendable {
            // @unchecked Sendable: used from one test task at a time.
            let directory: TemporaryDirectory
            let host: String
            let endpoint: String
            let queues: (source: String, target: String, merged: String, events: String)
            let state: String
            let eventFile: String
            let webhookLog: String
            let httpPort: Int
            var webhookPort = 0
            var webhook: ManagedProcess?
            var bridge: ManagedProcess?
            var runs = 0

            init() throws {
                self.directory = try TemporaryDirectory("events")
                let url = try #require(TestEnvironment.rabbitMQURL)
                self.host = try AMQPEndpoint(url: url).hostAndPort
                self.endpoint = url.replacingOccurrences(of: "amqp://", with: "amqp://guest:guest@")
                let unique = AMQPTestSupport.uniqueName("events")
                self.queues = ("/queue/\(unique)-source", "/queue/\(unique)-target", "/queue/\(unique)-merged", "/queue/\(unique)-events")
                self.state = self.directory.file("bridge.sqlite")
                self.eventFile = self.directory.file("events.jsonl")
                self.webhookLog = self.directory.file("webhook.jsonl")
                self.httpPort = try Sockets.freePort()
                _ = FileManager.default.createFile(atPath: self.webhookLog, contents: nil)
            }

            func python(_ script: String, _ arguments: [String], name: String) throws -> ManagedProcess {
                try ManagedProcess(
                    try #require(TestEnvironment.python),
                    [script] + arguments,
                    name: name,
                    environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                    outputDirectory: self.directory
                )
            }

            func startWebhook(port: Int = 0) async throws {
                let webhook = try self.python(
                    try #require(TestEnvironment.peers) + "/events_webhook.py",
                    ["\(port)", self.webhookLog],
                    name: "webhook"
                )
                self.webhook = webhook
                let line = try await webhook.waitForLine { $0.contains("listening") }
                self.webhookPort = try #require(JSON(parsing: line)?["port"]?.int)
            }

            func iotbridge(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
                try await ManagedProcess.run(try #require(TestEnvironment.binary), arguments, outputDirectory: self.directory)
            }

            func writeConfiguration() throws -> String {
                let auth = "auth: { kind: plain, user: guest, password: \"${RABBIT_PW}\" }"
                let yaml = """
                    state: \(self.state)
                    upstreams:
                      - { name: source, url: "amqp://\(self.host)/\(self.queues.source)", \(auth), connections: 1 }
                      - { name: target, url: "amqp://\(self.host)/\(self.queues.target)", \(auth), connections: 1 }
                    sinks:
                      - { name: merged, kind: amqp, url: "amqp://\(self.host)/\(self.queues.merged)", \(auth) }
                    deadLetter: { kind: jsonl, path: \(self.directory.file("dead.jsonl")) }
                    http: { listen: "127.0.0.1:\(self.httpPort)" }
                    shutdown: { deadline: 5s }
                    events:
                      migrationTopic: /sys/+/+/migration/#
                      sinks:
                        - { name: evfile, kind: jsonl, path: \(self.eventFile) }
                        - { name: evq, kind: amqp, url: "amqp://\(self.host)/\(self.queues.events)", \(auth) }
                        - { name: evhook, kind: webhook, url: "http://127.0.0.1:\(self.webhookPort)/events" }
                    """
                let path = self.directory.file("bridge.yaml")
                try yaml.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }

            func startBridge(_ config: String) async throws {
                self.runs += 1
                let bridge = try ManagedProcess(
                    try #require(TestEnvironment.binary),
                    ["run", "--config", config, "--quiet"],
                    name: "bridge-\(self.runs)",
                    environment: ["RABBIT_PW": "guest"],
                    outputDirectory: self.directory
                )
                self.bridge = bridge
                try await waitUntil("the bridge started", timeout: .seconds(30)) {
                    if !bridge.isRunning { throw IntegrationTestError("the bridge exited: \(bridge.outputTail)") }
                    return bridge.stderr.contains("bridge started")
                }
            }

            /// Publishes messages (queue, topic, messageId, payload) with peers/events_publish.py.
            func publish(_ messages: [(String, String, String, String)]) async throws {
                let file = self.directory.file("publish-\(UUID().uuidString.prefix(8)).jsonl")
                var lines = ""
                for (address, topic, id, payload) in messages {
                    let object: [String: String] = ["address": address, "topic": topic, "messageId": id, "payload": payload]
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    lines += String(decoding: data, as: UTF8.self) + "\n"
                }
                try lines.write(toFile: file, atomically: true, encoding: .utf8)
                let publisher = try self.python(
                    try #require(TestEnvironment.peers) + "/events_publish.py",
                    [self.endpoint, file],
                    name: "publish"
                )
                #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            }

            static func lines(_ path: String) -> [JSON] {
                let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").compactMap { JSON(parsing: String($0)) }
            }

            func stop() {
                self.bridge?.stop()
                self.webhook?.stop()
            }
        }

        static let migrationTopic = "/sys/a1PK/platform/migration/status"

        static func migrationMessage(_ status: String, _ devices: [String], extra: String = "") -> String {
            let list = devices.map { "{\"productKey\":\"a1PK\",\"deviceName\":\"\($0)\"}" }.joined(separator: ",")
            return "{\"status\":\"\(status)\",\"targetInstance\":\"target\",\"productKey\":\"a1PK\",\"successDevices\":[\(list)]\(extra)}"
        }

        @Test("every device event type, in order, to a queue, a webhook and a file; the registry follows; a kill -9 loses no event")
        func endToEnd() async throws {
            let scenario = try Scenario()
            defer { scenario.stop() }
            // Seed: three devices on the source (the stand-in source upstream's instance is its label, "source").
            let csv = scenario.directory.file("devices.csv")
            try "productKey,deviceName,iotInstanceId\na1PK,d1,source\na1PK,d2,source\na1PK,d3,source\n"
                .write(toFile: csv, atomically: true, encoding: .utf8)
            let seeded = try await scenario.iotbridge(["registry", "import", "--csv", csv, "--state", scenario.state])
            #expect(seeded.status == 0, "\(seeded.stderr)")
            #expect(seeded.stdout.contains("3 device(s) read, 3 new"))

            try await scenario.startWebhook()
            let config = try scenario.writeConfiguration()
            let (source, target) = (scenario.queues.source, scenario.queues.target)
            try await scenario.publish([
                (source, "/a1PK/d1/user/update", "m1", "{\"t\":1}"),
                (source, Self.migrationTopic, "mig-1", Self.migrationMessage("GRAY_EXECUTING", ["d1", "d2"])),
                (source, Self.migrationTopic, "mig-2", Self.migrationMessage("ROLLBACK_EXECUTING", ["d2"])),
                (source, Self.migrationTopic, "mig-3", Self.migrationMessage("PAUSED", [], extra: ",\"reason\":\"ops\"")),
                (source, Self.migrationTopic, "bad-1", "not json"),
                (source, Self.migrationTopic, "bad-2", "{\"targetInstance\":\"target\"}"),
                (target, "/a1PK/d3/user/update", "t1", "{\"t\":3}"),
            ])
            try await scenario.startBridge(config)
            try await waitUntil("five events in the file", timeout: .seconds(30)) {
                Scenario.lines(scenario.eventFile).count >= 5
            }
            var events = Scenario.lines(scenario.eventFile)
            let types = events.compactMap { $0["type"]?.string }
            #expect(
                types.sorted() == [
                    "com.iotbridge.migration.device.migrated", "com.iotbridge.migration.device.migrated",
                    "com.iotbridge.migration.device.observed-on-target", "com.iotbridge.migration.device.rolled-back",
                    "com.iotbridge.migration.migration.state-changed",
                ],
                "\(types)"
            )
            // One migration (platform:target:a1PK), sequences 1…5 in delivery order, no gap.
            #expect(events.compactMap { $0["data"]?["sequence"]?.int } == [1, 2, 3, 4, 5])
            #expect(Set(events.compactMap { $0["data"]?["migrationId"]?.string }) == ["platform:target:a1PK"])
            let migratedOrder = events.filter { $0["data"]?["deviceName"]?.string == "d2" }.compactMap { $0["type"]?.string }
            #expect(migratedOrder == ["com.iotbridge.migration.device.migrated", "com.iotbridge.migration.device.rolled-back"])
            try await Self.expectValid(scenario.eventFile, scenario.directory)

            // The webhook got the same events (structured mode, Idempotency-Key = id, checked by the peer).
            try await waitUntil("the webhook has five events", timeout: .seconds(20)) {
                Scenario.lines(scenario.webhookLog).count >= 5
            }
            #expect(Scenario.lines(scenario.webhookLog).compactMap { $0["id"]?.string } == events.compactMap { $0["id"]?.string })

            // The registry: d1 on the target, d2 rolled back, d3 only observed there; bad messages changed nothing.
            for (device, instance) in [("d1", "target"), ("d2", "source"), ("d3", "source")] {
                let lookup = try await scenario.iotbridge(["registry", "lookup", "a1PK/\(device)", "--state", scenario.state])
                #expect(lookup.status == 0 && lookup.stdout == "\(instance)\n", "\(device): \(lookup)")
            }
            let unknown = try await scenario.iotbridge(["registry", "lookup", "a1PK/nobody", "--state", scenario.state])
            #expect(unknown.status == 1)
            let http = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(scenario.httpPort)/instances/a1PK/d1"],
                outputDirectory: scenario.directory
            )
            #expect(http.stdout.contains("\"iotInstanceId\":\"target\"") && http.stdout.hasSuffix("\n200"), "\(http.stdout)")
            let missing = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(scenario.httpPort)/instances/a1PK/nobody"],
                outputDirectory: scenario.directory
            )
            #expect(missing.stdout == "404")
            let status = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-s", "http://127.0.0.1:\(scenario.httpPort)/status"],
                outputDirectory: scenario.directory
            )
            let migration = JSON(parsing: status.stdout.trimmingCharacters(in: .whitespacesAndNewlines))?["migration"]
            #expect(migration?["malformedMessages"]?.int == 2, "\(status.stdout)")
            #expect(migration?["migrationMessages"]?.int == 3, "\(status.stdout)")

            // A crash with an event committed and not delivered: the webhook is down, the event waits in the
            // outbox (the file and the queue have it, the webhook not, so it is not marked delivered), kill -9,
            // webhook back, restart: delivered (again to the file and the queue: at least once).
            scenario.webhook?.stop()
            try await scenario.publish([(source, Self.migrationTopic, "mig-4", Self.migrationMessage("ALL_EXECUTING", ["d3"]))])
            try await waitUntil("the sixth event in the file", timeout: .seconds(30)) {
                Scenario.lines(scenario.eventFile).count >= 6
            }
            let bridge = try #require(scenario.bridge)
            bridge.send(SIGKILL)
            _ = try await bridge.waitForExit(timeout: .seconds(10))
            #expect(Scenario.lines(scenario.webhookLog).count == 5)
            try await scenario.startWebhook(port: scenario.webhookPort)
            try await scenario.startBridge(config)
            try await waitUntil("the webhook has the sixth event", timeout: .seconds(30)) {
                Scenario.lines(scenario.webhookLog).count >= 6
            }
            events = Scenario.lines(scenario.eventFile)
            let sixth = try #require(
                events.last(where: { $0["data"]?["deviceName"]?.string == "d3" && $0["type"]?.string == "com.iotbridge.migration.device.migrated" }))
            #expect(Scenario.lines(scenario.webhookLog).contains { $0["id"]?.string == sixth["id"]?.string })
            #expect(sixth["data"]?["sequence"]?.int == 6)

            // The README's subscriber, from the queue: its table ends where the registry is.
            let database = scenario.directory.file("subscriber.sqlite")
            let subscriber = try scenario.python(
                try #require(TestEnvironment.peers) + "/../../../docs/examples/migration_subscriber.py",
                [scenario.endpoint, scenario.queues.events, database, "--count", "6", "--idle", "10"],
                name: "subscriber"
            )
            #expect(try await subscriber.waitForExit(timeout: .seconds(60)) == 0, "\(subscriber.outputTail)")
            let summary = try #require(subscriber.events("subscriber").last, "\(subscriber.outputTail)")
            #expect(summary["applied"]?.int == 6 && summary["orderErrors"]?.int == 0, "\(summary)")
            let table = try await ManagedProcess.run(
                try #require(TestEnvironment.python),
                [
                    "-c",
                    "import sqlite3,sys; print(sorted(sqlite3.connect(sys.argv[1]).execute('SELECT device_name, iot_instance_id FROM device_instance').fetchall()))",
                    database,
                ],
                outputDirectory: scenario.directory
            )
            #expect(table.stdout == "[('d1', 'target'), ('d2', 'source'), ('d3', 'target')]\n", "\(table)")
            let final = try await scenario.iotbridge(["registry", "lookup", "a1PK/d3", "--state", scenario.state])
            #expect(final.stdout == "target\n")

            // `events replay --config` re-sends the whole outbox to the configured sinks, ids unchanged.
            let before = Scenario.lines(scenario.webhookLog)
            let replay = try await ManagedProcess.run(
                try #require(TestEnvironment.binary),
                ["events", "replay", "--from", "0", "--config", config],
                environment: ["RABBIT_PW": "guest"],
                outputDirectory: scenario.directory
            )
            #expect(replay.status == 0 && replay.stderr.contains("6 event(s) sent"), "\(replay)")
            let after = Scenario.lines(scenario.webhookLog)
            #expect(after.count == before.count + 6)
            #expect(Set(after.dropFirst(before.count).compactMap { $0["id"]?.string }) == Set(before.compactMap { $0["id"]?.string }))

            // `events watch` keeps a downstream registry from the queue (the replay's six events).
            let watchStore = scenario.directory.file("watch.sqlite")
            let watch = try await scenario.iotbridge([
                "events", "watch", "--amqp", scenario.endpoint + "/" + scenario.queues.events, "--store", watchStore,
                "--count", "6", "--timeout", "30",
            ])
            #expect(watch.status == 0 && watch.stdout.contains("6 event(s)"), "\(watch)")
            for (device, instance) in [("d1", "target"), ("d2", "source"), ("d3", "target")] {
                let lookup = try await scenario.iotbridge(["registry", "lookup", "a1PK/\(device)", "--state", watchStore])
                #expect(lookup.stdout == "\(instance)\n", "\(device): \(lookup)")
            }

            // `events watch --webhook-listen`: the receiving end of a webhook events sink (replayed into it).
            let hookStore = scenario.directory.file("hook-watch.sqlite")
            let watcher = try ManagedProcess(
                try #require(TestEnvironment.binary),
                ["events", "watch", "--webhook-listen", "0", "--store", hookStore, "--count", "6", "--timeout", "60"],
                name: "watch-hook",
                outputDirectory: scenario.directory
            )
            try await waitUntil("the watcher listens", timeout: .seconds(20)) { watcher.stderr.contains("listening on") }
            let port = try #require(watcher.stderr.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            let hookConfig = scenario.directory.file("replay-hook.yaml")
            try
                (try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "http://127.0.0.1:\(scenario.webhookPort)/events", with: "http://127.0.0.1:\(port)/events"))
                .write(toFile: hookConfig, atomically: true, encoding: .utf8)
            // A body that is not an event is refused with 400, and the watcher keeps going.
            let bad = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", "not an event", "http://127.0.0.1:\(port)/events"],
                outputDirectory: scenario.directory
            )
            #expect(bad.stdout == "400")
            let replayHook = try await ManagedProcess.run(
                try #require(TestEnvironment.binary),
                ["events", "replay", "--from", "0", "--config", hookConfig],
                environment: ["RABBIT_PW": "guest"],
                outputDirectory: scenario.directory
            )
            #expect(replayHook.status == 0, "\(replayHook)")
            #expect(try await watcher.waitForExit(timeout: .seconds(30)) == 0, "\(watcher.outputTail)")
            #expect(watcher.stdout.contains("6 event(s), 4 registry change(s)"), "\(watcher.stdout)")
            let hooked = try await scenario.iotbridge(["registry", "lookup", "a1PK/d2", "--state", hookStore])
            #expect(hooked.stdout == "source\n", "\(hooked)")
        }

        /// Validates a JSON-lines file against the committed schema with python3-jsonschema.
        static func expectValid(_ file: String, _ directory: TemporaryDirectory) async throws {
            let schema = try #require(TestEnvironment.peers) + "/../../../docs/schemas/migration-event.schema.json"
            let script = """
                import json, sys, jsonschema
                validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])), format_checker=jsonschema.FormatChecker())
                errors = [e.message for line in open(sys.argv[2]) for e in validator.iter_errors(json.loads(line))]
                print(json.dumps(errors)); sys.exit(1 if errors else 0)
                """
            let result = try await ManagedProcess.run(
                try #require(TestEnvironment.python),
                ["-c", script, schema, file],
                outputDirectory: directory
            )
            #expect(result.status == 0, "schema violations: \(result.stdout) \(result.stderr)")
        }
    }
}
