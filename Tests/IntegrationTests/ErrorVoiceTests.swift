//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

/// Every mistake issue 13 lists gets one voice: `error: …` naming what and where, exit 2, no usage after a runtime
/// error, no Foundation dump; and `amqp send` never reports a message sent that was not.
extension IntegrationSuites {
    @Suite("errors speak with one voice")
    struct ErrorVoiceTests {
        /// Runs the binary in `folder` and returns its status, stdout and stderr.
        static func run(_ arguments: [String], in folder: String, environment: [String: String] = [:]) throws -> (Int32, String, String) {
            guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let out = folder + "/.out-\(UUID().uuidString.prefix(8))"
            let err = out + ".err"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            _ = FileManager.default.createFile(atPath: err, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
            try process.run()
            process.waitUntilExit()
            return (
                process.terminationStatus,
                (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            )
        }

        @Test(
            "usage and file mistakes: error:, what and where, exit 2",
            arguments: [
                (["migrat", "plan"], "error: unknown command 'migrat' for 'iotbridge'; did you mean 'migrate'?"),
                (["migrate", "pln"], "error: unknown command 'pln' for 'iotbridge migrate'; did you mean 'plan'?"),
                (["amqp", "broker", "--port", "99999"], "error: --port must be between 0 and 65535"),
                (["amqp", "broker", "--password-env", "PW"], "error: --password-env needs --user"),
                (["amqp", "send", "--url", "amqp://127.0.0.1:1/q", "--password-env", "PW"], "error: --password-env needs --user"),
                (["migrate", "plan", "--config", "missing.yaml"], "error: cannot read migration.yaml 'missing.yaml': the file does not exist"),
                (["migrate", "plan", "--config", "binary.yaml"], "it is not UTF-8 text (invalid byte at offset 1)"),
                (["migrate", "plan", "--config", "folder"], "error: cannot read migration.yaml 'folder': it is a folder"),
                (["rules", "test", "rules", "--samples", "empty.jsonl"], "empty.jsonl: no samples"),
                (
                    ["rules", "eval", "--sql", "SELECT a FROM \"/a/b\"", "--topic", "/a/b", "--payload", "@nope.json"],
                    "error: cannot read --payload @file 'nope.json': the file does not exist"
                ),
                (
                    ["migrate", "rewrite-rules", "--plan", "plan.yaml", "--out", "missing-dir", "rules"],
                    "error: --out missing-dir: no such folder"
                ),
                // Commands added after issue 13 follow the same rules.
                (["run", "--config", "missing.yaml", "--check"], "cannot read the configuration file 'missing.yaml': the file does not exist"),
                (["run", "--config", "folder", "--check"], "cannot read the configuration file 'folder': it is a folder"),
                (["sim", "--config", "missing.yaml", "--check"], "cannot read the configuration file 'missing.yaml': the file does not exist"),
                (["sim", "--config", "binary.yaml", "--check"], "it is not UTF-8 text (invalid byte at offset 1)"),
                (
                    ["deadletter", "replay", "nope.jsonl", "--config", "missing.yaml"],
                    "error: cannot read the dead-letter file 'nope.jsonl': the file does not exist"
                ),
                (["registry", "import", "--csv", "nope.csv", "--state", "r.sqlite"], "error: cannot read --csv 'nope.csv': the file does not exist"),
                (["registry", "lokup", "a/b"], "error: unknown command 'lokup' for 'iotbridge registry'; did you mean 'lookup'?"),
                (
                    ["events", "watch", "--amqp", "amqp://127.0.0.1:1//queue/e", "--password-env", "PW", "--store", "r.sqlite"],
                    "error: --password-env needs --user"
                ),
                (["events", "watch", "--webhook-listen", "0", "--user", "u", "--store", "r.sqlite"], "error: --user and --password-env are for --amqp"),
                (["status", "--count", "3"], "error: --count needs --watch"),
            ]
        )
        func usageAndFileMistakes(arguments: [String], expected: String) throws {
            let folder = try TemporaryDirectory("voice")
            defer { folder.remove() }
            try Data([0x61, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: folder.file("binary.yaml")))
            try FileManager.default.createDirectory(atPath: folder.file("folder"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: folder.file("rules"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: ExamplesTests.root + "/rules/examples/custom-topic-weather.yaml",
                toPath: folder.file("rules/weather.yaml")
            )
            try "".write(toFile: folder.file("empty.jsonl"), atomically: true, encoding: .utf8)
            let (status, _, stderr) = try Self.run(arguments, in: folder.path)
            #expect(status == 2, "\(arguments): \(stderr)")
            #expect(stderr.contains(expected), "\(arguments): \(stderr)")
            #expect(!stderr.contains("Error:") && !stderr.contains("NSCocoaErrorDomain"), "\(stderr)")
            for line in stderr.split(separator: "\n") where !line.hasPrefix(" ") && !line.hasPrefix("Usage:") {
                // A configuration file's diagnostics end with a count, as a compiler's do: `bridge.yaml: 2 errors`.
                let isCount = line.wholeMatch(of: /\S+: \d+ errors?/) != nil
                #expect(line.hasPrefix("error: ") || line.contains(": error: ") || isCount, "not in the one voice: \(line)")
            }
        }

        @Test("a runtime error prints no usage; a misspelt key of migration.yaml is found on its own line")
        func runtimeErrorsAndConfigLines() throws {
            let folder = try TemporaryDirectory("voice")
            defer { folder.remove() }
            try "source: {kind: file, file: s.yaml, create: true}\ntarget:\n  kind: fiel\noptions:\n  prodcts: [a]\n"
                .write(toFile: folder.file("migration.yaml"), atomically: true, encoding: .utf8)
            let (status, _, stderr) = try Self.run(["migrate", "plan", "--config", "migration.yaml"], in: folder.path)
            #expect(status == 2)
            #expect(stderr.contains("migration.yaml:3:9: error: 'kind' must be one of aliyun, file, sim, found 'fiel'; did you mean 'file'?"), "\(stderr)")
            #expect(stderr.contains("migration.yaml:5:3: error: unknown key 'prodcts' in options; did you mean 'products'?"), "\(stderr)")
            #expect(!stderr.contains("Usage:"), "\(stderr)")
        }

        @Test("amqp send counts nothing as sent when the login fails, and says what the broker offers")
        func sendWithARefusedLogin() async throws {
            let folder = try TemporaryDirectory("voice")
            defer { folder.remove() }
            guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
            // The README's first broker: no --user, so it offers only ANONYMOUS.
            let broker = try ManagedProcess(binary, ["amqp", "broker", "--port", "0"], name: "anonymous-broker", outputDirectory: folder)
            defer { broker.stop() }
            let line = try await broker.waitForLine { JSON(parsing: $0)?["event"]?.string == "listening" }
            let port = JSON(parsing: line)?["port"]?.int ?? 0
            let (status, stdout, stderr) = try Self.run(
                ["amqp", "send", "--url", "amqp://guest:guest@127.0.0.1:\(port)//queue/q", "--count", "1000"],
                in: folder.path
            )
            #expect(status == 2)
            #expect(stdout.contains("\"requested\":1000,\"sent\":0,\"accepted\":0"), "\(stdout)")
            #expect(stderr.contains("does not offer SASL PLAIN"), "\(stderr)")
            #expect(stderr.contains("offers only ANONYMOUS"), "\(stderr)")
            #expect(!stderr.contains("check the user name and password"), "\(stderr)")
        }

        @Test("amqp receive --timeout is honoured while it reconnects to a broker that now refuses the login")
        func receiveTimeoutWhileLoginsAreRefused() async throws {
            let folder = try TemporaryDirectory("voice")
            defer { folder.remove() }
            guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
            let port = try Sockets.freePort()
            let brokerArguments = ["amqp", "broker", "--port", "\(port)", "--user", "u", "--password-env", "PW"]
            let first = try ManagedProcess(binary, brokerArguments, name: "broker-1", environment: ["PW": "one"], outputDirectory: folder)
            try await first.waitForLine { $0.contains("listening") }
            let receiver = try ManagedProcess(
                binary,
                ["amqp", "receive", "--url", "amqp://u:one@127.0.0.1:\(port)//queue/q", "--timeout", "5"],
                name: "receiver",
                outputDirectory: folder
            )
            defer { receiver.stop() }
            try await Task.sleep(for: .seconds(1))
            first.stop()
            // The same port, another password: every reconnect is refused from now on.
            let second = try ManagedProcess(
                binary, brokerArguments, name: "broker-2",
                environment: ["PW": "two"], outputDirectory: folder)
            defer { second.stop() }
            let started = ContinuousClock.now
            let status = try await receiver.waitForExit(timeout: .seconds(15))
            #expect(ContinuousClock.now - started < .seconds(8), "--timeout 5 was not honoured")
            #expect(status == 1 || status == 2, "\(receiver.outputTail)")
        }

        @Test("events watch --timeout says how many of --count events it committed, as amqp receive does")
        func eventsWatchTimeoutSaysWhatArrived() async throws {
            let folder = try TemporaryDirectory("voice")
            defer { folder.remove() }
            guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
            let broker = try ManagedProcess(binary, ["amqp", "broker", "--port", "0"], name: "events-broker", outputDirectory: folder)
            defer { broker.stop() }
            let line = try await broker.waitForLine { JSON(parsing: $0)?["event"]?.string == "listening" }
            let url = "amqp://127.0.0.1:\(JSON(parsing: line)?["port"]?.int ?? 0)//queue/migration-events"
            // One event as `migrate run` writes it: a consumer group recreated on the target.
            let event = """
                {"specversion":"1.0","id":"4c484e1c-ddbf-45e6-a581-8bdf14de9f76","source":"/iotbridge/migrate",\
                "type":"com.iotbridge.migration.consumer-group.recreated","subject":"G2c82bac7a1dc",\
                "time":"2026-11-29T21:37:18.530Z","datacontenttype":"application/json","data":{"migrationId":"mig-1",\
                "sequence":1,"fromInstanceId":"","toInstanceId":"iot-06z00frq8umvkx2","resourceKind":"consumerGroup",\
                "resourceName":"orders","oldId":"G1","newId":"G2c82bac7a1dc","status":"done"}}
                """
            let sent = try Self.run(["amqp", "send", "--url", url, "--count", "1", "--body", event], in: folder.path)
            #expect(sent.0 == 0, "\(sent.1) \(sent.2)")
            // A managed process, polled: a blocking wait would hold a thread of the cooperative pool for 2 s.
            let watch = try ManagedProcess(
                binary,
                ["events", "watch", "--amqp", url, "--store", folder.file("registry.sqlite"), "--count", "2", "--timeout", "2"],
                name: "watch-timeout",
                outputDirectory: folder
            )
            defer { watch.stop() }
            let status = try await watch.waitForExit(timeout: .seconds(30))
            #expect(status == 1, "\(watch.outputTail)")
            #expect(watch.stderr.contains("error: timed out after 2.0 s with 1 of 2 events committed"), "\(watch.outputTail)")
        }

        @Test("events watch fails fast on a refused port and honours --timeout while logins are refused after a restart")
        func eventsWatchDoesNotReconnectForEver() async throws {
            let folder = try TemporaryDirectory("voice")
            defer { folder.remove() }
            guard let binary = TestEnvironment.binary else { throw IntegrationTestError("IOTBRIDGE_BIN must be set") }
            let closed = try Sockets.freePort()
            let refused = try ManagedProcess(
                binary,
                ["events", "watch", "--amqp", "amqp://127.0.0.1:\(closed)//queue/e", "--store", folder.file("r.sqlite"), "--timeout", "60"],
                name: "watch-refused",
                outputDirectory: folder
            )
            defer { refused.stop() }
            // Generous: only "fails rather than waits for --timeout (60 s) or for ever" matters.
            let refusedStatus = try await refused.waitForExit(timeout: .seconds(30))
            #expect(refusedStatus == 2, "\(refused.outputTail)")
            #expect(refused.outputTail.contains("connection refused"), "\(refused.outputTail)")

            let port = try Sockets.freePort()
            let brokerArguments = ["amqp", "broker", "--port", "\(port)", "--user", "u", "--password-env", "PW"]
            let first = try ManagedProcess(binary, brokerArguments, name: "events-broker-1", environment: ["PW": "one"], outputDirectory: folder)
            try await first.waitForLine { $0.contains("listening") }
            let watcher = try ManagedProcess(
                binary,
                ["events", "watch", "--amqp", "amqp://u:one@127.0.0.1:\(port)//queue/e", "--store", folder.file("r2.sqlite"), "--timeout", "5"],
                name: "watch-restart",
                outputDirectory: folder
            )
            defer { watcher.stop() }
            try await Task.sleep(for: .seconds(1))
            first.stop()
            // The same port, another password: every reconnect is refused from now on.
            let second = try ManagedProcess(binary, brokerArguments, name: "events-broker-2", environment: ["PW": "two"], outputDirectory: folder)
            defer { second.stop() }
            let status = try await watcher.waitForExit(timeout: .seconds(30))
            #expect(status == 1 || status == 2, "\(watcher.outputTail)")
        }

        @Test("a payload that is not UTF-8 is the same bytes from the command line and from a file")
        func nonUTF8Payload() throws {
            let folder = try TemporaryDirectory("voice")
            defer { folder.remove() }
            let bytes: [UInt8] = [0x01, 0xFF, 0xFE, 0x41]
            try Data(bytes).write(to: URL(fileURLWithPath: folder.file("frame.bin")))
            let sql = "SELECT to_base64(*) AS b FROM \"/pk/+/user/raw\""
            let fromFile = try Self.run(
                ["rules", "eval", "--data-type", "binary", "--sql", sql, "--topic", "/pk/d/user/raw", "--payload", "@frame.bin"],
                in: folder.path
            )
            // The same bytes as an argument: through bash, which passes them unchanged.
            let script =
                "exec \"$IOTBRIDGE_BIN\" rules eval --data-type binary --sql '\(sql)' --topic /pk/d/user/raw "
                + "--payload \"$(printf '\\001\\377\\376A')\""
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", script]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(fromFile.0 == 0, "\(fromFile.2)")
            #expect(fromFile.1.contains("\"b\":\"Af/+QQ==\""), "\(fromFile.1)")
            #expect(String(decoding: data, as: UTF8.self) == fromFile.1)
        }
    }
}
