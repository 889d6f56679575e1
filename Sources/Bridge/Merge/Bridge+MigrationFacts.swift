//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Logging
import RuleSQL
import StateStore

/// Migration facts: every delivery, before de-duplication, goes past the ``MigrationStreamObserver`` (platform
/// migration messages, observed-on-target inference, sightings for `registry status`).
extension Bridge {
    static func makeMigrationObserver(
        _ settings: EventsSettings,
        store: any InstanceRegistryStore,
        logger: Logger
    ) -> MigrationStreamObserver? {
        guard settings.recognize else { return nil }
        return MigrationStreamObserver(
            store: store,
            recognizer: MigrationMessageRecognizer(topicFilter: settings.migrationTopic),
            logger: logger
        )
    }

    /// The instance an upstream consumes, as the registry names it: the platform login's instance ID (empty for
    /// the legacy public instance); for a plain or anonymous upstream (a broker standing in), its label.
    static func registryInstance(_ upstream: UpstreamConfiguration) -> String {
        switch upstream.auth {
        case .aksign(let platform), .ststoken(let platform): platform.iotInstanceId
        case .plain, .anonymous: upstream.instanceLabel
        }
    }

    /// Commits the batch's migration facts; false only when the store failed while draining (nothing of the
    /// batch may be settled then). Store errors are retried while the bridge runs.
    func observeMigrationFacts(_ messages: [BridgeMessage], upstream: UpstreamConfiguration) async -> Bool {
        guard let observer = self.migrationObserver else { return true }
        let instance = Self.registryInstance(upstream)
        let now = Self.nowMilliseconds()
        let observed = messages.compactMap { message -> ObservedMessage? in
            guard message.defect == nil else { return nil }
            return ObservedMessage(topic: message.topic, payload: message.payload, iotInstanceId: instance, time: now)
        }
        guard !observed.isEmpty else { return true }
        do {
            try await self.withStoreRetry("migration events") { try await observer.observe(observed) }
            return true
        } catch {
            return false
        }
    }
}

extension Bridge {
    /// `/status`'s `migration` member: what the observer counted; nil when recognition is off.
    func migrationStatusJSON() -> JSONObject? {
        guard let counters = self.migrationObserver?.counters else { return nil }
        return JSONObject([
            ("migrationMessages", JSONValue.int(counters.migrationMessages)),
            ("malformedMessages", .int(counters.malformedMessages)),
            ("badDeviceItems", .int(counters.badDeviceItems)),
            ("eventsWritten", .int(counters.eventsWritten)),
            ("observedOnTarget", .int(counters.observedOnTarget)),
        ])
    }

    /// The registry of the bridge's state store, for `GET /instances/{pk}/{dn}`.
    public var registry: (any InstanceRegistryStore)? { self.eventStore }

    /// The outbox of the bridge's state store, for ``OutboxDelivery`` (on PostgreSQL, the replica holding the
    /// delivery lease delivers).
    public var outbox: (any EventOutbox)? { self.eventStore }

    /// The `migration-events` addresses of the listener sinks that serve events (`migrationEvents: true`), for
    /// ``OutboxDelivery`` to deliver to beside `events.sinks`.
    public var eventLinks: [any Sink] {
        self.sinkOrder.compactMap { (self.sinks[$0] as? ListenerSink)?.eventsLink }
    }
}
