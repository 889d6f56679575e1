//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

/// New-version forwarding (reference §5, §6.4): data sources with topic items, destinations, parsers.
extension SimulatedControlPlane {
    /// At most this many normal destinations per parser, plus one failover destination (reference §5).
    public static let maxDestinationsPerParser = 10
    /// A published script may be at most this many bytes (120 KB, reference §5).
    public static let maxScriptBytes = 120 * 1024

    // MARK: Data sources

    /// Every data source with its items.
    public func listDataSources() -> [DataSource] {
        self.state.dataSources
    }

    /// One data source.
    ///
    /// - Throws: `iot.datasource.NotExist`.
    public func dataSource(id: String) throws -> DataSource {
        self.state.dataSources[try self.dataSourceIndex(id)]
    }

    private func dataSourceIndex(_ id: String) throws -> Int {
        guard let index = self.state.dataSources.firstIndex(where: { $0.id == id }) else {
            throw SimulatedAPIError("iot.datasource.NotExist", "data source \(id) does not exist.")
        }
        return index
    }

    /// Creates an empty data source (`CreateParserDataSource`) and returns it.
    ///
    /// - Throws: `InvalidParameter` without a name.
    public func createDataSource(name: String, description: String? = nil) throws -> DataSource {
        guard !name.isEmpty else { throw SimulatedAPIError.missing("Name") }
        let source = DataSource(id: self.ids.dataSourceId(), name: name, description: description)
        try self.mutate { $0.dataSources.append(source) }
        return source
    }

    /// Adds a topic to a data source (`CreateDataSourceItem`) and returns its item ID.
    ///
    /// - Throws: `iot.datasource.NotExist`; `InvalidParameter` (no topic; `ScopeType` `DEVICE` without
    ///   `DeviceName`); `iot.datasource.TopicExisted`.
    public func createDataSourceItem(dataSourceId: String, item: DataSourceItem) throws -> String {
        let index = try self.dataSourceIndex(dataSourceId)
        guard !item.topic.isEmpty else { throw SimulatedAPIError.missing("Topic") }
        if item.scopeType == "DEVICE", (item.deviceName ?? "").isEmpty {
            throw SimulatedAPIError("InvalidParameter", "DeviceName is mandatory when ScopeType is DEVICE.")
        }
        guard !self.state.dataSources[index].items.contains(where: { $0.topic == item.topic }) else {
            throw SimulatedAPIError(
                "iot.datasource.TopicExisted",
                "topic \(item.topic) is already in data source \(dataSourceId)."
            )
        }
        var copy = item
        copy.id = self.ids.dataSourceItemId()
        try self.mutate { $0.dataSources[index].items.append(copy) }
        return copy.id!
    }

    /// Deletes a data source (`DeleteParserDataSource`).
    ///
    /// - Throws: `iot.datasource.NotExist`; `iot.datasource.DataSourceIsUsed` while a parser reads it.
    public func deleteDataSource(id: String) throws {
        let index = try self.dataSourceIndex(id)
        if let parser = self.state.parsers.first(where: { $0.dataSourceId == id }) {
            throw SimulatedAPIError(
                "iot.datasource.DataSourceIsUsed",
                "data source \(id) is attached to parser \(parser.id): detach it first."
            )
        }
        try self.mutate { _ = $0.dataSources.remove(at: index) }
    }

    // MARK: Destinations

    /// Every destination.
    public func listDestinations() -> [Destination] {
        self.state.destinations
    }

    /// One destination.
    ///
    /// - Throws: `iot.destination.NotExist`.
    public func destination(id: String) throws -> Destination {
        guard let destination = self.state.destinations.first(where: { $0.id == id }) else {
            throw SimulatedAPIError("iot.destination.NotExist", "destination \(id) does not exist.")
        }
        return destination
    }

    /// Creates a destination (`CreateDestination`) and returns it with its new ID; the given ID is ignored.
    ///
    /// - Throws: `InvalidParameter` (no name); the configuration errors of
    ///   ``createRuleAction(ruleId:action:isErrorAction:)``.
    public func createDestination(_ destination: Destination) throws -> Destination {
        guard !destination.name.isEmpty else { throw SimulatedAPIError.missing("Name") }
        try self.checkActionConfiguration(type: destination.type, configuration: destination.configuration)
        var copy = destination
        copy.id = self.ids.destinationId()
        try self.mutate { $0.destinations.append(copy) }
        return copy
    }

    /// Deletes a destination (`DeleteDestination`).
    ///
    /// - Throws: `iot.destination.NotExist`; `iot.destination.DestinationIsUsed` while a parser forwards to it.
    public func deleteDestination(id: String) throws {
        _ = try self.destination(id: id)
        if let parser = self.state.parsers.first(where: {
            $0.destinationIds.contains(id) || $0.errorDestinationId == id
        }) {
            throw SimulatedAPIError(
                "iot.destination.DestinationIsUsed",
                "destination \(id) is attached to parser \(parser.id): detach it first."
            )
        }
        try self.mutate { $0.destinations.removeAll { $0.id == id } }
    }

    // MARK: Parsers

    /// Every parser with script, data source and destinations.
    public func listParsers() -> [Parser] {
        self.state.parsers
    }

    /// One parser (`GetParser`).
    ///
    /// - Throws: `iot.parser.NotExist`.
    public func parser(id: String) throws -> Parser {
        self.state.parsers[try self.parserIndex(id)]
    }

    private func parserIndex(_ id: String) throws -> Int {
        guard let index = self.state.parsers.firstIndex(where: { $0.id == id }) else {
            throw SimulatedAPIError("iot.parser.NotExist", "parser \(id) does not exist.")
        }
        return index
    }

    /// Creates a stopped parser without script (`CreateParser`) and returns its ID.
    ///
    /// - Throws: `InvalidParameter` without a name.
    public func createParser(name: String, description: String? = nil) throws -> String {
        guard !name.isEmpty else { throw SimulatedAPIError.missing("Name") }
        let parser = Parser(id: self.ids.parserId(), name: name, description: description)
        try self.mutate { $0.parsers.append(parser) }
        return parser.id
    }

    /// Saves a script draft (`SaveScript`).
    ///
    /// - Throws: `iot.parser.NotExist`; `iot.parser.ScriptTooLarge` over 120 KB.
    public func saveScript(parserId: String, draft: String) throws {
        let index = try self.parserIndex(parserId)
        guard draft.utf8.count <= Self.maxScriptBytes else {
            throw SimulatedAPIError(
                "iot.parser.ScriptTooLarge",
                "the script has \(draft.utf8.count) bytes, more than the \(Self.maxScriptBytes) a parser allows."
            )
        }
        try self.mutate { $0.parsers[index].scriptDraft = draft }
    }

    /// Publishes the draft (`PublishScript`). Returns the `SyntaxErrorMsg` when the draft cannot be published —
    /// here: when a `write…(destinationId, …)` call names a destination the instance does not have — and then
    /// leaves the published script as it was.
    ///
    /// - Throws: `iot.parser.NotExist`.
    public func publishScript(parserId: String) throws -> String? {
        let index = try self.parserIndex(parserId)
        let draft = self.state.parsers[index].scriptDraft ?? ""
        let known = Set(self.state.destinations.map(\.id))
        for match in draft.matches(of: /write[A-Za-z]*\s*\(\s*(\d+)/) where !known.contains(String(match.output.1)) {
            return "destination \(match.output.1) does not exist"
        }
        try self.mutate { $0.parsers[index].script = draft }
        return nil
    }

    /// Binds a parser to its one data source (`AttachParserDataSource`), replacing any earlier one.
    ///
    /// - Throws: `iot.parser.NotExist`, `iot.datasource.NotExist`.
    public func attachDataSource(parserId: String, dataSourceId: String) throws {
        let index = try self.parserIndex(parserId)
        _ = try self.dataSource(id: dataSourceId)
        try self.mutate { $0.parsers[index].dataSourceId = dataSourceId }
    }

    /// Binds a destination to a parser (`AttachDestination`); the failover destination replaces any earlier one.
    ///
    /// - Throws: `iot.parser.NotExist`, `iot.destination.NotExist`; `iot.parser.DestinationAttached` (attached
    ///   already); `iot.parser.TooManyDestinations` (an 11th).
    public func attachDestination(parserId: String, destinationId: String, isFailover: Bool) throws {
        let index = try self.parserIndex(parserId)
        _ = try self.destination(id: destinationId)
        let parser = self.state.parsers[index]
        if isFailover {
            try self.mutate { $0.parsers[index].errorDestinationId = destinationId }
            return
        }
        guard !parser.destinationIds.contains(destinationId) else {
            throw SimulatedAPIError(
                "iot.parser.DestinationAttached",
                "destination \(destinationId) is already attached to parser \(parserId)."
            )
        }
        guard parser.destinationIds.count < Self.maxDestinationsPerParser else {
            throw SimulatedAPIError(
                "iot.parser.TooManyDestinations",
                "parser \(parserId) has \(Self.maxDestinationsPerParser) destinations already, the most it can have."
            )
        }
        try self.mutate { $0.parsers[index].destinationIds.append(destinationId) }
    }

    /// Starts a parser (`StartParser`).
    ///
    /// - Throws: `iot.parser.NotExist`.
    public func startParser(id: String) throws {
        let index = try self.parserIndex(id)
        try self.mutate { $0.parsers[index].status = .running }
    }

    /// Stops a parser (`StopParser`).
    ///
    /// - Throws: `iot.parser.NotExist`.
    public func stopParser(id: String) throws {
        let index = try self.parserIndex(id)
        try self.mutate { $0.parsers[index].status = .stopped }
    }

    /// Deletes a stopped parser (`DeleteParser`).
    ///
    /// - Throws: `iot.parser.NotExist`; `iot.parser.ParserIsRunning`.
    public func deleteParser(id: String) throws {
        let index = try self.parserIndex(id)
        guard self.state.parsers[index].status == .stopped else {
            throw SimulatedAPIError(
                "iot.parser.ParserIsRunning",
                "parser \(id) is running: stop it before deleting it."
            )
        }
        try self.mutate { _ = $0.parsers.remove(at: index) }
    }
}
