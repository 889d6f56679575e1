//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

extension OpenAPIActions {
    /// Data sources with their items, and destinations (reference §6.4). Note the lower-case list keys
    /// (`dataSourceItem`, `destinations`) the platform's models use.
    static func sourcesAndDestinations(
        _ action: String,
        _ p: OpenAPIParameters,
        on plane: SimulatedControlPlane
    ) async throws -> [String: Any] {
        switch action {
        case "ListParserDataSource":
            let sources = await plane.listDataSources().map { source -> [String: Any] in
                var item: [String: Any] = ["DataSourceId": Self.idValue(source.id), "Name": source.name]
                if let description = source.description { item["Description"] = description }
                return item
            }
            let page = try p.page(sources, pageKey: "Page", defaultSize: 10, sizes: 1...100)
            return [
                "Data": ["DataSource": page.items], "Page": page.page, "PageSize": page.size,
                "Total": sources.count,
            ]
        case "ListDataSourceItem":
            let source = try await plane.dataSource(id: try p.required("DataSourceId"))
            let items = source.items.map { item -> [String: Any] in
                var entry: [String: Any] = ["DataSourceItemId": Self.idValue(item.id ?? ""), "Topic": item.topic]
                if let value = item.scopeType { entry["ScopeType"] = value }
                if let value = item.productKey { entry["ProductKey"] = value }
                if let value = item.deviceName { entry["DeviceName"] = value }
                return entry
            }
            let page = try p.page(items, pageKey: "Page", defaultSize: 10, sizes: 1...100)
            return [
                "DataSourceItems": ["dataSourceItem": page.items], "Page": page.page, "PageSize": page.size,
                "Total": items.count,
            ]
        case "CreateParserDataSource":
            let source = try await plane.createDataSource(
                name: try p.required("Name"),
                description: p.optional("Description")
            )
            return ["DataSource": ["DataSourceId": Self.idValue(source.id), "Name": source.name]]
        case "CreateDataSourceItem":
            _ = try await plane.createDataSourceItem(
                dataSourceId: try p.required("DataSourceId"),
                item: DataSourceItem(
                    topic: try p.required("Topic"),
                    scopeType: p.optional("ScopeType"),
                    productKey: p.optional("ProductKey"),
                    deviceName: p.optional("DeviceName")
                )
            )
            return [:]
        case "DeleteParserDataSource":
            try await plane.deleteDataSource(id: try p.required("DataSourceId"))
            return [:]
        case "ListDestination":
            let destinations = await plane.listDestinations().map { Self.destinationInfo($0) }
            let page = try p.page(destinations, pageKey: "Page", defaultSize: 10, sizes: 1...100)
            return [
                "Destinations": ["destinations": page.items], "Page": page.page, "PageSize": page.size,
                "Total": destinations.count,
            ]
        case "CreateDestination":
            let made = try await plane.createDestination(
                Destination(
                    id: "",
                    name: try p.required("Name"),
                    type: try p.required("Type"),
                    configuration: try p.required("Configuration"),
                    description: p.optional("Description")
                )
            )
            return ["Destination": Self.destinationInfo(made)]
        case "DeleteDestination":
            try await plane.deleteDestination(id: try p.required("DestinationId"))
            return [:]
        default:
            throw SimulatedAPIError("InvalidAction.NotFound", "Specified api \(action) is not found.", httpStatus: 404)
        }
    }

    private static func destinationInfo(_ destination: Destination) -> [String: Any] {
        var info: [String: Any] = [
            "DestinationId": Self.idValue(destination.id), "Name": destination.name, "Type": destination.type,
            "Configuration": destination.configuration, "IsFailover": false, "Status": "NORMAL",
        ]
        if let description = destination.description { info["Description"] = description }
        return info
    }

    /// Parsers (reference §6.4).
    static func parsers(
        _ action: String,
        _ p: OpenAPIParameters,
        on plane: SimulatedControlPlane
    ) async throws -> [String: Any] {
        switch action {
        case "ListParser":
            let parsers = await plane.listParsers().map { parser -> [String: Any] in
                var item: [String: Any] = [
                    "ParserId": Self.idValue(parser.id), "Name": parser.name, "Status": parser.status.rawValue,
                ]
                if let description = parser.description { item["Description"] = description }
                return item
            }
            let page = try p.page(parsers, pageKey: "CurrentPage", defaultSize: 10, sizes: 1...100)
            return ["Data": ["ParserList": page.items], "Total": parsers.count]
        case "GetParser":
            let parser = try await plane.parser(id: try p.required("ParserId"))
            var data: [String: Any] = [
                "ParserId": Self.idValue(parser.id), "Name": parser.name, "Status": parser.status.rawValue,
            ]
            if let value = parser.description { data["Description"] = value }
            if let value = parser.dataSourceId { data["DataSourceId"] = Self.idValue(value) }
            if let value = parser.script { data["Script"] = value }
            if let value = parser.scriptDraft { data["ScriptDraft"] = value }
            return ["Data": data]
        case "ListParserDestination":
            let parser = try await plane.parser(id: try p.required("ParserId"))
            let ids = try p.bool("IsFailover") ? (parser.errorDestinationId.map { [$0] } ?? []) : parser.destinationIds
            var destinations: [[String: Any]] = []
            for id in ids {
                if let destination = try? await plane.destination(id: id) {
                    destinations.append(Self.destinationInfo(destination))
                }
            }
            return ["Data": ["destinations": destinations]]
        case "CreateParser":
            let id = try await plane.createParser(name: try p.required("Name"), description: p.optional("Description"))
            return ["ParserId": Self.idValue(id)]
        case "SaveScript":
            try await plane.saveScript(parserId: try p.required("ParserId"), draft: try p.required("ScriptDraft"))
            return [:]
        case "PublishScript":
            let error = try await plane.publishScript(parserId: try p.required("ParserId"))
            return error.map { ["SyntaxErrorMsg": $0] } ?? [:]
        case "AttachParserDataSource":
            try await plane.attachDataSource(
                parserId: try p.required("ParserId"),
                dataSourceId: try p.required("DataSourceId")
            )
            return [:]
        case "AttachDestination":
            try await plane.attachDestination(
                parserId: try p.required("ParserId"),
                destinationId: try p.required("DestinationId"),
                isFailover: try p.bool("IsFailover")
            )
            return [:]
        case "StartParser":
            try await plane.startParser(id: try p.required("ParserId"))
            return [:]
        case "StopParser":
            try await plane.stopParser(id: try p.required("ParserId"))
            return [:]
        case "DeleteParser":
            try await plane.deleteParser(id: try p.required("ParserId"))
            return [:]
        default:
            throw SimulatedAPIError("InvalidAction.NotFound", "Specified api \(action) is not found.", httpStatus: 404)
        }
    }
}
