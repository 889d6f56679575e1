//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import Simulator
import Testing

/// The messages devices send are shaped as reference §2 shows them.
@Suite struct MessagePayloadsTests {
    let device = SimulatedDevice(productKey: "a1B2c3D4e5F", deviceName: "device-0001")

    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func topicsFollowTheForwardingTopics() {
        #expect(MessagePayloads.topic(.custom, self.device) == "/a1B2c3D4e5F/device-0001/user/update")
        #expect(MessagePayloads.topic(.property, self.device) == "/a1B2c3D4e5F/device-0001/thing/event/property/post")
        #expect(MessagePayloads.topic(.status, self.device) == "/as/mqtt/status/a1B2c3D4e5F/device-0001")
    }

    @Test func aStatusNoticeHasTheDocumentedFieldsAndTimes() throws {
        // 2018-08-31T07:32:28.205Z, the reference's example instant.
        let status = try self.object(MessagePayloads.status(self.device, online: true, time: 1_535_700_748_205))
        #expect(status["status"] as? String == "online")
        #expect(status["productKey"] as? String == "a1B2c3D4e5F")
        #expect(status["deviceName"] as? String == "device-0001")
        #expect(status["utcTime"] as? String == "2018-08-31T07:32:28.205Z")
        #expect(status["time"] as? String == "2018-08-31 15:32:28.205")
        #expect(status["utcLastTime"] as? String == "2018-08-31T07:32:27.205Z")
        #expect(status["lastTime"] as? String == "2018-08-31 15:32:27.205")
        #expect(status["clientIp"] is String)
    }

    @Test func aPropertyPostHasItemsWithValueAndTime() throws {
        let post = try self.object(MessagePayloads.propertyPost(self.device, sequence: 7, time: 1_510_799_670_074))
        #expect((post["iotId"] as? String)?.count == 28)
        #expect(post["gmtCreate"] as? Int == 1_510_799_670_074)
        let items = try #require(post["items"] as? [String: [String: Any]])
        #expect(items["Power"]?["value"] as? String == "off")
        #expect(items["Power"]?["time"] as? Int == 1_510_799_670_074)
        #expect(post["checkFailedData"] is [String: Any])
    }

    @Test func aSimulatedMessageCarriesThePlatformProperties() throws {
        let message = SimulatedMessage(topic: "/t", messageId: "42", generateTime: 1_700_000_000_000, payload: [1, 2])
        let amqp = message.amqpMessage(deliveryCount: 2)
        #expect(amqp.applicationProperties["topic"] == .string("/t"))
        #expect(amqp.applicationProperties["messageId"] == .string("42"))
        #expect(amqp.applicationProperties["generateTime"] == .long(1_700_000_000_000))
        #expect(amqp.body == .data([1, 2]))
        #expect(amqp.deliveryCount == 2)
    }

    @Test func deviceNamesArePadded() {
        #expect(SimulatedDevice.names(count: 3) == ["device-0001", "device-0002", "device-0003"])
        #expect(SimulatedDevice.names(count: 12_345).last == "device-12345")
    }
}
