//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// `concat`, `endswith`, `lower`, `upper`, `replace`, `substring` and `nanvl`.
enum StringFunctions {
    static func invoke(_ function: RuleFunction, _ arguments: [JSONValue]) throws(RuleFunctionError) -> JSONValue {
        switch function {
        case .concat:
            var result = ""
            for (position, argument) in arguments.enumerated() where !argument.isNull {
                result += try Arguments.text(argument, function, position + 1)
            }
            return .string(result)
        case .endswith:
            if arguments[0].isNull { return .bool(false) }
            let input = try Arguments.text(arguments[0], function, 1)
            let suffix = try Arguments.text(arguments[1], function, 2)
            return .bool(input.hasSuffix(suffix))
        case .lower:
            if arguments[0].isNull { return .null }
            return .string(try Arguments.text(arguments[0], function, 1).lowercased())
        case .upper:
            if arguments[0].isNull { return .null }
            return .string(try Arguments.text(arguments[0], function, 1).uppercased())
        case .replace:
            if arguments[0].isNull { return .null }
            let source = try Arguments.text(arguments[0], function, 1)
            let target = try Arguments.text(arguments[1], function, 2)
            let replacement = try Arguments.text(arguments[2], function, 3)
            guard !target.isEmpty else { return .string(source) }
            return .string(source.replacing(target, with: replacement))
        case .substring:
            return try Self.substring(arguments)
        case .nanvl:
            if arguments[0].isNull { return arguments[1] }
            if case .double(let value) = arguments[0], value.isNaN { return arguments[1] }
            return arguments[0]
        default:
            preconditionFailure("\(function) is not a string function")
        }
    }

    /// `substring(target, start[, end])` as the platform's table documents it: the target may be a string
    /// or a number (as text) but not a boolean; `start` and `end` are truncated toward zero and clamped to
    /// the string; `end <= start` gives `""`. Indices count characters.
    static func substring(_ arguments: [JSONValue]) throws(RuleFunctionError) -> JSONValue {
        let target: String
        switch arguments[0] {
        case .string(let text): target = text
        case .int, .double: target = arguments[0].jsonString()
        case .null: return .null
        default: throw Arguments.typeError(.substring, 1, "a string or a number", arguments[0])
        }
        let characters = Array(target)
        let start = try Self.index(arguments[1], position: 2, count: characters.count)
        let end =
            arguments.count == 3 ? try Self.index(arguments[2], position: 3, count: characters.count) : characters.count
        guard end > start else { return .string("") }
        return .string(String(characters[start..<end]))
    }

    private static func index(_ value: JSONValue, position: Int, count: Int) throws(RuleFunctionError) -> Int {
        let number: Double
        switch value {
        case .int(let integer): number = Double(integer)
        case .double(let double): number = double
        default: throw Arguments.typeError(.substring, position, "a number", value)
        }
        guard number.isFinite else { throw Arguments.typeError(.substring, position, "a finite number", value) }
        let truncated = number.rounded(.towardZero)
        if truncated <= 0 { return 0 }
        if truncated >= Double(count) { return count }
        return Int(truncated)
    }
}
