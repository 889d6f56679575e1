//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration
import TestSupport
import Testing

/// A create whose answer is lost after the platform applied it (HTTP 503, or the connection closed with no
/// answer) never leaves a second resource behind: `migrate run` looks the resource up before sending the call
/// again, within the run and, after a SIGKILL between the lost answer and the retry, in the resumed run.
@Suite(
    .enabled(if: Support.binary != nil, "the iotbridge binary is absent: build it or set IOTBRIDGE_BIN"),
    .timeLimit(.minutes(5))
)
struct LostAnswerTests {
    /// Every call `migrate run` makes that is not idempotent: each creates something or attaches something twice.
    static let actions = [
        "CreateConsumerGroup", "CreateSubscribeRelation", "CreateRule", "CreateRuleAction", "CreateParserDataSource",
        "CreateDataSourceItem", "CreateDestination", "CreateParser", "AttachDestination",
    ]

    /// How the answer is lost, and whether the run is killed before it retries.
    enum Loss: String, CaseIterable, CustomTestStringConvertible {
        case answered503, connectionDropped, answered503ThenKilled, connectionDroppedThenKilled

        var mode: String { self == .answered503 || self == .answered503ThenKilled ? "503" : "drop" }
        var kills: Bool { self == .answered503ThenKilled || self == .connectionDroppedThenKilled }
        var testDescription: String { self.rawValue }
    }

    /// The target after an uninterrupted run, normalised, and the calls it took: computed once.
    actor Reference {
        static let shared = Reference()
        private var value: (state: String, calls: [String: Int])?

        func get() async throws -> (state: String, calls: [String: Int]) {
            if let value { return value }
            let workspace = try await MigrateCLITests.Workspace()
            _ = try await workspace.run(["migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml"])
            let (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
            #expect(rc == 0, "\(err)")
            let (state, calls) = try await workspace.target()
            let result = (Support.normalized(state), calls)
            self.value = result
            return result
        }
    }

    @Test(arguments: Self.actions, Loss.allCases)
    func lostAnswerNeverCreatesTwice(action: String, loss: Loss) async throws {
        let reference = try await Reference.shared.get()
        #expect((reference.calls[action] ?? 0) > 0, "the plan never calls \(action): the case proves nothing")

        let workspace = try await MigrateCLITests.Workspace()
        var (rc, _, err) = try await workspace.run([
            "migrate", "plan", "--config", "migration.yaml", "--out", "plan.yaml",
        ])
        #expect(rc == 0, "\(err)")
        try await workspace.server.faults(
            #"{"lose": {"action": "\#(action)", "after": 1, "mode": "\#(loss.mode)", "freeze": \#(loss.kills)}}"#
        )
        if loss.kills {
            // Killed while its first call after the lost answer (the look-up) waits at the server.
            let (process, _, _) = try workspace.start(["migrate", "run", "--plan", "plan.yaml"])
            #expect(try await workspace.server.output.wait(for: "LOST \(action) #1"))
            #expect(try await workspace.server.output.wait(for: "FROZEN "))
            kill(process.processIdentifier, SIGKILL)
            await ChildProcess.waitUntilExit(process)
            try await workspace.server.faults("{}")
            (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
            if action == "CreateRuleAction" {
                // The resume read the journalled call and found the action it created among the new ones.
                #expect(err.contains("resuming a rule action call whose answer was lost"), "\(err)")
                #expect(!err.contains("adopted=[]"), "\(err)")
            }
        } else {
            (rc, _, err) = try await workspace.run(["migrate", "run", "--plan", "plan.yaml"])
            #expect(workspace.server.output.text.contains("LOST \(action) #1"))
            #expect(err.contains("adopted the result of a call whose answer was lost"), "\(err)")
        }
        #expect(rc == 0, "\(err)")

        let (state, calls) = try await workspace.target()
        #expect(Support.duplicates(state).isEmpty)
        // Same rules with the same actions, same subscriptions, data-source topics and parser bindings.
        #expect(Support.normalized(state) == reference.state)
        // The lost call was never sent a second time: its result was found and adopted.
        #expect(calls[action] == reference.calls[action])
        let out: String
        (rc, out, _) = try await workspace.run(["migrate", "verify", "--plan", "plan.yaml"])
        #expect(rc == 0, "\(out)")
        #expect(out.contains("0 mismatched, 0 missing"))
    }
}
