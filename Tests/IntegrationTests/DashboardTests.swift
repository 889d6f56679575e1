//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

/// Debian's chromium (scripts/test.sh installs it), nil when absent.
private let debianChromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

extension IntegrationSuites {
    /// The bridge's live dashboard, rendered by Debian's headless Chromium against a real `iotbridge run` with
    /// messages flowing (two RabbitMQ queues with overlapping messageIds, platform migration messages among them),
    /// and `iotbridge status` against the same kind of bridge. What the page and the command show is compared
    /// with what `/status` says at the same moment.
    @Suite(
        "Dashboard: the live web page in headless Chromium, and iotbridge status",
        .serialized,
        .timeLimit(.minutes(5)),
        .enabled(
            if: TestEnvironment.rabbitMQURL != nil && TestEnvironment.hasPythonPeers && debianChromium != nil,
            "needs RabbitMQ, the Python peers and chromium (scripts/test.sh installs it)"
        )
    )
    struct DashboardTests {
        static let migrationTopic = "/sys/a1PK/platform/migration/status"

        @Test("the page shows the real figures while messages flow and once they stopped, and says when the bridge stops answering")
        func pageShowsTheBridgesRealFigures() async throws {
            let harness = try BridgeHarness("dashboard")
            defer { harness.stop() }
            let events = harness.directory.file("events.jsonl")
            let config = try harness.writeConfiguration(
                webhookURL: nil,
                extra: """
                    events:
                      migrationTopic: /sys/+/+/migration/#
                      sinks:
                        - { name: evfile, kind: jsonl, path: \(events) }
                    """
            )
            try await harness.startBridge(config: config)
            let port = try await Self.httpPort(harness)
            // Three devices move to the target instance: three device.migrated events, three registry rows.
            let devices = ["d1", "d2", "d3"].map { "{\"productKey\":\"a1PK\",\"deviceName\":\"\($0)\"}" }.joined(separator: ",")
            try await Self.publish(
                harness,
                [
                    (
                        harness.source, Self.migrationTopic, "mig-1",
                        "{\"status\":\"GRAY_EXECUTING\",\"targetInstance\":\"target\",\"productKey\":\"a1PK\",\"successDevices\":[\(devices)]}"
                    )
                ]
            )
            // The browser reaches the bridge through a relay that spaces its polls 250 ms apart in real time (see
            // peers/dashboard_proxy.py): under --virtual-time-budget they would otherwise follow each other within
            // milliseconds, too close for the counters to move. Later the relay shows when the page has polled.
            let relay = try ManagedProcess(
                try #require(TestEnvironment.python),
                [try #require(TestEnvironment.peers) + "/dashboard_proxy.py", "\(port)", "--delay", "0.25"],
                name: "relay",
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: harness.directory
            )
            defer { relay.stop() }
            let relayPort = try #require(JSON(parsing: try await relay.waitForLine { $0.contains("listening") })?["port"]?.int)
            let relayed = "http://127.0.0.1:\(relayPort)/dashboard"
            // 6,000 messageIds over both queues at 1,000/s, 20 % on both, 1 % published twice: flowing for ~6 s.
            let count = 6000
            let publisher = try await harness.publish(count, rate: 1000)
            try await waitUntil("messages flow", timeout: .seconds(30)) {
                (try await Self.status(harness, port: port)["merged"]?["forwarded"]?.int ?? 0) > 500
            }

            // While flowing: every figure of the page lies between /status just before and just after it.
            let before = try await Self.status(harness, port: port)
            let flowing = try await Self.dumpDOM(harness, url: relayed, budget: 4000)
            let after = try await Self.status(harness, port: port)
            #expect(flowing.contains("<body data-live=\"true\""), "\(flowing.prefix(2000))")
            for (figure, pick) in Self.totals {
                let shown = try #require(Self.number(Self.text(flowing, id: figure)), "\(figure) in the page")
                let low = try #require(pick(before))
                let high = try #require(pick(after))
                #expect(low <= shown && shown <= high, "\(figure): \(shown) not within \(low)...\(high)")
                #expect(shown > 0, "\(figure)")
            }
            for upstream in ["source", "target"] {
                let received = try #require(Self.number(Self.cell(flowing, row: "data-upstream=\"\(upstream)\"", key: "received")))
                let low = try #require(Self.upstream(before, upstream)?["received"]?.int)
                let high = try #require(Self.upstream(after, upstream)?["received"]?.int)
                #expect(low <= received && received <= high && received > 0, "\(upstream): \(received) not within \(low)...\(high)")
                let rate = try #require(Self.rate(Self.cell(flowing, row: "data-upstream=\"\(upstream)\"", key: "rate")), "\(upstream) rate")
                #expect(rate > 0, "\(upstream) rate")
            }
            let mergedRate = try #require(Self.rate(Self.text(flowing, id: "merged-rate")), "merged rate")
            #expect(mergedRate > 0)
            let screenshot = harness.directory.file("dashboard.png")
            try await Self.screenshot(harness, url: relayed, to: screenshot)
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "\(screenshot): \(png.count) bytes")
            print("dashboard screenshot: \(screenshot)")

            // Once the flow stopped: the page shows exactly what /status says.
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            var settled: JSON = .null
            try await waitUntil("every message and event is through", timeout: .seconds(60), interval: .milliseconds(200)) {
                settled = try await Self.status(harness, port: port)
                return settled["merged"]?["forwarded"]?.int == count + 1 && settled["inFlight"]?.int == 0
                    && settled["events"]?["emitted"]?.int == 3 && settled["events"]?["pending"]?.int == 0
                    && settled["devices"]?["migrated"]?.int == 3
            }
            let still = try await Self.dumpDOM(harness, url: "http://127.0.0.1:\(port)/dashboard", budget: 2000)
            let now = try await Self.status(harness, port: port)
            for (figure, pick) in Self.totals {
                #expect(Self.number(Self.text(still, id: figure)) == pick(now), "\(figure)")
            }
            #expect(Self.number(Self.text(still, id: "devices-migrated")) == 3)
            #expect(Self.number(Self.text(still, id: "events-emitted")) == 3)
            #expect(Self.number(Self.text(still, id: "duplicates")) ?? 0 > 0)
            #expect(
                Self.number(Self.cell(still, row: "data-sink=\"merged\"", key: "delivered"))
                    == Self.sink(now, "merged")?["confirmed"]?.int
            )
            #expect(Self.number(Self.cell(still, row: "data-sink=\"merged\"", key: "delivered")) == count + 1)

            // The bridge stops while the page polls it: the page says it is not live and blanks every rate.
            let polledBefore = Self.statusPolls(relay)
            let browser = try Self.startChromium(harness, ["--virtual-time-budget=30000", "--dump-dom", relayed])
            defer { browser.stop() }
            try await waitUntil("the page polled /status twice", timeout: .seconds(30)) {
                Self.statusPolls(relay) >= polledBefore + 2
            }
            let bridge = try #require(harness.bridge)
            bridge.send(SIGTERM)
            #expect(try await bridge.waitForExit(timeout: .seconds(15)) == 0)
            #expect(try await browser.waitForExit(timeout: .seconds(90)) == 0, "\(browser.outputTail)")
            let stale = browser.stdout
            #expect(stale.contains("<body data-live=\"false\""), "\(stale.prefix(3000))")
            #expect(stale.contains("The bridge is not answering"))
            #expect(Self.text(stale, id: "merged-rate") == "—")
            #expect(Self.cell(stale, row: "data-upstream=\"source\"", key: "rate") == "—")
            #expect(Self.number(Self.text(stale, id: "forwarded")) == count + 1, "the last figures stay, marked not live")
            #expect(!relay.events("refused").isEmpty)
        }

        @Test("iotbridge status prints the bridge's figures once, as JSON, and redrawn; an unreachable bridge is an error naming the URL")
        func statusCommand() async throws {
            let harness = try BridgeHarness("status-command")
            defer { harness.stop() }
            let config = try harness.writeConfiguration(webhookURL: nil)
            let count = 1000
            let publisher = try await harness.publish(count)
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
            try await harness.startBridge(config: config)
            let port = try await Self.httpPort(harness)
            var status: JSON = .null
            try await waitUntil("every message is through", timeout: .seconds(60), interval: .milliseconds(200)) {
                status = try await Self.status(harness, port: port)
                return status["merged"]?["forwarded"]?.int == count && status["inFlight"]?.int == 0
            }
            let duplicates = try #require(status["merged"]?["duplicatesDropped"]?.int)
            #expect(duplicates > 0)
            let binary = try #require(TestEnvironment.binary)
            let base = "http://127.0.0.1:\(port)"

            let once = try await ManagedProcess.run(binary, ["status", "--url", base], outputDirectory: harness.directory)
            #expect(once.status == 0, "\(once.stderr)")
            #expect(once.stdout.contains("forwarded \(Self.grouped(count))"), "\(once.stdout)")
            #expect(once.stdout.contains("duplicates  \(Self.grouped(duplicates)) dropped"), "\(once.stdout)")
            let sourceReceived = try #require(Self.upstream(status, "source")?["received"]?.int)
            #expect(once.stdout.split(separator: "\n").contains { $0.hasPrefix("source ") && $0.contains(Self.grouped(sourceReceived)) })
            #expect(!once.stdout.contains("\u{1B}"), "no terminal control characters on a pipe")

            let json = try await ManagedProcess.run(binary, ["status", "--url", base + "/status", "--json"], outputDirectory: harness.directory)
            #expect(json.status == 0, "\(json.stderr)")
            #expect(JSON(parsing: json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))?["merged"]?["forwarded"]?.int == count)

            let watch = try await ManagedProcess.run(binary, ["status", "--url", base, "--watch", "--count", "3"], outputDirectory: harness.directory)
            #expect(watch.status == 0, "\(watch.stderr)")
            let merged = watch.stdout.split(separator: "\n").filter { $0.hasPrefix("merged ") && $0.contains("msg/s") }
            #expect(merged.count == 3, "\(watch.stdout)")
            // The first block has no earlier answer to compute rates from; the next ones have (0.0: nothing flows).
            #expect(merged.first?.contains("— msg/s") == true)
            #expect(merged.last?.hasPrefix("merged      0.0 msg/s") == true, "\(merged)")

            // The page is self-contained: a strict CSP whose nonce is the one its inline script and style carry,
            // nothing loaded from elsewhere; / redirects to it.
            let page = harness.directory.file("dashboard.html")
            let served = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-sS", "-D", "-", "-o", page, base + "/dashboard"],
                outputDirectory: harness.directory
            )
            let csp = try #require(
                served.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-security-policy:") },
                "\(served.stdout)"
            )
            #expect(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline") && csp.contains("connect-src 'self'"))
            let nonce = try #require(Self.firstMatch(in: String(csp), #"script-src 'nonce-([^']+)'"#))
            let html = try String(contentsOfFile: page, encoding: .utf8)
            #expect(html.contains("<script nonce=\"\(nonce)\">") && html.contains("<style nonce=\"\(nonce)\">"))
            #expect(!html.contains("src=") && !html.contains("href="), "no external assets")
            let again = try await ManagedProcess.run(
                "/usr/bin/curl", ["-sS", "-D", "-", "-o", "/dev/null", base + "/dashboard"], outputDirectory: harness.directory)
            #expect(!again.stdout.contains(nonce), "a fresh nonce per response")
            let root = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", base + "/"],
                outputDirectory: harness.directory
            )
            #expect(root.stdout == "303 \(base)/dashboard", "\(root.stdout)")

            let bridge = try #require(harness.bridge)
            bridge.send(SIGTERM)
            _ = try await bridge.waitForExit(timeout: .seconds(15))
            let down = try await ManagedProcess.run(binary, ["status", "--url", base], outputDirectory: harness.directory)
            #expect(down.status == 2)
            #expect(down.stderr.hasPrefix("error: cannot reach the bridge at \(base)/status"), "\(down.stderr)")
            #expect(down.stdout.isEmpty)
            let watchDown = try await ManagedProcess.run(binary, ["status", "--url", base, "--watch", "--count", "2"], outputDirectory: harness.directory)
            #expect(watchDown.status == 2)
            #expect(
                watchDown.stdout.split(separator: "\n").filter { $0.hasPrefix("not live: cannot reach the bridge at \(base)/status") }.count == 2,
                "\(watchDown.stdout)")
        }

        // MARK: Helpers

        /// The page's totals and where /status has each.
        static var totals: [(String, (JSON) -> Int?)] {
            [
                ("forwarded", { $0["merged"]?["forwarded"]?.int }),
                ("duplicates", { $0["merged"]?["duplicatesDropped"]?.int }),
                (
                    "received",
                    { status in
                        guard case .array(let upstreams) = status["upstreams"] else { return nil }
                        return upstreams.compactMap { $0["received"]?.int }.reduce(0, +)
                    }
                ),
            ]
        }

        /// How many /status requests the relay passed on.
        static func statusPolls(_ relay: ManagedProcess) -> Int {
            relay.events("relayed").filter { $0["path"]?.string == "/status" }.count
        }

        static func httpPort(_ harness: BridgeHarness) async throws -> Int {
            try await harness.httpPort()
        }

        static func status(_ harness: BridgeHarness, port: Int) async throws -> JSON {
            let result = try await ManagedProcess.run(
                "/usr/bin/curl",
                ["-sS", "http://127.0.0.1:\(port)/status"],
                outputDirectory: harness.directory
            )
            return try #require(JSON(parsing: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(result)")
        }

        static func upstream(_ status: JSON, _ name: String) -> JSON? {
            guard case .array(let list) = status["upstreams"] else { return nil }
            return list.first { $0["name"]?.string == name }
        }

        static func sink(_ status: JSON, _ name: String) -> JSON? {
            guard case .array(let list) = status["sinks"] else { return nil }
            return list.first { $0["name"]?.string == name }
        }

        /// Publishes (queue, topic, messageId, payload) with peers/events_publish.py.
        static func publish(_ harness: BridgeHarness, _ messages: [(String, String, String, String)]) async throws {
            let file = harness.directory.file("publish-\(UUID().uuidString.prefix(8)).jsonl")
            var lines = ""
            for (address, topic, id, payload) in messages {
                let object: [String: String] = ["address": address, "topic": topic, "messageId": id, "payload": payload]
                lines += String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self) + "\n"
            }
            try lines.write(toFile: file, atomically: true, encoding: .utf8)
            let publisher = try ManagedProcess(
                try #require(TestEnvironment.python),
                [try #require(TestEnvironment.peers) + "/events_publish.py", harness.endpoint, file],
                name: "publish-events",
                environment: ["PYTHONPATH": try #require(TestEnvironment.peers)],
                outputDirectory: harness.directory
            )
            #expect(try await publisher.waitForExit(timeout: .seconds(60)) == 0, "\(publisher.outputTail)")
        }

        /// Headless Chromium with a profile of its own (tests run in parallel) in the test's folder.
        static func startChromium(_ harness: BridgeHarness, _ arguments: [String]) throws -> ManagedProcess {
            try ManagedProcess(
                try #require(debianChromium),
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                    "--user-data-dir=" + harness.directory.file("chromium-profile-\(UUID().uuidString.prefix(8))"),
                ] + arguments,
                name: "chromium",
                outputDirectory: harness.directory
            )
        }

        /// The page's DOM after `budget` ms of (virtual) time: enough for a few polls of /status.
        static func dumpDOM(_ harness: BridgeHarness, url: String, budget: Int) async throws -> String {
            let browser = try Self.startChromium(harness, ["--virtual-time-budget=\(budget)", "--dump-dom", url])
            defer { browser.stop() }
            #expect(try await browser.waitForExit(timeout: .seconds(60)) == 0, "\(browser.outputTail)")
            return browser.stdout
        }

        static func screenshot(_ harness: BridgeHarness, url: String, to path: String) async throws {
            let browser = try Self.startChromium(
                harness,
                ["--virtual-time-budget=3000", "--window-size=1280,1000", "--screenshot=" + path, url]
            )
            defer { browser.stop() }
            #expect(try await browser.waitForExit(timeout: .seconds(60)) == 0, "\(browser.outputTail)")
        }

        /// The text of the element with `id` (no markup inside).
        static func text(_ dom: String, id: String) -> String? {
            Self.firstMatch(in: dom, #"id="\#(id)"[^>]*>([^<]*)<"#)
        }

        /// The text of the cell `data-k="key"` in the row carrying `row` (an attribute).
        static func cell(_ dom: String, row: String, key: String) -> String? {
            guard let start = dom.range(of: "<tr \(row)") else { return nil }
            let rest = dom[start.lowerBound...]
            let end = rest.range(of: "</tr>")?.upperBound ?? rest.endIndex
            return Self.firstMatch(in: String(rest[..<end]), #"data-k="\#(key)"[^>]*>([^<]*)<"#)
        }

        static func firstMatch(in text: String, _ pattern: String) -> String? {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
                let range = Range(match.range(at: 1), in: text)
            else { return nil }
            return String(text[range])
        }

        /// `1,234` → 1234.
        static func number(_ text: String?) -> Int? {
            text.flatMap { Int($0.replacingOccurrences(of: ",", with: "")) }
        }

        /// `1,234` or `12.5` → the rate; nil for `—`.
        static func rate(_ text: String?) -> Double? {
            text.flatMap { Double($0.replacingOccurrences(of: ",", with: "")) }
        }

        /// 1234 → `1,234`, as the page and `iotbridge status` group numbers.
        static func grouped(_ value: Int) -> String {
            let formatter = NumberFormatter()
            formatter.numberStyle = .decimal
            formatter.groupingSeparator = ","
            formatter.usesGroupingSeparator = true
            return formatter.string(from: NSNumber(value: value)) ?? "\(value)"
        }
    }
}
