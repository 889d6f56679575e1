//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Host names and ports of the platform's endpoints (reference §1.2, §6).
public enum PlatformEndpoint {
    /// AMQPS port of the server-side subscription endpoint.
    public static let amqpPort = 5671

    /// AMQP host of a legacy ("previous version") public instance: `${uid}.iot-amqp.${regionId}.aliyuncs.com`.
    ///
    /// - Parameters:
    ///   - uid: the Alibaba Cloud account ID.
    ///   - regionId: e.g. `cn-shanghai`.
    public static func legacyPublicAMQPHost(uid: String, regionId: String) -> String {
        "\(uid).iot-amqp.\(regionId).aliyuncs.com"
    }

    /// AMQP host of an Enterprise Edition (or new-version public) instance:
    /// `${iotInstanceId}.amqp.iothub.aliyuncs.com`.
    public static func enterpriseAMQPHost(iotInstanceId: String) -> String {
        "\(iotInstanceId).amqp.iothub.aliyuncs.com"
    }

    /// AMQP host for an instance: Enterprise when it has an ID, legacy public otherwise.
    public static func amqpHost(iotInstanceId: String?, uid: String, regionId: String) -> String {
        if let id = iotInstanceId, !id.isEmpty {
            return Self.enterpriseAMQPHost(iotInstanceId: id)
        }
        return Self.legacyPublicAMQPHost(uid: uid, regionId: regionId)
    }

    /// The OpenAPI (IoT 2018-01-20) endpoint of a region: `https://iot.${regionId}.aliyuncs.com`.
    public static func openAPIEndpoint(regionId: String) -> String {
        "https://iot.\(regionId).aliyuncs.com"
    }
}
