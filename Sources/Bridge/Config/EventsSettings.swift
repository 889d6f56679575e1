//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

/// `events:` of bridge.yaml: migration-status events from the merged stream, and where the outbox delivers them.
public struct EventsSettings: Sendable {
    /// Whether the bridge watches the stream for migration facts (migration messages, inference, sightings).
    /// Default: true.
    public var recognize: Bool = true
    /// The topics that carry the platform's migration messages; nil (default): any JSON payload with `status` and
    /// `targetInstance` strings is one.
    public var migrationTopic: TopicFilter?
    /// Where the outbox delivers events (kinds amqp, webhook, jsonl); empty (default): events stay in the outbox
    /// for `iotbridge events replay`.
    public var sinks: [SinkConfiguration] = []

    /// The defaults.
    public init() {}
}
