//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The IoT actions (Version 2018-01-20) the simulated endpoint implements: the subset `iotbridge migrate` and
/// `migrate assess` call (Sources/Migration/Backend/OpenAPIBackend.swift, AssessmentFactsSource.swift), answered
/// from one ``SimulatedControlPlane`` with the platform's response shapes (reference §6.1–§6.4).
///
/// Each action returns the response body without `RequestId`/`Success`, which the endpoint adds.
enum OpenAPIActions {
    /// Every action name the endpoint answers; anything else is `InvalidAction.NotFound`.
    static let implemented: Set<String> = [
        "QueryProductList", "QueryProduct", "QueryDeviceStatistics", "ListOTAFirmware", "ListOTAJobByFirmware",
        "QueryConsumerGroupList", "QueryConsumerGroupByGroupId", "CreateConsumerGroup", "DeleteConsumerGroup",
        "QueryConsumerGroupStatus",
        "CreateSubscribeRelation", "UpdateSubscribeRelation", "QuerySubscribeRelation", "DeleteSubscribeRelation",
        "ListRule", "GetRule", "CreateRule", "ListRuleActions", "CreateRuleAction", "StartRule", "StopRule",
        "DeleteRule",
        "ListParserDataSource", "ListDataSourceItem", "CreateParserDataSource", "CreateDataSourceItem",
        "DeleteParserDataSource",
        "ListDestination", "CreateDestination", "DeleteDestination",
        "ListParser", "GetParser", "ListParserDestination", "CreateParser", "SaveScript", "PublishScript",
        "AttachParserDataSource", "AttachDestination", "StartParser", "StopParser", "DeleteParser",
    ]

    /// Runs one action against an instance.
    ///
    /// - Throws: ``SimulatedAPIError`` (the platform's errors); `InvalidAction.NotFound` for an action not in
    ///   ``implemented``.
    static func run(
        _ action: String,
        _ parameters: OpenAPIParameters,
        on plane: SimulatedControlPlane
    ) async throws -> [String: Any] {
        switch action {
        case "QueryProductList", "QueryProduct", "QueryDeviceStatistics", "ListOTAFirmware", "ListOTAJobByFirmware",
            "QueryConsumerGroupStatus":
            return try await Self.assessment(action, parameters, on: plane)
        case "QueryConsumerGroupList", "QueryConsumerGroupByGroupId", "CreateConsumerGroup", "DeleteConsumerGroup":
            return try await Self.consumerGroups(action, parameters, on: plane)
        case "CreateSubscribeRelation", "UpdateSubscribeRelation", "QuerySubscribeRelation", "DeleteSubscribeRelation":
            return try await Self.subscriptions(action, parameters, on: plane)
        case "ListRule", "GetRule", "CreateRule", "ListRuleActions", "CreateRuleAction", "StartRule", "StopRule",
            "DeleteRule":
            return try await Self.rules(action, parameters, on: plane)
        case "ListParserDataSource", "ListDataSourceItem", "CreateParserDataSource", "CreateDataSourceItem",
            "DeleteParserDataSource", "ListDestination", "CreateDestination", "DeleteDestination":
            return try await Self.sourcesAndDestinations(action, parameters, on: plane)
        case "ListParser", "GetParser", "ListParserDestination", "CreateParser", "SaveScript", "PublishScript",
            "AttachParserDataSource", "AttachDestination", "StartParser", "StopParser", "DeleteParser":
            return try await Self.parsers(action, parameters, on: plane)
        default:
            throw SimulatedAPIError("InvalidAction.NotFound", "Specified api \(action) is not found.", httpStatus: 404)
        }
    }

    /// An ID as the API types it: a number when it is one (rule, action, parser… IDs are `Long`s), else a string.
    static func idValue(_ id: String) -> Any {
        Int64(id).map { $0 as Any } ?? id
    }

    /// `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC, as `CreateTime` is.
    static func isoMilliseconds(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
