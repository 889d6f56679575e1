//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import IoTPlatform
import Migration

/// The world `iotbridge demo` rehearses a migration in, built in code (the demo needs no file): a legacy public
/// source and an Enterprise target, both on loopback with self-signed TLS and aksign logins, one OpenAPI endpoint
/// over both, and devices of two products on the source.
///
/// The source carries what a real legacy instance typically has, so the plan has something of each kind to do:
/// - consumer group `backend`, subscribed to both products' device data and status changes (AMQP);
/// - an MNS subscription of the second product (the plan translates it to AMQP: the Enterprise target has no MNS);
/// - two old-version rules (one forwards to `backend` over AMQP, one republishes).
///
/// The target starts empty: `iotbridge migrate`'s planner and runner create everything there through the OpenAPI.
public struct DemoScenario: Sendable {
    /// The source's name in the simulation (and the bridge's upstream name prefix).
    public static let sourceName = "source"
    /// The target's name in the simulation.
    public static let targetName = "target"
    /// The target's instance ID (the source, a legacy public instance, has none).
    public static let targetInstanceId = "iot-06z00demotarget"
    /// The region both instances are in.
    public static let regionId = "cn-shanghai"
    /// The AccessKeyId both instances and the OpenAPI accept.
    public static let accessKeyId = "LTAIdemo"
    /// The source's consumer group that the backend consumes.
    public static let sourceGroup = ConsumerGroup(id: "GID_demo_backend_0000000001", name: "backend")
    /// The product subscribed over AMQP only.
    public static let amqpProduct = "a1DemoMeter"
    /// The product that also has an MNS subscription (translated to AMQP by the plan).
    public static let mnsProduct = "a1DemoValve"

    /// How many devices (split evenly over the two products). Default: 200.
    public var devices: Int
    /// Messages per second over all devices. Default: 500.
    public var rate: Double
    /// How long a moved device's messages are also published on the instance it left.
    public var syncWindow: Duration
    /// The secret of ``accessKeyId`` (random per run: nothing outside the process knows it).
    public var accessKeySecret: String

    /// Creates a scenario; see each property for its default.
    public init(devices: Int = 200, rate: Double = 500, syncWindow: Duration = .seconds(10), accessKeySecret: String) {
        self.devices = devices
        self.rate = rate
        self.syncWindow = syncWindow
        self.accessKeySecret = accessKeySecret
    }

    /// The devices: the first half of the products' share is `a1DemoMeter/meter-0001…`, the rest `a1DemoValve/valve-…`.
    public var deviceList: [SimulatedDevice] {
        let meters = (self.devices + 1) / 2
        let valves = self.devices - meters
        let first = SimulatedDevice.names(count: meters, prefix: "meter-").map { SimulatedDevice(productKey: Self.amqpProduct, deviceName: $0) }
        let second =
            valves == 0 ? [] : SimulatedDevice.names(count: valves, prefix: "valve-").map { SimulatedDevice(productKey: Self.mnsProduct, deviceName: $0) }
        return first + second
    }

    /// What the source holds at start.
    public var sourceSnapshot: InstanceSnapshot {
        let flags: [SubscriptionFlag] = [.deviceData, .deviceStatusChange]
        return InstanceSnapshot(
            identity: InstanceIdentity(kind: "sim", regionId: Self.regionId, iotInstanceId: nil),
            products: [Self.amqpProduct, Self.mnsProduct],
            consumerGroups: [Self.sourceGroup],
            subscriptions: [
                SubscribeRelation(productKey: Self.amqpProduct, type: .amqp, flags: flags, consumerGroupIds: [Self.sourceGroup.id]),
                SubscribeRelation(productKey: Self.mnsProduct, type: .amqp, flags: flags, consumerGroupIds: [Self.sourceGroup.id]),
                SubscribeRelation(
                    productKey: Self.mnsProduct,
                    type: .mns,
                    flags: [.deviceData],
                    mnsConfiguration: "{\"themeName\":\"valve-alarms\",\"regionName\":\"\(Self.regionId)\"}"
                ),
            ],
            rules: [
                OldRule(
                    id: "700001",
                    name: "meter_high_power",
                    productKey: Self.amqpProduct,
                    shortTopic: "+/thing/event/property/post",
                    topicType: 0,
                    select: "deviceName() as deviceName, items.Power.value as power",
                    where: "items.Power.value > 90",
                    status: .running,
                    actions: [RuleAction(type: "AMQP", configuration: "{\"groupId\":\"\(Self.sourceGroup.id)\"}")]
                ),
                OldRule(
                    id: "700002",
                    name: "valve_echo",
                    productKey: Self.mnsProduct,
                    shortTopic: "+/user/update",
                    topicType: 1,
                    select: "*",
                    status: .running,
                    actions: [RuleAction(type: "REPUBLISH", configuration: "{\"topic\":\"/\(Self.mnsProduct)/echo/user/get\",\"topicType\":1}")]
                ),
            ]
        )
    }

    /// The simulator's configuration: both instances on loopback (port 0, self-signed TLS), no traffic of its own
    /// (the demo runs ``DeviceTraffic`` itself, so that it can stop publishing before it drains the bridge), the
    /// migration source → target, and the OpenAPI endpoint without throttling.
    public func configuration() -> SimulatorConfiguration {
        let key = PlatformLoginVerifier.AccessKey(accessKeyId: Self.accessKeyId, accessKeySecret: self.accessKeySecret)
        let amqp = SimulatedAMQPSettings(accessKeys: [key])
        return SimulatorConfiguration(
            file: "(iotbridge demo)",
            instances: [
                .init(
                    name: Self.sourceName,
                    identity: InstanceIdentity(kind: "aliyun", regionId: Self.regionId, iotInstanceId: nil),
                    amqp: amqp,
                    snapshot: self.sourceSnapshot
                ),
                .init(
                    name: Self.targetName,
                    identity: InstanceIdentity(kind: "aliyun", regionId: Self.regionId, iotInstanceId: Self.targetInstanceId),
                    amqp: amqp,
                    snapshot: InstanceSnapshot(identity: InstanceIdentity(kind: "sim", regionId: Self.regionId, iotInstanceId: Self.targetInstanceId))
                ),
            ],
            devices: .init(devices: self.deviceList, home: Self.sourceName, traffic: DeviceTraffic(rate: 0)),
            migration: .init(source: Self.sourceName, target: Self.targetName, syncWindow: self.syncWindow),
            openAPI: SimulatedOpenAPIConfiguration(accessKeys: [Self.accessKeyId: self.accessKeySecret])
        )
    }

    /// The traffic the demo runs: custom-topic JSON and property posts, two to one.
    public var traffic: DeviceTraffic {
        DeviceTraffic(rate: self.rate, mix: [.custom: 2, .property: 1])
    }
}
