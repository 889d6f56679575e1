//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser

/// `iotbridge amqp`: diagnose AMQP 1.0 connectivity.
struct AMQPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp",
        abstract: "Diagnose AMQP 1.0 connectivity: receive and send messages.",
        discussion: """
            Use these to check that a broker, the IoT platform or the bridge's own listener is reachable and \
            that the credentials work, before wiring a bridge to it.

              iotbridge amqp send --url amqp://guest:guest@127.0.0.1:5672//queue/demo \\
                  --count 10 --body hello
              iotbridge amqp receive --url amqp://guest:guest@127.0.0.1:5672//queue/demo \\
                  --count 10

            The address is everything after the first slash following host:port, so RabbitMQ's /queue/NAME \
            needs two slashes in a URL.
            """,
        subcommands: [AMQPReceiveCommand.self, AMQPSendCommand.self, AMQPBrokerCommand.self, AMQPDemoCommand.self]
    )
}
