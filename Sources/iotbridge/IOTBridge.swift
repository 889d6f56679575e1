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
        abstract: "Bridge and migrate Alibaba Cloud IoT Platform message forwarding between two instances.",
        discussion: """
            Where to start, by what you do (the commands below are in this order):

              newcomer            demo: a whole migration rehearsed on this machine
                                  (simulated instances, migrate, bridge): 0 lost
              AMQP operator       amqp: is a broker or the platform reachable, does
                                  the login work; a small broker for local tests
              backend             run: both instances' AMQP streams in, one
                                  de-duplicated stream out (broker queue, webhook,
                                  JSON lines, or an AMQP endpoint your platform
                                  client code connects to unchanged);
                                  deadletter: resend what a sink refused;
                                  status: a running bridge's figures (also live
                                  in a browser at http://HOST:PORT/dashboard)
              rule author         rules: lint, evaluate and test rule SQL and
                                  parser scripts locally
              migration operator  instance: export an instance to a file;
                                  migrate: assess what will break, then plan,
                                  run, verify and clean a migration
              event subscriber    registry: which instance each device is on;
                                  events: replay, deliver or watch the
                                  migration-status events
              rehearsal           sim: simulated instances (AMQP endpoints,
                                  OpenAPI, devices, grayscale migration)

            Every command's --help ends with examples that paste as one command
            (README.md has them as a sequence to type). Errors start with
            "error:" and exit 2; exit 1 means "no match" or "not ready", where a
            command's --help says so (rules eval/test, migrate assess/verify,
            amqp receive/send, registry lookup/status, events watch, deadletter
            replay, demo).
            """,
        version: "0.1.0",
        subcommands: [
            DemoCommand.self, AMQPCommand.self, RunCommand.self, DeadLetterCommand.self, StatusCommand.self,
            RulesCommand.self, InstanceCommand.self, MigrateCommand.self, RegistryCommand.self, EventsCommand.self,
            SimCommand.self,
        ]
    )

    /// Runs the command like ArgumentParser does, except that every error speaks with one voice (``CLIError``):
    /// `error: …` and exit 2, usage errors included (not ArgumentParser's `Error:` and 64); a runtime error never
    /// prints the usage; a misspelt subcommand gets the closest name.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try self.parseAsRoot()
        } catch {
            let code = self.exitCode(for: error)
            if code == .success {
                self.exit(withError: error)  // --help, --version
            }
            var text = self.fullMessage(for: error)
            if text.hasPrefix("Error: ") { text = "error: " + text.dropFirst("Error: ".count) }
            if let suggestion = SubcommandSuggestion.suggestion(for: Array(CommandLine.arguments.dropFirst()), root: self) {
                text = "error: \(suggestion)\n" + text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
            }
            FileHandle.standardError.write(Data((text + "\n").utf8))
            Foundation.exit(2)
        }
        // The examples test checks commands that need the cloud by parsing (and validating) them only.
        if ProcessInfo.processInfo.environment["IOTBRIDGE_PARSE_ONLY"] == "1" {
            Foundation.exit(0)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as CleanExit {
            self.exit(withError: error)
        } catch let error as ValidationError {
            Foundation.exit(CLIError.report(error))
        } catch  where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // `--help` and `help CMD` parse into ArgumentParser's help command, whose run throws its text.
            self.exit(withError: error)
        } catch {
            Foundation.exit(CLIError.report(error))
        }
    }
}
