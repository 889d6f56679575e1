//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Bridge
import Foundation
import Logging
import StateStore
import Testing

/// The outbox delivery loop with batches in flight, against a real sink (a JSON-lines file): every event arrives
/// once, in outbox order, and everything is marked.
@Suite struct OutboxDeliveryTests {
    /// A temporary folder with a state file holding `count` device.migrated events of migration `m`
    /// (subjects `a1PK/dev-1` …).
    final class Outbox: Sendable {
        let folder: String
        let store: SQLiteStateStore

        init(count: Int) async throws {
            self.folder = NSTemporaryDirectory() + "outbox-delivery-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: self.folder, withIntermediateDirectories: true)
            self.store = try SQLiteStateStore(path: self.folder + "/state.sqlite")
            _ = try await self.store.commit(
                (1...count).map { n in
                    OutboxDraft(
                        id: UUID().uuidString.lowercased(),
                        type: "com.iotbridge.migration.device.migrated",
                        source: "/iotbridge/bridge",
                        subject: "a1PK/dev-\(n)",
                        time: 1_700_000_000_000,
                        migrationId: "m",
                        data: "{\"productKey\":\"a1PK\",\"deviceName\":\"dev-\(n)\",\"toInstanceId\":\"iot-b\"}"
                    )
                }
            )
        }

        deinit {
            try? FileManager.default.removeItem(atPath: self.folder)
        }

        /// The events settings of `sinks` (YAML flow mappings).
        func settings(_ sinks: [String]) throws -> EventsSettings {
            let text = """
                upstreams:
                  - { name: source, url: "amqp://127.0.0.1:5672//queue/s", auth: { kind: plain, user: guest, password: "${PW}" } }
                sinks:
                  - { name: log, kind: jsonl, path: \(self.folder)/out.jsonl }
                events:
                  sinks:
                \(sinks.map { "    - " + $0 }.joined(separator: "\n"))

                """
            let result = BridgeConfigurationLoader(environment: ["PW": "guest"]).load(text: text, file: self.folder + "/bridge.yaml")
            return try #require(result.configuration, "\(result.diagnostics)").events
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "test.outbox")
        logger.logLevel = .critical
        return logger
    }()

    /// The `data.sequence` of each line of a JSON-lines file.
    static func sequences(_ path: String) throws -> [Int] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let data = try #require(object["data"] as? [String: Any])
            return try #require(data["sequence"] as? Int)
        }
    }

    @Test func batchesInFlightArriveInOrderAndAreAllMarked() async throws {
        let outbox = try await Outbox(count: 10)
        let engine = AMQPEngine(logger: Self.logger)
        let delivery = OutboxDelivery(
            settings: try outbox.settings(["{ name: file, kind: jsonl, path: \(outbox.folder)/events.jsonl }"]),
            outbox: outbox.store,
            engine: engine,
            logger: Self.logger,
            batchSize: 3,
            pipelineDepth: 2
        )
        try await delivery.start()
        let delivered = try await delivery.deliverAvailable()
        let again = try await delivery.deliverAvailable()
        await delivery.shutdown()
        await engine.shutdown()
        #expect(delivered == 10 && again == 0)
        #expect(try Self.sequences(outbox.folder + "/events.jsonl") == Array(1...10))
        #expect(try await outbox.store.undeliveredEvents(limit: 20).isEmpty)
    }
}
