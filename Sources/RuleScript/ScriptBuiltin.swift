//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// A function a parser script can call, resolved from its name when the script is compiled.
enum ScriptBuiltin: Sendable, Hashable {
    /// `payload(format)`: the payload as JSON, binary or text.
    case payload
    /// `productKey()`: the product key of the message's device.
    case productKey
    /// `getOrNull(object, keys…)`: a nested value, or `null` when a key is missing.
    case getOrNull
    /// `toBoolean(value)`.
    case toBoolean
    /// `toNumber(value)`.
    case toNumber
    /// `toString(value)`.
    case toString
    /// `toMap(value)`.
    case toMap
    /// `toArray(value)`.
    case toArray
    /// `toBinary(value)`.
    case toBinary
    /// `format_date(timestamp, pattern, timeZone)`.
    case formatDate
    /// `to_timestamp(dateString, pattern, timeZone)`.
    case toTimestamp
    /// A function of the rule SQL, shared with it (`deviceName()`, `topic(n)`, `upper(s)`, …).
    case rule(RuleFunction)
    /// A forwarding function (`writeAmqp`, `writeIotTopic`, and the cloud-only `write…`).
    case forward(ScriptForwarding)

    /// Every function a script can call, by its exact (case-sensitive, as in JavaScript) name.
    static let table: [String: ScriptBuiltin] = {
        var table: [String: ScriptBuiltin] = [:]
        for function in RuleFunction.allCases {
            table[function.rawValue] = .rule(function)
        }
        table["payload"] = .payload
        table["productKey"] = .productKey
        table["getOrNull"] = .getOrNull
        table["toBoolean"] = .toBoolean
        table["toNumber"] = .toNumber
        table["toString"] = .toString
        table["toMap"] = .toMap
        table["toArray"] = .toArray
        table["toBinary"] = .toBinary
        table["format_date"] = .formatDate
        table["to_timestamp"] = .toTimestamp
        for forwarding in ScriptForwarding.all {
            table[forwarding.name] = .forward(forwarding)
        }
        return table
    }()

    /// The names, sorted, for suggestions and help.
    static let names: [String] = Self.table.keys.sorted()

    /// How many arguments the function takes.
    var arity: ClosedRange<Int> {
        switch self {
        case .payload: 0...1
        case .productKey: 0...0
        case .getOrNull: 1...64
        case .toBoolean, .toNumber, .toString, .toMap, .toArray, .toBinary: 1...1
        case .formatDate, .toTimestamp: 2...3
        case .rule(let function): function.arity
        case .forward(let forwarding): forwarding.arity
        }
    }

    /// The spelling of a call with its parameter names, for messages.
    var signature: String {
        switch self {
        case .payload: "payload(format), format one of 'json', 'binary', 'text'"
        case .productKey: "productKey()"
        case .getOrNull: "getOrNull(object, key, …)"
        case .toBoolean: "toBoolean(value)"
        case .toNumber: "toNumber(value)"
        case .toString: "toString(value)"
        case .toMap: "toMap(value)"
        case .toArray: "toArray(value)"
        case .toBinary: "toBinary(value)"
        case .formatDate: "format_date(timestamp, pattern, timeZone)"
        case .toTimestamp: "to_timestamp(dateString, pattern, timeZone)"
        case .rule(let function): function.signature
        case .forward(let forwarding): forwarding.signature
        }
    }
}

/// A forwarding function: its name, the kind of destination it writes to, and its parameters.
struct ScriptForwarding: Sendable, Hashable {
    /// How the arguments after the destination ID are laid out.
    enum Shape: Sendable, Hashable {
        /// `(destinationId, payload, tag?)`: `writeAmqp`, as documented.
        case payloadAndTag
        /// `(destinationId, topic, payload)`: `writeIotTopic`, as community scripts call it.
        case topicAndPayload
        /// `(destinationId, timestamp, metric, value, tags)`: `writeTsdb`, as the GetParser API example calls it.
        case timeSeries
        /// A function whose parameters no documentation we could read gives: `(destinationId, payload)` or
        /// `(destinationId, payload, tag)` as before, and more arguments recorded as they are.
        case undocumented
    }

    /// The function name, e.g. `writeAmqp`.
    var name: String
    /// The destination kind it writes to.
    var kind: ForwardingKind
    /// Its parameters.
    var shape: Shape

    /// The forwarding functions (docs/parser-script-reference.md). `writeAmqp` and `writeTsdb` have documented
    /// argument lists, `writeIotTopic` a community-confirmed one; the others are named by the platform's
    /// destination pages but their argument lists were not in any copy we could read, so they accept a
    /// destination ID and one or more arguments (README, open questions).
    static let all: [ScriptForwarding] = [
        ScriptForwarding(name: "writeAmqp", kind: .amqp, shape: .payloadAndTag),
        ScriptForwarding(name: "writeIotTopic", kind: .republish, shape: .topicAndPayload),
        ScriptForwarding(name: "writeTsdb", kind: .tsdb, shape: .timeSeries),
        ScriptForwarding(name: "writeMq", kind: .ons, shape: .undocumented),
        ScriptForwarding(name: "writeMns", kind: .mns, shape: .undocumented),
        ScriptForwarding(name: "writeFc", kind: .fc, shape: .undocumented),
        ScriptForwarding(name: "writeTableStore", kind: .ots, shape: .undocumented),
        ScriptForwarding(name: "writeDatahub", kind: .datahub, shape: .undocumented),
        ScriptForwarding(name: "writeRds", kind: .rds, shape: .undocumented),
        ScriptForwarding(name: "writePolarDB", kind: .rds, shape: .undocumented),
        ScriptForwarding(name: "writeLindorm", kind: .lindorm, shape: .undocumented),
    ]

    /// The most arguments an undocumented forwarding function accepts: enough for any data-point shape.
    static let maximumUndocumentedArguments = 8

    /// How many arguments the function takes.
    var arity: ClosedRange<Int> {
        switch self.shape {
        case .payloadAndTag: 2...3
        case .topicAndPayload: 3...3
        case .timeSeries: 5...5
        case .undocumented: 2...Self.maximumUndocumentedArguments
        }
    }

    /// The spelling of a call with its parameter names.
    var signature: String {
        switch self.shape {
        case .payloadAndTag: "\(self.name)(destinationId, payload, tag)"
        case .topicAndPayload: "\(self.name)(destinationId, topic, payload)"
        case .timeSeries: "\(self.name)(destinationId, timestamp, metric, value, tags)"
        case .undocumented: "\(self.name)(destinationId, payload, …)"
        }
    }
}
