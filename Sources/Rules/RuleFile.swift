//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

/// One rule file of `rules/`: an old-version rule (SQL + actions) or a new-version parser (script +
/// numbered destinations).
public struct RuleFile: Sendable {
    /// The file's path as given.
    public var path: String
    /// The whole file, for diagnostics.
    public var source: SourceText
    /// The rule's name (1–30 characters on the platform).
    public var name: String
    /// A free-text description.
    public var description: String?
    /// The rule itself.
    public var body: Body

    /// The two versions of forwarding.
    public enum Body: Sendable {
        /// An old-version rule.
        case sql(SQLRuleDefinition)
        /// A new-version parser.
        case parser(ParserDefinition)
    }
}

/// An old-version rule (reference §4): `sql`, `dataType`, `actions`, `errorAction`.
public struct SQLRuleDefinition: Sendable {
    /// The SQL with its position in the file.
    public var sql: EmbeddedText
    /// JSON or BINARY.
    public var dataType: RuleDataType
    /// At most 10 actions.
    public var actions: [Destination]
    /// At most one error action.
    public var errorAction: Destination?
}

/// A new-version parser (reference §5): data-source topics, a script, numbered destinations.
public struct ParserDefinition: Sendable {
    /// The data source's name, if given.
    public var dataSourceName: String?
    /// The topics of the data source (filters with `+` and a trailing `#`).
    public var topics: [TopicFilter]
    /// The script with its position in the file (or in its own file, for `scriptFile`).
    public var script: EmbeddedText
    /// The destinations by number, in file order (at most 10).
    public var destinations: [Destination]
    /// The failover destination, if any.
    public var errorDestination: Destination?

    /// The destination with a given number.
    public func destination(_ id: Int) -> Destination? {
        self.destinations.first { $0.id == id } ?? (self.errorDestination?.id == id ? self.errorDestination : nil)
    }
}
