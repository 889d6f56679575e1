//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Logging
import Migration

/// One simulated instance: its identity, its AMQP endpoint, and the directory whose subscribe relations route
/// device messages into its consumer groups.
public final class SimulatedInstance: Sendable {
    /// The name the configuration gives it (`source`, `target`, …).
    public let name: String
    /// The instance ID; nil for a legacy public instance (it has none).
    public let iotInstanceId: String?
    /// Its AMQP endpoint.
    public let endpoint: SimulatedAMQPEndpoint
    /// Its consumer groups and subscribe relations.
    public let directory: any SubscriptionDirectory
    private let ledger: PublicationLedger

    /// Creates an instance; `start` listens.
    public init(
        name: String,
        iotInstanceId: String?,
        amqp: SimulatedAMQPSettings,
        directory: any SubscriptionDirectory,
        ledger: PublicationLedger,
        engine: AMQPEngine,
        logger: Logger
    ) {
        self.name = name
        self.iotInstanceId = (iotInstanceId ?? "").isEmpty ? nil : iotInstanceId
        self.directory = directory
        self.ledger = ledger
        self.endpoint = SimulatedAMQPEndpoint(instanceName: name, settings: amqp, engine: engine, logger: logger)
    }

    /// The ID migration messages name (`targetInstance`); a legacy instance has none, so its name stands in.
    public var instanceLabel: String { self.iotInstanceId ?? self.name }

    /// Starts the endpoint with the directory's consumer groups.
    public func start(certificateDirectory: String) async throws(SimulatorError) {
        self.endpoint.setConsumerGroups(await self.directory.consumerGroupIds())
        try await self.endpoint.start(certificateDirectory: certificateDirectory)
    }

    /// Reads the directory's consumer groups again (after the OpenAPI created or deleted one).
    public func refreshConsumerGroups() async {
        self.endpoint.setConsumerGroups(await self.directory.consumerGroupIds())
    }

    /// Publishes a device's message into the consumer groups subscribed to its product for `flag`, and counts it
    /// as published on this instance. Returns the groups it went to (none when nobody subscribes: the platform
    /// forwards nothing then, and the message is not counted).
    @discardableResult
    public func publish(_ message: SimulatedMessage, productKey: String, flag: SubscriptionFlag) async -> [String] {
        let groups = await self.directory.consumerGroups(subscribedTo: productKey, flag: flag)
        guard !groups.isEmpty else { return [] }
        self.endpoint.publish(message, to: groups)
        self.ledger.published(message.messageId, on: self.name, groups: groups.count)
        return groups
    }

    /// Stops the endpoint.
    public func shutdown() async {
        await self.endpoint.shutdown()
    }
}
