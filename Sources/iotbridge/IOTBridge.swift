//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation

/// The `iotbridge` command: each group of subcommands lives in its own file.
@main
struct IOTBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iotbridge",
        abstract: "Move IoT Platform message forwarding between instances without losing a message.",
        discussion: """
            iotbridge consumes the AMQP 1.0 subscription streams of two Alibaba Cloud IoT Platform instances, \
            serves one merged, de-duplicated stream, and migrates consumer groups, subscriptions and \
            forwarding rules from a legacy public instance to an Enterprise Edition instance.
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, DeadLetterCommand.self, AMQPCommand.self, RulesCommand.self, InstanceCommand.self, MigrateCommand.self, RegistryCommand.self, EventsCommand.self]
    )

    /// Runs the command like ArgumentParser does, except that a usage error (unknown flag, missing or invalid
    /// value) exits 2 as grep and the rest of iotbridge do for errors, not with ArgumentParser's 64.
    static func main() async {
        do {
            var command = try self.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if self.exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((self.fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            self.exit(withError: error)
        }
    }
}
