//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL
import RuleScript
import Testing

/// Shared inputs and helpers of the parser-script tests.
enum ScriptTestSupport {
    /// A property post of the kind the reference shows (§4.3 example 2), with a key starting with a digit.
    static let propertyPost = #"""
        {"deviceType":"TemperatureHumidityDetector","iotId":"N5KURkKdibnZvSls****000100","productKey":"a15NNfl****",\#
        "gmtCreate":1564569974224,"deviceName":"N5KURkKdibnZvSls3Yfx","items":{"CurrentHumidity":{"value":70,\#
        "time":1564569974229},"CurrentTemperature":{"value":23.5,"time":1564569974229},"2Co":{"value":5}},\#
        "list":[1,2,3],"name":"sensor"}
        """#

    /// The topic the property post arrives on.
    static let propertyTopic = "/sys/a15NNfl****/N5KURkKdibnZvSls3Yfx/thing/event/property/post"

    /// A message with a fixed clock (2018-11-28T02:56:38.943Z).
    static func message(
        topic: String = Self.propertyTopic,
        payload: String = Self.propertyPost,
        messageId: String = "m-1"
    ) -> MessageContext {
        MessageContext(topic: topic, payload: payload, messageId: messageId, now: 1_543_373_798_943)
    }

    /// Compiles and runs a script.
    static func run(
        _ script: String,
        topic: String = Self.propertyTopic,
        payload: String = Self.propertyPost,
        limits: RuleScriptLimits = RuleScriptLimits()
    ) throws -> [ForwardingCall] {
        let compiled = try RuleScript.compile(script, file: "test.js", limits: limits)
        return try compiled.run(Self.message(topic: topic, payload: payload))
    }

    /// The value of one expression, evaluated after `var data = payload('json');`.
    static func value(
        _ expression: String, prelude: String = "", payload: String = Self.propertyPost
    ) throws
        -> JSONValue
    {
        let calls = try Self.run(
            "var data = payload('json');\n\(prelude)\nwriteAmqp(1, \(expression));",
            payload: payload
        )
        return calls.first?.payload ?? .null
    }

    /// The diagnostic compiling or running a script throws, or `nil` (recorded as an issue) when it succeeds.
    static func diagnostic(
        _ script: String,
        payload: String = Self.propertyPost,
        limits: RuleScriptLimits = RuleScriptLimits(),
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> Diagnostic? {
        do {
            let compiled = try RuleScript.compile(script, file: "test.js", limits: limits)
            _ = try compiled.run(Self.message(payload: payload))
            Issue.record("expected an error from: \(script)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }
}
