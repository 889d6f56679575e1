//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Simulator

/// `iotbridge demo`: a whole migration rehearsed on this machine, in this process, with no configuration.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Rehearse a whole migration on this machine: simulated instances, migrate, bridge, 0 lost.",
        discussion: """
            Everything runs in this process on loopback; nothing to configure, no external service:

              1. two simulated IoT Platform instances: a legacy public source and an
                 Enterprise target (AMQP 1.0 over self-signed TLS with aksign logins,
                 one OpenAPI endpoint); --devices devices publish --rate msg/s on the
                 source, which has a consumer group, an AMQP and an MNS subscription
                 and two rules;
              2. `iotbridge migrate`'s planner and runner recreate the consumer group,
                 the subscriptions (MNS translated to AMQP) and the rules on the
                 target through the OpenAPI;
              3. the bridge consumes every consumer group of both instances with the
                 IDs the migration created, and writes one de-duplicated stream to a
                 JSON-lines file: the demo's backend;
              4. the devices move in 3 grayscale batches, then a full migration, over
                 --duration; their messages are copied to both instances for a while
                 after each move (data synchronisation);
              5. a live display: messages per second from each instance, the merged
                 rate, duplicates dropped, devices migrated, events emitted; the
                 bridge's /status and /metrics URL;
              6. publishing stops, the bridge drains (up to 30 s), and the report
                 compares what was published (the simulator's ledger) with what the
                 backend received.

            Ctrl-C stops publishing early and still drains and reports; a second Ctrl-C quits at once.

            Exit status: 0 when nothing was lost, nothing duplicated and the registry names the right \
            instance for every device; 1 otherwise (the report says what it saw); 2 on an error.

            The work folder (migration.yaml, plan.yaml, bridge.yaml, the state, backend.jsonl) is printed \
            and deleted at the end unless --keep.

            Examples:
              iotbridge demo
              iotbridge demo --duration 20 --devices 50 --rate 200
              iotbridge demo --duration 20 --json
            """
    )

    @Option(help: "How long the devices publish, in seconds (at least 10).")
    var duration: Int = 60

    @Option(help: "How many devices (at least 4).")
    var devices: Int = 200

    @Option(help: "Messages per second over all devices.")
    var rate: Double = 500

    @Flag(help: "Print only the final report, as one JSON object (the live display goes to standard error).")
    var json = false

    @Flag(help: "Keep the work folder (its path is printed).")
    var keep = false

    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "error"

    func validate() throws {
        guard self.duration >= 10 else { throw ValidationError("--duration \(self.duration): at least 10 seconds, e.g. --duration 20") }
        guard self.duration <= 86_400 else { throw ValidationError("--duration \(self.duration): at most 86400 seconds (a day)") }
        guard (4...100_000).contains(self.devices) else { throw ValidationError("--devices \(self.devices): between 4 and 100000") }
        guard self.rate > 0, self.rate <= 20_000 else { throw ValidationError("--rate \(self.rate): more than 0 and at most 20000 msg/s") }
    }

    func run() async throws {
        let report = try await DemoRun(
            duration: .seconds(self.duration),
            devices: self.devices,
            rate: self.rate,
            json: self.json,
            keep: self.keep,
            logLevel: self.logLevel
        ).run()
        if self.json {
            print(report.json)
        } else {
            print("\n" + report.text)
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }
}
