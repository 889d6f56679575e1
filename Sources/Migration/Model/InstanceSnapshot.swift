//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import IoTPlatform

/// Which instance a snapshot, a plan side or a backend talks about. Carries no credentials.
public struct InstanceIdentity: Codable, Sendable, Hashable, CustomStringConvertible {
    /// `aliyun`, `file` or `sim`.
    public var kind: String
    /// The region, e.g. `cn-shanghai`.
    public var regionId: String?
    /// The instance ID; `nil` or empty for a legacy public instance.
    public var iotInstanceId: String?

    /// Creates an identity.
    public init(kind: String, regionId: String? = nil, iotInstanceId: String? = nil) {
        self.kind = kind
        self.regionId = regionId
        self.iotInstanceId = iotInstanceId
    }

    /// Whether this is an Enterprise (or new-version public) instance: it has an instance ID.
    public var isEnterprise: Bool { !(self.iotInstanceId ?? "").isEmpty }

    /// `kind region/instance`, e.g. `aliyun cn-shanghai/iot-06z00…` or `aliyun cn-shanghai/legacy`.
    public var description: String {
        "\(self.kind) \(self.regionId ?? "-")/\(self.isEnterprise ? self.iotInstanceId! : "legacy")"
    }
}

/// Everything of one instance that message forwarding depends on: the content of an export file.
public struct InstanceSnapshot: Codable, Sendable, Hashable {
    /// The file format tag, so a future format can be told apart.
    public static let currentFormat = "iotbridge.instance/v1"

    /// The format tag. Default: ``currentFormat``.
    public var format: String
    /// The instance the snapshot was taken from.
    public var identity: InstanceIdentity
    /// The products the snapshot covers.
    public var products: [String]
    /// Consumer groups.
    public var consumerGroups: [ConsumerGroup]
    /// Subscribe relations, one per product and type.
    public var subscriptions: [SubscribeRelation]
    /// Old-version rules with their actions.
    public var rules: [OldRule]
    /// New-version data sources.
    public var dataSources: [DataSource]
    /// New-version destinations.
    public var destinations: [Destination]
    /// New-version parsers.
    public var parsers: [Parser]

    /// Creates a snapshot.
    public init(
        identity: InstanceIdentity,
        products: [String] = [],
        consumerGroups: [ConsumerGroup] = [],
        subscriptions: [SubscribeRelation] = [],
        rules: [OldRule] = [],
        dataSources: [DataSource] = [],
        destinations: [Destination] = [],
        parsers: [Parser] = []
    ) {
        self.format = Self.currentFormat
        self.identity = identity
        self.products = products
        self.consumerGroups = consumerGroups
        self.subscriptions = subscriptions
        self.rules = rules
        self.dataSources = dataSources
        self.destinations = destinations
        self.parsers = parsers
    }

    private enum CodingKeys: String, CodingKey {
        case format, identity, products, consumerGroups, subscriptions, rules, dataSources, destinations, parsers
    }

    /// Decodes a snapshot; every list may be left out of a hand-written file.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.format = try c.decodeIfPresent(String.self, forKey: .format) ?? Self.currentFormat
        self.identity =
            try c.decodeIfPresent(InstanceIdentity.self, forKey: .identity) ?? InstanceIdentity(kind: "file")
        self.products = try c.decodeIfPresent([String].self, forKey: .products) ?? []
        self.consumerGroups = try c.decodeIfPresent([ConsumerGroup].self, forKey: .consumerGroups) ?? []
        self.subscriptions = try c.decodeIfPresent([SubscribeRelation].self, forKey: .subscriptions) ?? []
        self.rules = try c.decodeIfPresent([OldRule].self, forKey: .rules) ?? []
        self.dataSources = try c.decodeIfPresent([DataSource].self, forKey: .dataSources) ?? []
        self.destinations = try c.decodeIfPresent([Destination].self, forKey: .destinations) ?? []
        self.parsers = try c.decodeIfPresent([Parser].self, forKey: .parsers) ?? []
    }

    /// The snapshot restricted to some products: subscriptions and rules of other products are dropped. Rules
    /// with a full topic are kept when the topic's first level is one of the products.
    public func restricted(to products: [String]) -> InstanceSnapshot {
        guard !products.isEmpty else { return self }
        let keep = Set(products)
        var copy = self
        copy.products = self.products.filter { keep.contains($0) }
        copy.subscriptions = self.subscriptions.filter { keep.contains($0.productKey) }
        copy.rules = self.rules.filter { rule in
            if let pk = rule.productKey { return keep.contains(pk) }
            let first = rule.topic?.split(separator: "/").first.map(String.init) ?? ""
            return keep.contains(first) || first == "sys" || first == "as"
        }
        return copy
    }

    /// SHA-256 over the snapshot's content in a canonical form (sorted lists, sorted JSON keys, no identity), so
    /// the same source state always yields the same fingerprint whatever order the API listed it in.
    public var fingerprint: String {
        var canonical = self
        canonical.identity = InstanceIdentity(kind: "-")
        canonical.products.sort()
        canonical.consumerGroups.sort { $0.id < $1.id }
        canonical.subscriptions.sort { ($0.productKey, $0.type.rawValue) < ($1.productKey, $1.type.rawValue) }
        canonical.rules.sort { $0.id < $1.id }
        canonical.dataSources.sort { $0.id < $1.id }
        canonical.destinations.sort { $0.id < $1.id }
        canonical.parsers.sort { $0.id < $1.id }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(canonical)) ?? Data()
        return "sha256:" + PlatformDigest.sha256Hex(data)
    }
}
