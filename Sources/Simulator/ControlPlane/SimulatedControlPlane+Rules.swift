//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Migration

extension SimulatedControlPlane {
    /// At most this many normal actions per rule, plus one error action (reference §4.5).
    public static let maxActionsPerRule = 10

    /// Every old-version rule with its actions, in creation order (``OpenAPI`` lists newest first).
    public func listRules() -> [OldRule] {
        self.state.rules
    }

    /// One rule with its actions (`GetRule`).
    ///
    /// - Throws: `iot.rule.NotExist`.
    public func rule(id: String) throws -> OldRule {
        self.state.rules[try self.ruleIndex(id)]
    }

    private func ruleIndex(_ id: String) throws -> Int {
        guard let index = self.state.rules.firstIndex(where: { $0.id == id }) else {
            throw SimulatedAPIError("iot.rule.NotExist", "rule \(id) does not exist.")
        }
        return index
    }

    /// Creates a stopped rule without actions (`CreateRule`) and returns its ID; the rule's own ID, actions and
    /// status are ignored.
    ///
    /// - Throws: `InvalidParameter` (no name or a name longer than 30 characters, no `Select`, neither `Topic` nor
    ///   `ProductKey` + `ShortTopic`, a `TopicType` other than 0/1/2, a `DataType` other than JSON/BINARY, a
    ///   `RuleDesc` over 100 characters).
    public func createRule(_ rule: OldRule) throws -> String {
        guard (1...30).contains(rule.name.count) else {
            throw SimulatedAPIError("InvalidParameter", "Name must be 1 to 30 characters: \(rule.name)")
        }
        guard !rule.select.isEmpty else { throw SimulatedAPIError.missing("Select") }
        guard !(rule.topic ?? "").isEmpty || (!(rule.productKey ?? "").isEmpty && rule.shortTopic != nil) else {
            throw SimulatedAPIError("InvalidParameter", "Topic or ProductKey + ShortTopic is mandatory.")
        }
        if let type = rule.topicType, !(0...2).contains(type) {
            throw SimulatedAPIError("InvalidParameter", "TopicType must be 0, 1 or 2, not \(type).")
        }
        guard ["JSON", "BINARY"].contains(rule.dataType) else {
            throw SimulatedAPIError("InvalidParameter", "DataType must be JSON or BINARY, not \(rule.dataType).")
        }
        if let description = rule.description, description.count > 100 {
            throw SimulatedAPIError("InvalidParameter", "RuleDesc is longer than 100 characters.")
        }
        var copy = rule
        copy.id = self.ids.ruleId()
        copy.actions = []
        copy.errorAction = nil
        copy.status = .stopped
        try self.mutate { $0.rules.append(copy) }
        return copy.id
    }

    /// The actions of a rule (`ListRuleActions`), normal ones first, the error action flagged.
    ///
    /// - Throws: `iot.rule.NotExist`.
    public func listRuleActions(ruleId: String) throws -> [(action: RuleAction, isErrorAction: Bool)] {
        let rule = try self.rule(id: ruleId)
        return rule.actions.map { ($0, false) } + (rule.errorAction.map { [($0, true)] } ?? [])
    }

    /// Adds an action to a rule (`CreateRuleAction`) and returns its ID.
    ///
    /// - Throws: `iot.rule.NotExist`; `InvalidParameter` (no type or configuration, an unknown type);
    ///   `iot.rule.InvalidFormattedConfiguration` (not a JSON object); `iot.consumergroup.NotExist` (an AMQP
    ///   action's `groupId`); `iot.rule.TooManyActions` (an 11th normal action); `iot.rule.TooManyErrorActions` (a
    ///   second error action); `iot.rule.SameDestinationForErrorAction` (the error action forwarding to the same
    ///   cloud service as a normal action: "正常操作和错误操作的转发目的云产品不能相同",
    ///   reference §4.5).
    public func createRuleAction(ruleId: String, action: RuleAction, isErrorAction: Bool) throws -> String {
        let index = try self.ruleIndex(ruleId)
        let rule = self.state.rules[index]
        try self.checkActionConfiguration(type: action.type, configuration: action.configuration)
        if isErrorAction {
            guard rule.errorAction == nil else {
                throw SimulatedAPIError("iot.rule.TooManyErrorActions", "rule \(ruleId) already has an error action.")
            }
            if rule.actions.contains(where: { $0.type == action.type }) {
                throw SimulatedAPIError(
                    "iot.rule.SameDestinationForErrorAction",
                    "the error action cannot forward to \(action.type), which a normal action of rule \(ruleId) uses."
                )
            }
        } else {
            guard rule.actions.count < Self.maxActionsPerRule else {
                throw SimulatedAPIError(
                    "iot.rule.TooManyActions",
                    "rule \(ruleId) has \(Self.maxActionsPerRule) actions already, the most a rule can have."
                )
            }
            if rule.errorAction?.type == action.type {
                throw SimulatedAPIError(
                    "iot.rule.SameDestinationForErrorAction",
                    "a normal action cannot forward to \(action.type), which the error action of rule \(ruleId) uses."
                )
            }
        }
        var copy = action
        copy.id = self.ids.actionId()
        try self.mutate { state in
            if isErrorAction { state.rules[index].errorAction = copy } else { state.rules[index].actions.append(copy) }
        }
        return copy.id!
    }

    /// The checks of an action's or destination's configuration: a known type, a JSON object, and for AMQP a
    /// `groupId` that exists on this instance.
    func checkActionConfiguration(type: String, configuration: String) throws {
        let known = ["REPUBLISH", "AMQP", "DATAHUB", "ONS", "MNS", "FC", "OTS"]
        guard known.contains(type) else {
            throw SimulatedAPIError("InvalidParameter", "Type \(type) is not one of \(known.joined(separator: ", ")).")
        }
        guard
            let object = (try? JSONSerialization.jsonObject(with: Data(configuration.utf8))) as? [String: Any]
        else {
            throw SimulatedAPIError("iot.rule.InvalidFormattedConfiguration", "Configuration is not a JSON object.")
        }
        if type == "AMQP" {
            guard let group = object["groupId"] as? String, !group.isEmpty else {
                throw SimulatedAPIError("InvalidParameter", "an AMQP Configuration needs groupId.")
            }
            _ = try self.consumerGroup(id: group)
        }
    }

    /// Starts a rule (`StartRule`).
    ///
    /// - Throws: `iot.rule.NotExist`.
    public func startRule(id: String) throws {
        let index = try self.ruleIndex(id)
        try self.mutate { $0.rules[index].status = .running }
    }

    /// Stops a rule (`StopRule`).
    ///
    /// - Throws: `iot.rule.NotExist`.
    public func stopRule(id: String) throws {
        let index = try self.ruleIndex(id)
        try self.mutate { $0.rules[index].status = .stopped }
    }

    /// Deletes a stopped rule (`DeleteRule`).
    ///
    /// - Throws: `iot.rule.NotExist`; `iot.rule.RuleIsRunning` ("running rules cannot be deleted", reference §6.3).
    public func deleteRule(id: String) throws {
        let index = try self.ruleIndex(id)
        guard self.state.rules[index].status == .stopped else {
            throw SimulatedAPIError("iot.rule.RuleIsRunning", "rule \(id) is running: stop it before deleting it.")
        }
        try self.mutate { _ = $0.rules.remove(at: index) }
    }
}
