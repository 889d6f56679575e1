//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

extension SimulatedControlPlane {
    /// The products of the instance.
    public func listProducts() -> [String] {
        self.state.products
    }

    /// Adds products (devices of the simulator publish under them); known ones are left alone.
    public func addProducts(_ productKeys: [String]) throws {
        try self.mutate { state in
            for key in productKeys where !state.products.contains(key) { state.products.append(key) }
        }
    }

    /// The subscribe relation of a product and type (`QuerySubscribeRelation`).
    ///
    /// - Throws: `iot.subscribe.SubscribeRelationNotExist`.
    public func subscribeRelation(productKey: String, type: SubscriptionType) throws -> SubscribeRelation {
        guard let relation = self.state.subscriptions.first(where: { $0.productKey == productKey && $0.type == type })
        else {
            throw SimulatedAPIError(
                "iot.subscribe.SubscribeRelationNotExist",
                "the \(type.rawValue) subscribe relation of product \(productKey) does not exist."
            )
        }
        return relation
    }

    /// Creates a subscribe relation (`CreateSubscribeRelation`).
    ///
    /// Like the OpenAPI stand-in of the migration tests, an unknown product is added to the instance rather than
    /// refused: the platform's own instance migration moves products before anyone subscribes them.
    ///
    /// - Throws: `iot.subscribe.SubscribeRelationExisted` and the errors of ``checkRelation(_:)``.
    public func createSubscribeRelation(_ relation: SubscribeRelation) throws {
        try self.checkRelation(relation)
        guard (try? self.subscribeRelation(productKey: relation.productKey, type: relation.type)) == nil else {
            throw SimulatedAPIError(
                "iot.subscribe.SubscribeRelationExisted",
                "the \(relation.type.rawValue) subscribe relation of product \(relation.productKey) already exists."
            )
        }
        try self.mutate { state in
            state.subscriptions.append(relation)
            if !state.products.contains(relation.productKey) { state.products.append(relation.productKey) }
        }
    }

    /// Replaces the flags and consumer groups of a relation (`UpdateSubscribeRelation`).
    ///
    /// - Throws: `iot.subscribe.SubscribeRelationNotExist` and the errors of ``checkRelation(_:)``.
    public func updateSubscribeRelation(_ relation: SubscribeRelation) throws {
        try self.checkRelation(relation)
        _ = try self.subscribeRelation(productKey: relation.productKey, type: relation.type)
        try self.mutate { state in
            let index = state.subscriptions.firstIndex {
                $0.productKey == relation.productKey && $0.type == relation.type
            }!
            state.subscriptions[index] = relation
        }
    }

    /// Deletes a relation (`DeleteSubscribeRelation`).
    ///
    /// - Throws: `iot.subscribe.SubscribeRelationNotExist`.
    public func deleteSubscribeRelation(productKey: String, type: SubscriptionType) throws {
        _ = try self.subscribeRelation(productKey: productKey, type: type)
        try self.mutate { $0.subscriptions.removeAll { $0.productKey == productKey && $0.type == type } }
    }

    /// The checks `CreateSubscribeRelation` and `UpdateSubscribeRelation` share (reference §2.2, §6.2).
    ///
    /// - Throws: `iot.subscribe.AllFlagsFalse` (no flag set and no `SubscribeFlags`); `InvalidParameter` (AMQP
    ///   without consumer groups, MNS without `MnsConfiguration`, an AMQP-only flag on MNS);
    ///   `iot.subscribe.TypeNotSupported` (MNS or HTTP/2 on an Enterprise instance, or HTTP/2 anywhere: the API
    ///   accepts `MNS | AMQP` only); `iot.consumergroup.NotExist`.
    func checkRelation(_ relation: SubscribeRelation) throws {
        guard !relation.flags.isEmpty || !(relation.subscribeFlags ?? "").isEmpty else {
            throw SimulatedAPIError("iot.subscribe.AllFlagsFalse", "at least one flag must be true.")
        }
        switch relation.type {
        case .amqp:
            guard !relation.consumerGroupIds.isEmpty else {
                throw SimulatedAPIError("InvalidParameter", "ConsumerGroupIds is mandatory for Type AMQP.")
            }
            for id in relation.consumerGroupIds { _ = try self.consumerGroup(id: id) }
        case .mns:
            guard !self.identity.isEnterprise else {
                throw SimulatedAPIError(
                    "iot.subscribe.TypeNotSupported",
                    "MNS server-side subscription is not supported on an Enterprise Edition instance; use AMQP."
                )
            }
            guard !(relation.mnsConfiguration ?? "").isEmpty else {
                throw SimulatedAPIError("InvalidParameter", "MnsConfiguration is mandatory for Type MNS.")
            }
            if let flag = relation.flags.first(where: \.isAMQPOnly) {
                throw SimulatedAPIError("InvalidParameter", "\(flag.rawValue) is only available for Type AMQP.")
            }
        case .http2:
            throw SimulatedAPIError("iot.subscribe.TypeNotSupported", "Type must be MNS or AMQP.")
        }
    }
}
