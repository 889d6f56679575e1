//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Logging
import Metrics
import StateStore
import Synchronization

/// Routing and delivery: each flight handed to its sinks, outcomes back into the flight table, dead letters.
extension Bridge {
    /// Starts the flight of a message and hands it to each target not finished before.
    func deliver(_ message: BridgeMessage, inbound: Inbound, key: ClaimKey?, alreadyFinished: Set<String>) async {
        let routes: [Route]
        if let defect = message.defect {
            routes = [Route(target: "deadLetter", sink: nil, deadLetterReason: defect)]
        } else {
            do {
                routes = try self.router.routes(for: message)
            } catch {
                routes = [Route(target: "deadLetter", sink: nil, deadLetterReason: error.message)]
            }
        }
        self.statistics.withLock { statistics in
            statistics.forwarded += 1
            if routes.isEmpty { statistics.filtered += 1 }
        }
        if routes.isEmpty { self.metrics.filtered.increment() }
        let remaining = routes.filter { !alreadyFinished.contains($0.target) }
        let (id, settleNow) = self.table.withLock { table in
            table.begin(key: key, targets: Set(remaining.map(\.target)), delivery: inbound, upstream: message.upstream)
        }
        self.settle(settleNow)
        if remaining.isEmpty { self.commitContinuation.yield() }
        for route in remaining {
            let item = SinkMessage(message: message, rulePayload: route.payload, rule: route.rule, deadLetterReason: route.deadLetterReason)
            guard let name = route.sink, let sink = self.sinks[name] else {
                // A rule failed on this message and has no error action: the dead letter, with the rule's error.
                await self.sendToDeadLetter(item, kind: Self.deadLetterKind(route)) {
                    self.targetFinished(id, target: route.target, deadLettered: true)
                }
                continue
            }
            if let cap = self.caps[name] { await cap.acquire(bytes: item.payload.count) }
            do {
                try await sink.send(item) { outcome in
                    self.sinkFinished(id, route: route, item: item, outcome: outcome)
                }
            } catch {
                // Shutting down: the flight stays open and is abandoned (released upstream) by the drain.
                return
            }
        }
    }

    /// A sink's outcome for one target of a flight.
    func sinkFinished(_ id: FlightTable<Inbound>.ID, route: Route, item: SinkMessage, outcome: SinkOutcome) {
        switch outcome {
        case .confirmed:
            if let sink = route.sink { self.metrics.out(sink) }
            self.targetFinished(id, target: route.target, deadLettered: false)
        case .refused(let reason):
            var dead = item
            dead.deadLetterReason = reason
            dead.refusedBy = route.sink
            Task { await self.sendToDeadLetter(dead, kind: "refused") { self.targetFinished(id, target: route.target, deadLettered: true) } }
        case .abandoned:
            break
        }
    }

    func targetFinished(_ id: FlightTable<Inbound>.ID, target: String, deadLettered: Bool) {
        let settleNow = self.table.withLock { $0.targetFinished(id, target: target, deadLettered: deadLettered) }
        self.settle(settleNow)
        self.commitContinuation.yield()
    }

    /// The reason a dead-letter route is counted under (`iotbridge_dead_lettered_total{reason=…}`).
    static func deadLetterKind(_ route: Route) -> String {
        let reason = route.deadLetterReason ?? ""
        if route.rule != nil { return "rule-failed" }
        if reason.hasPrefix("undecodable") { return "undecodable" }
        if reason.contains("maxMessageSize") { return "too-large" }
        return "invalid"
    }

    func sendToDeadLetter(_ item: SinkMessage, kind: String, confirmed: @escaping @Sendable () -> Void) async {
        self.logger.info(
            "dead-lettered",
            metadata: ["messageId": "\(item.message.messageId ?? "-")", "upstream": "\(item.message.upstream)", "reason": "\(item.deadLetterReason ?? "")"]
        )
        self.statistics.withLock { $0.deadLettered[kind, default: 0] += 1 }
        self.metrics.deadLettered(kind)
        do {
            try await self.deadLetter.send(item) { outcome in
                if outcome == .confirmed { confirmed() }
            }
        } catch {
            // Shutting down: the message stays unsettled upstream.
        }
    }
}
