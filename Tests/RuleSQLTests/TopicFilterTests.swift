//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import Testing

@Suite("FROM topic filters")
struct TopicFilterTests {
    @Test(
        "matching",
        arguments: [
            ("/pk/+/user/update", "/pk/dev1/user/update", true),
            ("/pk/+/user/update", "/pk/dev1/user/other", false),
            ("/pk/+/user/update", "/pk/dev1/user/update/more", false),
            ("/pk/dev1/user/#", "/pk/dev1/user/a/b/c", true),
            ("/pk/dev1/user/#", "/pk/dev1/user", true),
            ("/pk/dev1/user/#", "/pk/dev2/user/a", false),
            ("/sys/pk/+/thing/event/property/post", "/pk/dev1/thing/event/property/post", true),
            ("/sys/pk/+/thing/event/property/post", "/sys/pk/dev1/thing/event/property/post", true),
            ("/pk/+/thing/event/property/post", "/sys/pk/dev1/thing/event/property/post", true),
            ("/sys/+/+/thing/event/property/post", "/a1/d/thing/event/property/post", true),
            ("/as/mqtt/status/pk/+", "/as/mqtt/status/pk/dev1", true),
            ("/pk/dev1/user/update", "pk/dev1/user/update", false),
            ("/pk/dev1/user/update", "/pk/dev1/user/update", true),
        ]
    )
    func matching(filter: String, topic: String, expected: Bool) throws {
        #expect(try TopicFilter(filter).matches(topic) == expected)
    }

    @Test(
        "malformed filters are rejected",
        arguments: ["pk/+/user", "/pk/#/user", "/pk/a+/user", "/pk//user"]
    )
    func malformed(filter: String) {
        #expect(throws: PathError.self) { try TopicFilter(filter) }
    }

    @Test(
        "system topics are recognised for BINARY rules",
        arguments: [
            ("/sys/pk/dn/thing/event/property/post", true),
            ("/pk/dn/thing/event/property/post", true),
            ("/as/mqtt/status/pk/dn", true),
            ("/pk/dn/user/raw", false),
        ]
    )
    func systemTopics(filter: String, expected: Bool) throws {
        #expect(try TopicFilter(filter).isSystemTopic == expected)
    }

    @Test(
        "message context derives product key and device name from the topic",
        arguments: [
            ("/pk1/dev1/user/update", "pk1", "dev1"),
            ("/sys/pk1/dev1/thing/event/property/post", "pk1", "dev1"),
            ("/as/mqtt/status/pk1/dev1", "pk1", "dev1"),
        ]
    )
    func identity(topic: String, productKey: String, deviceName: String) {
        let context = MessageContext(topic: topic, payload: "{}")
        #expect(context.productKey == productKey)
        #expect(context.deviceName == deviceName)
    }
}
