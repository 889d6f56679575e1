//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The seam between the rule engine (`Rules`) and the parser-script language (`RuleScript`). It lives here,
// in the module both depend on, so `RuleScript` can conform to it without depending on `Rules`.

/// The kind of destination a forwarding call writes to.
public struct ForwardingKind: Sendable, Hashable, CustomStringConvertible {
    /// The kind's name, as rule files and `rules run-script` output spell it.
    public let rawValue: String

    /// Creates a kind.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// `writeAmqp`: an AMQP consumer group.
    public static let amqp = ForwardingKind("amqp")
    /// `writeIotTopic`: another topic of the platform.
    public static let republish = ForwardingKind("republish")
    /// HTTP, for running rules locally.
    public static let http = ForwardingKind("http")
    /// RocketMQ (cloud only).
    public static let ons = ForwardingKind("ons")
    /// Message Service (cloud only).
    public static let mns = ForwardingKind("mns")
    /// Function Compute (cloud only).
    public static let fc = ForwardingKind("fc")
    /// Tablestore (cloud only).
    public static let ots = ForwardingKind("ots")
    /// DataHub (cloud only).
    public static let datahub = ForwardingKind("datahub")
    /// ApsaraDB RDS / PolarDB (cloud only).
    public static let rds = ForwardingKind("rds")
    /// Time Series Database (cloud only).
    public static let tsdb = ForwardingKind("tsdb")
    /// Lindorm (cloud only).
    public static let lindorm = ForwardingKind("lindorm")

    /// Every kind a rule file may name.
    public static let all: [ForwardingKind] = [
        .amqp, .republish, .http, .ons, .mns, .fc, .ots, .datahub, .rds, .tsdb, .lindorm,
    ]

    /// `true` for the kinds that exist only in the cloud and are recorded, not executed, locally.
    public var isCloudOnly: Bool {
        self != .amqp && self != .republish && self != .http
    }

    /// The kind's name.
    public var description: String { self.rawValue }
}

/// One forwarding call a parser script made (`writeAmqp(1001, out, "hot")`, `writeIotTopic(…)`, …).
public struct ForwardingCall: Sendable, Hashable {
    /// The destination number the script named.
    public var destinationId: Int
    /// The script function that was called, e.g. `"writeAmqp"`.
    public var function: String
    /// The kind of destination the function writes to.
    public var kind: ForwardingKind
    /// The data forwarded.
    public var payload: JSONValue
    /// The AMQP tag, for `writeAmqp`.
    public var tag: String?
    /// The topic, for `writeIotTopic`.
    public var topic: String?
    /// Where in the script the call was made.
    public var location: SourceLocation?
    /// Every argument after the destination ID, in order, for a call whose parameters have no documented
    /// names (a cloud-only `write…` called with more than a payload and a tag); `nil` otherwise. When it is
    /// set, ``payload`` is `null`: which argument is the data is not documented.
    public var arguments: [JSONValue]?

    /// Creates a call record.
    public init(
        destinationId: Int,
        function: String,
        kind: ForwardingKind,
        payload: JSONValue,
        tag: String? = nil,
        topic: String? = nil,
        location: SourceLocation? = nil,
        arguments: [JSONValue]? = nil
    ) {
        self.destinationId = destinationId
        self.function = function
        self.kind = kind
        self.payload = payload
        self.tag = tag
        self.topic = topic
        self.location = location
        self.arguments = arguments
    }

    /// The call as `rules run-script` prints it: `{destinationId, kind, payload|arguments, tag|topic}`.
    public var jsonObject: JSONObject {
        var object = JSONObject()
        object["destinationId"] = .int(self.destinationId)
        object["kind"] = .string(self.kind.rawValue)
        if let arguments = self.arguments {
            object["arguments"] = .array(arguments)
        } else {
            object["payload"] = self.payload
        }
        if let tag = self.tag { object["tag"] = .string(tag) }
        if let topic = self.topic { object["topic"] = .string(topic) }
        return object
    }
}

/// The platform's documented limits on parser scripts (reference §5).
public enum ParserScriptLimits {
    /// A script is at most 120 KB.
    public static let maximumScriptBytes = 120 * 1024
    /// A script run makes at most 100 forwarding calls.
    public static let maximumForwardingCalls = 100
    /// A parser has at most 10 destinations.
    public static let maximumDestinations = 10
}

/// A compiler for parser scripts; the `RuleScript` module provides the real one, and the rule engine takes
/// any conforming value, so it can load parser rules before (and without) the script language.
public protocol ParserScriptEngine: Sendable {
    /// Compiles a script, or throws the first error with its location in `source`.
    func compile(_ source: SourceText) throws(Diagnostic) -> any CompiledParserScript
    /// Every compile-time error of a script, for linting; empty when it compiles.
    func diagnose(_ source: SourceText) -> [Diagnostic]
    /// What the platform refuses when a script that compiles is published (PublishScript), for linting;
    /// empty when it would publish.
    func publishDiagnostics(_ source: SourceText) -> [Diagnostic]
}

extension ParserScriptEngine {
    /// No publish-time checks, for engines that do not know the platform's.
    public func publishDiagnostics(_ source: SourceText) -> [Diagnostic] {
        []
    }

    /// The first error only, for engines that cannot go on after one.
    public func diagnose(_ source: SourceText) -> [Diagnostic] {
        do {
            _ = try self.compile(source)
            return []
        } catch {
            return [error]
        }
    }
}

/// A compiled parser script, ready to run over messages.
public protocol CompiledParserScript: Sendable {
    /// Runs the script over one message and returns the forwarding calls it made, in order.
    func run(_ message: MessageContext) throws(Diagnostic) -> [ForwardingCall]
}
