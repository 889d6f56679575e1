//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// What makes two rule actions the same action: their kind (normal or error), type and configuration (compared
/// as canonical JSON, so key order and spacing do not matter).
///
/// Rule actions have no name, so this is the only key a run can match them by: when resuming a rule, and when
/// looking for the action a call with a lost answer may have created.
struct RuleActionKey: Hashable, Sendable, CustomStringConvertible {
    let isErrorAction: Bool
    let type: String
    let configuration: String

    init(_ action: RuleAction, isErrorAction: Bool) {
        self.isErrorAction = isErrorAction
        self.type = action.type
        self.configuration = ReferenceRewriter.canonicalJSON(action.configuration)
    }

    /// `error AMQP {"groupId":"G1"}`, for logs.
    var description: String { "\(self.isErrorAction ? "error " : "")\(self.type) \(self.configuration)" }
}
