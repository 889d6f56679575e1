//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import IoTPlatform
import Testing

/// Host formats of reference §1.2.
@Suite struct PlatformEndpointTests {
    @Test func legacyPublicHost() {
        #expect(
            PlatformEndpoint.legacyPublicAMQPHost(uid: "1234567890", regionId: "cn-shanghai")
                == "1234567890.iot-amqp.cn-shanghai.aliyuncs.com"
        )
    }

    @Test func enterpriseHost() {
        #expect(
            PlatformEndpoint.enterpriseAMQPHost(iotInstanceId: "iot-06z00frq8umvkx2")
                == "iot-06z00frq8umvkx2.amqp.iothub.aliyuncs.com"
        )
        #expect(PlatformEndpoint.amqpPort == 5671)
    }

    @Test func hostChoosesByInstanceId() {
        #expect(
            PlatformEndpoint.amqpHost(iotInstanceId: "", uid: "42", regionId: "ap-southeast-1")
                == "42.iot-amqp.ap-southeast-1.aliyuncs.com"
        )
        #expect(
            PlatformEndpoint.amqpHost(iotInstanceId: "iot-cn-x", uid: "42", regionId: "cn-shanghai")
                == "iot-cn-x.amqp.iothub.aliyuncs.com"
        )
        #expect(PlatformEndpoint.openAPIEndpoint(regionId: "cn-shanghai") == "https://iot.cn-shanghai.aliyuncs.com")
    }
}
