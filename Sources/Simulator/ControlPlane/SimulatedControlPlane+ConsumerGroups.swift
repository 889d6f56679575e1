//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration

extension SimulatedControlPlane {
    /// The consumer group every instance has and nobody can delete (reference §6.1).
    public static let defaultGroupName = "DEFAULT_GROUP"

    /// Every consumer group, in creation order.
    public func listConsumerGroups() -> [ConsumerGroup] {
        self.state.consumerGroups
    }

    /// When a consumer group was created, for `CreateTime`.
    public func creationTime(ofConsumerGroup id: String) -> Date? {
        self.groupCreated[id]
    }

    /// One consumer group.
    ///
    /// - Throws: `iot.consumergroup.NotExist`.
    public func consumerGroup(id: String) throws -> ConsumerGroup {
        guard let group = self.state.consumerGroups.first(where: { $0.id == id }) else {
            throw SimulatedAPIError("iot.consumergroup.NotExist", "consumer group \(id) does not exist.")
        }
        return group
    }

    /// Creates a consumer group (`CreateConsumerGroup`) and returns it with its new ID.
    ///
    /// - Throws: `iot.consumergroup.InvalidGroupName` (not 4–30 letters, digits, `_`),
    ///   `iot.consumergroup.GroupNameExisted`.
    public func createConsumerGroup(name: String, description: String? = nil) throws -> ConsumerGroup {
        guard ConsumerGroup.isValidName(name) else {
            throw SimulatedAPIError(
                "iot.consumergroup.InvalidGroupName",
                "GroupName \(name) is invalid: 4 to 30 letters, digits or underscores."
            )
        }
        guard !self.state.consumerGroups.contains(where: { $0.name == name }) else {
            throw SimulatedAPIError("iot.consumergroup.GroupNameExisted", "consumer group \(name) already exists.")
        }
        let group = ConsumerGroup(id: self.ids.consumerGroupId(), name: name, description: description)
        try self.mutate { $0.consumerGroups.append(group) }
        self.groupCreated[group.id] = Date()
        return group
    }

    /// Deletes a consumer group (`DeleteConsumerGroup`).
    ///
    /// - Throws: `iot.consumergroup.NotExist`; `iot.consumergroup.DefaultGroupCannotDelete` for `DEFAULT_GROUP`;
    ///   `iot.consumergroup.GroupHasSubscribeRelation` while a subscribe relation still names it ("unsubscribe
    ///   products first", reference §6.1).
    public func deleteConsumerGroup(id: String) throws {
        let group = try self.consumerGroup(id: id)
        guard group.name != Self.defaultGroupName else {
            throw SimulatedAPIError("iot.consumergroup.DefaultGroupCannotDelete", "DEFAULT_GROUP cannot be deleted.")
        }
        if let relation = self.state.subscriptions.first(where: { $0.consumerGroupIds.contains(id) }) {
            throw SimulatedAPIError(
                "iot.consumergroup.GroupHasSubscribeRelation",
                "consumer group \(id) is subscribed to product \(relation.productKey): unsubscribe products first."
            )
        }
        try self.mutate { $0.consumerGroups.removeAll { $0.id == id } }
        self.groupCreated[id] = nil
    }
}
