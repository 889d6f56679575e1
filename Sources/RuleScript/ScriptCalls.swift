//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

// Calls of built-in functions. The arity was checked at compile time.

extension ScriptInterpreter {
    mutating func call(_ call: ScriptCall) throws(Diagnostic) -> JSONValue {
        switch call.builtin {
        case .payload:
            return try self.payload(call)
        case .productKey:
            return .string(self.message.productKey)
        case .rule(.deviceName):
            return .string(self.message.deviceName)
        case .getOrNull:
            var value = try self.evaluate(call.arguments[0])
            for argument in call.arguments.dropFirst() {
                let key = try self.evaluate(argument)
                value = ScriptConversions.child(of: value, key: key)
                if case .null = value { return .null }
            }
            return value
        case .toBoolean, .toNumber, .toString, .toMap, .toArray, .toBinary:
            let value = try self.evaluate(call.arguments[0])
            do {
                try ScriptValues.checkText(value, maximumStringBytes: self.limits.maximumStringBytes)
                return try ScriptConversions.convert(call.builtin, value)
            } catch {
                throw self.error(.type, "\(call.name)(): \(error.message)", at: call.argumentRanges[0])
            }
        case .formatDate, .toTimestamp:
            var arguments: [JSONValue] = []
            for argument in call.arguments {
                arguments.append(try self.evaluate(argument))
            }
            do {
                if call.builtin == .formatDate {
                    return try ScriptDates.formatDate(arguments)
                }
                return try ScriptDates.toTimestamp(arguments)
            } catch {
                let range = error.argument.map { call.argumentRanges[$0] } ?? call.range
                throw self.error(error.code, "\(call.name)(): \(error.message)", at: range)
            }
        case .rule(let function):
            var arguments: [JSONValue] = []
            arguments.reserveCapacity(call.arguments.count)
            for (position, argument) in call.arguments.enumerated() {
                let value = try self.evaluate(argument)
                do {
                    try ScriptValues.checkText(value, maximumStringBytes: self.limits.maximumStringBytes)
                } catch {
                    throw self.error(.type, "\(call.name)(): \(error.message)", at: call.argumentRanges[position])
                }
                arguments.append(value)
            }
            do {
                return try function.invoke(arguments, context: self.message)
            } catch {
                throw self.error(error.code, error.message, at: call.range)
            }
        case .forward(let forwarding):
            try self.forward(forwarding, call)
            return .null
        }
    }

    /// `payload()`: the text; `payload('json')`: the parsed JSON (parsed once per run); `payload('binary')`:
    /// the bytes; the rule SQL's encodings (`'base64'`, `'hex'`, …) otherwise.
    private mutating func payload(_ call: ScriptCall) throws(Diagnostic) -> JSONValue {
        let format: String
        if let argument = call.arguments.first {
            let value = try self.evaluate(argument)
            guard case .string(let text) = value else {
                throw self.error(
                    .type,
                    "payload(format) takes a string ('json', 'binary' or 'text'), got \(value.typeName)",
                    at: call.argumentRanges[0]
                )
            }
            format = text.lowercased()
        } else {
            format = "text"
        }
        switch format {
        case "json":
            if let parsed = self.parsedPayload { return parsed }
            do {
                let parsed = try self.message.jsonPayload()
                self.parsedPayload = parsed
                return parsed
            } catch {
                throw self.error(.input, "payload('json'): the payload is not JSON: \(error)", at: call.range)
            }
        case "binary":
            return .binary(self.message.payload)
        case "text", "string", "utf-8", "utf8":
            return .string(String(decoding: self.message.payload, as: UTF8.self))
        default:
            do {
                return try RuleFunction.payload.invoke([.string(format)], context: self.message)
            } catch {
                let known = ["json", "binary", "text"] + ["utf-8", "ascii", "latin1", "base64", "hex"]
                throw self.error(
                    .type,
                    "payload(format): unknown format '\(format)'" + Suggestion.didYouMean(format, among: known)
                        + " (known: \(known.joined(separator: ", ")))",
                    at: call.argumentRanges[0]
                )
            }
        }
    }

    /// The tag argument of `writeAmqp` (and of an undocumented `write…` called with three arguments): a string,
    /// a number or boolean spelled as text, or `null` for none.
    private mutating func tag(_ call: ScriptCall, argument: Int) throws(Diagnostic) -> String? {
        let tag = try self.evaluate(call.arguments[argument])
        switch tag {
        case .null: return nil
        case .string(let text): return text
        case .int, .double, .bool: return ScriptValues.text(tag)
        default:
            throw self.error(
                .type,
                "the tag of \(call.name)() must be a string, got \(tag.typeName)",
                at: call.argumentRanges[argument]
            )
        }
    }

    /// Records a forwarding call; nothing is sent from here.
    private mutating func forward(_ forwarding: ScriptForwarding, _ call: ScriptCall) throws(Diagnostic) {
        guard self.calls.count < self.limits.maximumForwardingCalls else {
            throw self.error(
                .limit,
                "more than \(self.limits.maximumForwardingCalls) forwarding calls in one run (the platform's limit)",
                at: call.range
            )
        }
        let destination = try self.evaluate(call.arguments[0])
        guard let destinationId = ScriptValues.destinationId(destination) else {
            throw self.error(
                .type,
                "the destination ID of \(call.name)() must be a whole number, got \(destination.typeName) "
                    + ScriptValues.preview(destination),
                at: call.argumentRanges[0]
            )
        }
        var record = ForwardingCall(
            destinationId: destinationId,
            function: forwarding.name,
            kind: forwarding.kind,
            payload: .null,
            location: call.range.start
        )
        var payloadArgument = 1
        switch forwarding.shape {
        case .payloadAndTag:
            record.payload = try self.evaluate(call.arguments[1])
            if call.arguments.count > 2 {
                record.tag = try self.tag(call, argument: 2)
            }
        case .topicAndPayload:
            let topic = try self.evaluate(call.arguments[1])
            guard case .string(let text) = topic, text.hasPrefix("/") else {
                throw self.error(
                    .type,
                    "the topic of \(call.name)() must be a string starting with '/', got "
                        + ScriptValues.preview(topic),
                    at: call.argumentRanges[1]
                )
            }
            record.topic = text
            record.payload = try self.evaluate(call.arguments[2])
            payloadArgument = 2
        case .timeSeries:
            // One data point, named as TSDB's write API names its fields.
            var point = JSONObject(minimumCapacity: 4)
            point["timestamp"] = try self.evaluate(call.arguments[1])
            point["metric"] = try self.evaluate(call.arguments[2])
            point["value"] = try self.evaluate(call.arguments[3])
            point["tags"] = try self.evaluate(call.arguments[4])
            record.payload = .object(point)
        case .undocumented:
            record.payload = try self.evaluate(call.arguments[1])
            if call.arguments.count == 3 {
                record.tag = try self.tag(call, argument: 2)
            } else if call.arguments.count > 3 {
                // Parameters we cannot name: every argument after the destination ID, in order, and no
                // payload, since which of them is the data is not documented.
                var arguments = [record.payload]
                for argument in call.arguments.dropFirst(2) {
                    arguments.append(try self.evaluate(argument))
                }
                record.arguments = arguments
                record.payload = .null
            }
        }
        let forwarded = record.arguments.map(JSONValue.array) ?? record.payload
        guard ScriptValues.isWithin(forwarded, bytes: self.limits.maximumValueBytes) else {
            throw self.error(
                .limit,
                "the payload of \(call.name)() is larger than \(self.limits.maximumValueBytes) bytes",
                at: forwarding.shape == .timeSeries ? call.range : call.argumentRanges[payloadArgument]
            )
        }
        self.calls.append(record)
    }
}
