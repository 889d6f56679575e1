//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import RuleSQL
import RuleScript

/// `iotbridge rules run-script`: runs one parser script over one message and prints its forwarding calls.
struct RulesRunScriptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-script",
        abstract: "Run a parser script over one message and print the forwarding calls it makes.",
        discussion: """
            Parser scripts are the new-version forwarding's JavaScript-like scripts: they read the message \
            (payload('json'), topic(n), deviceName(), productKey(), timestamp()) and call writeAmqp, \
            writeIotTopic or another write… function to forward data to numbered destinations. This command \
            runs the script locally; nothing is sent anywhere.

            Each forwarding call is printed as one JSON line on stdout, in the order the script made them:
              {"destinationId":1001,"kind":"amqp","payload":{…},"tag":"hot"}
              {"destinationId":1003,"kind":"republish","payload":{…},"topic":"/pk/dn/get"}
              {"destinationId":1000,"kind":"tsdb","payload":{"metric":"t",…}}
            Cloud-only destinations (writeMq, writeRds, writeTableStore, writeFc, writeMns, writeDatahub, \
            writeTsdb, writeLindorm) are printed with their kind (ons, rds, ots, …) but exist only in the cloud. \
            writeTsdb takes the documented (destinationId, timestamp, metric, value, tags); an undocumented \
            write… called with more than a payload and a tag prints every argument under "arguments" \
            instead of a payload.

            Exit codes follow grep: 0 when the script made at least one call, 1 when it made none, 2 on an \
            error. An error (syntax, unknown name, type, a runaway loop, more than 100 calls) is printed on \
            stderr as file:line:column, a one-line message, the script line and a caret under the mistake.

            Example, with hot.js holding
              var data = payload("json");
              var t = data.items.Temperature.value;
              if (t > 38) { writeAmqp(1001, {t: t}, "hot"); }

              iotbridge rules run-script --script hot.js \\
                --topic /sys/a1HHrkm/dev1/thing/event/property/post \\
                --payload '{"items":{"Temperature":{"value":39.5,"time":1}}}'
              {"destinationId":1001,"kind":"amqp","payload":{"t":39.5},"tag":"hot"}

            Limits, as in the cloud: a script is at most 120 KB and makes at most 100 forwarding calls per \
            message; a run may take at most 1,000,000 steps, so a loop that never ends stops with an error \
            naming its line.
            """
    )

    @Option(
        help: ArgumentHelp(
            "The parser script file.",
            discussion: """
                The language is a JavaScript subset: var/let/const, if/else, for, for…in, while, objects, \
                arrays, the platform's functions, and the methods of maps, arrays and strings \
                (m.size(), a.add(x), s.substring(0, 3), …).
                """,
            valueName: "file"
        )
    )
    var script: String

    @OptionGroup
    var message: RuleMessageOptions

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: self.script) else {
            RulesOutput.error("error: --script \(self.script): cannot read the file")
            throw RulesOutput.failure
        }
        let context: MessageContext
        do {
            context = try self.message.message()
        } catch {
            RulesOutput.error("error: \(error)")
            throw RulesOutput.failure
        }
        let calls: [ForwardingCall]
        do {
            let script = try RuleScript.compile(String(decoding: data, as: UTF8.self), file: self.script)
            calls = try script.run(context)
        } catch {
            RulesOutput.error(error.description)
            throw RulesOutput.failure
        }
        var output: [UInt8] = []
        for call in calls {
            call.jsonObject.writeJSON(into: &output)
            output.append(0x0A)
        }
        RulesOutput.write(output)
        if calls.isEmpty {
            throw RulesOutput.noMatch
        }
    }

    /// The parser-script engine the `rules` commands compile parser rules with.
    static let engine: any ParserScriptEngine = RuleScriptEngine()
}
