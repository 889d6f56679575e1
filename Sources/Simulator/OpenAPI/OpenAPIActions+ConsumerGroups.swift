//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration

extension OpenAPIActions {
    /// Consumer groups (reference §6.1) and subscribe relations (§6.2).
    static func consumerGroups(
        _ action: String,
        _ p: OpenAPIParameters,
        on plane: SimulatedControlPlane
    ) async throws -> [String: Any] {
        switch action {
        case "QueryConsumerGroupList":
            var groups = await plane.listConsumerGroups()
            if try p.bool("Fuzzy") {
                let name = try p.required("GroupName")
                groups = groups.filter { $0.name.contains(name) }
            }
            let page = try p.page(groups, pageKey: "CurrentPage", defaultSize: 10, sizes: 1...1000)
            var items: [[String: Any]] = []
            for group in page.items {
                items.append(try await Self.groupDTO(group, plane: plane))
            }
            return [
                "Data": ["ConsumerGroupDTO": items], "CurrentPage": page.page, "PageSize": page.size,
                "Total": groups.count, "PageCount": (groups.count + page.size - 1) / page.size,
            ]
        case "QueryConsumerGroupByGroupId":
            let group = try await plane.consumerGroup(id: try p.required("GroupId"))
            return ["Data": try await Self.groupDTO(group, plane: plane)]
        case "CreateConsumerGroup":
            let group = try await plane.createConsumerGroup(name: try p.required("GroupName"))
            return ["GroupId": group.id]
        case "DeleteConsumerGroup":
            try await plane.deleteConsumerGroup(id: try p.required("GroupId"))
            return [:]
        default:
            throw SimulatedAPIError("InvalidAction.NotFound", "Specified api \(action) is not found.", httpStatus: 404)
        }
    }

    private static func groupDTO(_ group: ConsumerGroup, plane: SimulatedControlPlane) async throws -> [String: Any] {
        let created = await plane.creationTime(ofConsumerGroup: group.id) ?? Date()
        return ["GroupId": group.id, "GroupName": group.name, "CreateTime": Self.isoMilliseconds(created)]
    }

    /// Subscribe relations (reference §6.2).
    static func subscriptions(
        _ action: String,
        _ p: OpenAPIParameters,
        on plane: SimulatedControlPlane
    ) async throws -> [String: Any] {
        let productKey = try p.required("ProductKey")
        let typeName = try p.required("Type")
        guard let type = SubscriptionType(rawValue: typeName) else {
            throw SimulatedAPIError("InvalidParameter", "Type must be AMQP or MNS, not \(typeName).")
        }
        switch action {
        case "CreateSubscribeRelation", "UpdateSubscribeRelation":
            var flags: [SubscriptionFlag] = []
            for flag in SubscriptionFlag.allCases {
                if try p.bool(flag.rawValue) { flags.append(flag) }
            }
            let relation = SubscribeRelation(
                productKey: productKey,
                type: type,
                flags: flags,
                subscribeFlags: p.optional("SubscribeFlags"),
                consumerGroupIds: p.list("ConsumerGroupIds"),
                mnsConfiguration: p.optional("MnsConfiguration")
            )
            if action == "CreateSubscribeRelation" {
                try await plane.createSubscribeRelation(relation)
            } else {
                try await plane.updateSubscribeRelation(relation)
            }
            return [:]
        case "QuerySubscribeRelation":
            let relation = try await plane.subscribeRelation(productKey: productKey, type: type)
            var body: [String: Any] = [
                "ProductKey": relation.productKey, "Type": relation.type.rawValue,
                "ConsumerGroupIds": relation.consumerGroupIds,
            ]
            for flag in SubscriptionFlag.allCases { body[flag.rawValue] = relation.flags.contains(flag) }
            if let mns = relation.mnsConfiguration { body["MnsConfiguration"] = mns }
            if let extra = relation.subscribeFlags { body["SubscribeFlags"] = extra }
            return body
        case "DeleteSubscribeRelation":
            try await plane.deleteSubscribeRelation(productKey: productKey, type: type)
            return [:]
        default:
            throw SimulatedAPIError("InvalidAction.NotFound", "Specified api \(action) is not found.", httpStatus: 404)
        }
    }
}
