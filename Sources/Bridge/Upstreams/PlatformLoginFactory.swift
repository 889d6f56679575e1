//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import IoTPlatform

/// Builds the platform login of one upstream connection. Each connection needs its own clientId (the platform
/// identifies connections by it), so the configured prefix gets `-N`.
enum PlatformLoginFactory {
    static func login(_ platform: PlatformAuth, upstream: String, index: Int, sts: Bool) throws -> AMQPPlatformLogin {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let prefix = platform.clientIdPrefix ?? "iotbridge-\(host)-\(upstream)"
        let clientId = String(prefix.prefix(AMQPPlatformLogin.maximumClientIdLength - 4)) + "-\(index)"
        return try AMQPPlatformLogin(
            clientId: clientId,
            accessKeyId: platform.accessKeyId,
            accessKeySecret: platform.accessKeySecret.value,
            consumerGroupId: platform.consumerGroupId,
            iotInstanceId: platform.iotInstanceId.isEmpty ? nil : platform.iotInstanceId,
            signMethod: SignMethod(caseInsensitive: platform.signMethod) ?? .hmacsha1,
            authMode: sts ? .ststoken : .aksign,
            securityToken: platform.securityToken?.value
        )
    }
}
