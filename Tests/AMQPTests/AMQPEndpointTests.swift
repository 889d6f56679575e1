//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// URL parsing: defaults, credentials, IPv6, and errors that never echo a password.
@Suite struct AMQPEndpointTests {
    @Test func parsesPlainURLWithAddress() throws {
        let endpoint = try AMQPEndpoint(url: "amqp://127.0.0.1:5673/queue/demo")
        #expect(!endpoint.useTLS)
        #expect(endpoint.host == "127.0.0.1")
        #expect(endpoint.port == 5673)
        #expect(endpoint.address == "queue/demo")
    }

    @Test func defaultsPortsByScheme() throws {
        #expect(try AMQPEndpoint(url: "amqp://broker").port == 5672)
        #expect(try AMQPEndpoint(url: "amqps://iot-06z00.amqp.iothub.aliyuncs.com").port == 5671)
        #expect(try AMQPEndpoint(url: "amqps://h").useTLS)
    }

    @Test func keepsLeadingSlashAddressesForRabbitMQ() throws {
        // RabbitMQ's AMQP 1.0 plugin addresses queues as /queue/NAME: the URL needs a double slash.
        #expect(try AMQPEndpoint(url: "amqp://h:1//queue/x").address == "/queue/x")
    }

    @Test func decodesCredentials() throws {
        let endpoint = try AMQPEndpoint(url: "amqp://user%7C1:p%40ss@h:5672/a")
        #expect(endpoint.user == "user|1")
        #expect(endpoint.password == "p@ss")
        #expect(!endpoint.description.contains("p@ss"))
        #expect(endpoint.description == "amqp://h:5672/a")
    }

    @Test func parsesIPv6() throws {
        let endpoint = try AMQPEndpoint(url: "amqp://[::1]:5999")
        #expect(endpoint.host == "::1")
        #expect(endpoint.port == 5999)
        #expect(endpoint.hostAndPort == "[::1]:5999")
    }

    @Test(arguments: ["http://h", "amqp://", "amqp://h:0", "amqp://h:99999", "amqp://h:abc", "host:5672"])
    func rejectsBadURLs(_ url: String) {
        #expect(throws: AMQPError.self) { try AMQPEndpoint(url: url) }
    }

    @Test func errorsNeverEchoThePassword() {
        do {
            _ = try AMQPEndpoint(url: "amqp://u:secret-pw@h:notaport/x")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(!error.message.contains("secret-pw"))
            #expect(error.message.contains("notaport"))
        }
    }
}
