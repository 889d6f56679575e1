//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

extension OpenAPIActions {
    /// Old-version rules and their actions (reference §6.3).
    static func rules(
        _ action: String,
        _ p: OpenAPIParameters,
        on plane: SimulatedControlPlane
    ) async throws -> [String: Any] {
        switch action {
        case "ListRule":
            // Newest first, as the platform lists them.
            let rules = await plane.listRules().reversed().map { Self.ruleInfo($0) }
            let page = try p.page(Array(rules), pageKey: "CurrentPage", defaultSize: 10, sizes: 1...100)
            return ["Data": ["RuleInfo": page.items], "Page": page.page, "PageSize": page.size, "Total": rules.count]
        case "GetRule":
            return ["RuleInfo": Self.ruleInfo(try await plane.rule(id: try p.required("RuleId")))]
        case "CreateRule":
            let rule = OldRule(
                id: "",
                name: try p.required("Name"),
                productKey: p.optional("ProductKey"),
                // An empty ShortTopic is legal ("+" or a device name for status topics is the usual form).
                shortTopic: p.values["ShortTopic"],
                topic: p.optional("Topic"),
                topicType: try p.optional("TopicType").map { _ in try p.int("TopicType", default: 0, in: 0...2) },
                select: try p.required("Select"),
                where: p.optional("Where"),
                dataType: p.optional("DataType") ?? "JSON",
                description: p.optional("RuleDesc")
            )
            return ["RuleId": Self.idValue(try await plane.createRule(rule))]
        case "ListRuleActions":
            let ruleId = try p.required("RuleId")
            let actions = try await plane.listRuleActions(ruleId: ruleId).map { entry -> [String: Any] in
                [
                    "Id": Self.idValue(entry.action.id ?? ""), "RuleId": Self.idValue(ruleId),
                    "Type": entry.action.type, "Configuration": entry.action.configuration,
                    "ErrorActionFlag": entry.isErrorAction, "Status": "NORMAL",
                ]
            }
            return ["RuleActionList": ["RuleActionInfo": actions]]
        case "CreateRuleAction":
            let id = try await plane.createRuleAction(
                ruleId: try p.required("RuleId"),
                action: RuleAction(type: try p.required("Type"), configuration: try p.required("Configuration")),
                isErrorAction: try p.bool("ErrorActionFlag")
            )
            return ["ActionId": Self.idValue(id)]
        case "StartRule":
            try await plane.startRule(id: try p.required("RuleId"))
            return [:]
        case "StopRule":
            try await plane.stopRule(id: try p.required("RuleId"))
            return [:]
        case "DeleteRule":
            try await plane.deleteRule(id: try p.required("RuleId"))
            return [:]
        default:
            throw SimulatedAPIError("InvalidAction.NotFound", "Specified api \(action) is not found.", httpStatus: 404)
        }
    }

    /// `RuleInfo` as `GetRule` and `ListRule` answer it.
    private static func ruleInfo(_ rule: OldRule) -> [String: Any] {
        var info: [String: Any] = [
            "Id": Self.idValue(rule.id), "Name": rule.name, "Select": rule.select, "DataType": rule.dataType,
            "Status": rule.status.rawValue,
            // -1 when the rule has no SQL topic (reference §6.3).
            "TopicType": rule.topicType ?? -1,
        ]
        if let value = rule.productKey { info["ProductKey"] = value }
        if let value = rule.shortTopic { info["ShortTopic"] = value }
        if let value = rule.topic { info["Topic"] = value }
        if let value = rule.where { info["Where"] = value }
        if let value = rule.description { info["RuleDesc"] = value }
        return info
    }
}
