//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import RuleSQL

/// "unknown command 'pln' for 'iotbridge migrate'; did you mean 'plan'?" — ArgumentParser only says
/// "Unexpected argument", so the command tree is walked here with the rule tooling's edit distance.
enum SubcommandSuggestion {
    /// The message for the first argument that should name a subcommand and does not, or nil.
    static func suggestion(for arguments: [String], root: any ParsableCommand.Type) -> String? {
        var command = root
        var path = [root._commandName]
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            if argument.hasPrefix("-") || subcommands.isEmpty || argument == "help" { return nil }
            var names: [String: any ParsableCommand.Type] = [:]
            for subcommand in subcommands {
                names[subcommand._commandName] = subcommand
                for alias in subcommand.configuration.aliases { names[alias] = subcommand }
            }
            guard let next = names[argument] else {
                var known: [String] = []
                for subcommand in subcommands { known.append(subcommand._commandName) }
                return "unknown command '\(argument)' for '\(path.joined(separator: " "))'"
                    + Suggestion.didYouMean(argument, among: known)
                    + " (commands: \(known.joined(separator: ", ")))"
            }
            command = next
            path.append(argument)
        }
        return nil
    }
}
