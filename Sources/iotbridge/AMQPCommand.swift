//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser

/// `iotbridge amqp`: Diagnose AMQP 1.0 connectivity: receive and send messages.
struct AMQPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp",
        abstract: "Diagnose AMQP 1.0 connectivity: receive and send messages."
    )
}
