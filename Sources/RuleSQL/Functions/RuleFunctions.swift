//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The built-in functions of the rule SQL (reference §4.2), callable by name.
///
/// The SQL compiler resolves names to ``RuleFunction`` once; the parser-script language calls
/// ``call(name:arguments:context:)`` so both dialects share one implementation of every function.
public enum RuleFunctions {
    /// Every function name, as the platform spells it.
    public static let names: [String] = RuleFunction.allCases.map(\.rawValue)

    /// Resolves a function name: exact spelling first, then ignoring case (SQL function names are
    /// case-insensitive); `nil` when there is no such function.
    public static func function(named name: String) -> RuleFunction? {
        if let exact = RuleFunction(rawValue: name) { return exact }
        let lowered = name.lowercased()
        return RuleFunction.allCases.first { $0.rawValue.lowercased() == lowered }
    }

    /// Calls a function by name with already-evaluated arguments.
    ///
    /// Functions that read the message (`deviceName()`, `topic(n)`, `payload()`, `timestamp()`,
    /// `attribute(key)`, `thingPropertyFlatMap`) read `context`. `to_base64(*)` and `to_hex(*)` take the
    /// payload as a `.binary` argument: the SQL evaluator passes it for `*`.
    ///
    /// - Throws: ``RuleFunctionError`` with code `unknown-function` (with a suggestion), `arity`, `type` or
    ///   `runtime`.
    public static func call(
        name: String,
        arguments: [JSONValue],
        context: MessageContext
    ) throws(RuleFunctionError) -> JSONValue {
        guard let function = Self.function(named: name) else {
            throw RuleFunctionError(
                code: .unknownFunction,
                message: "unknown function '\(name)'" + Suggestion.didYouMean(name, among: Self.names)
            )
        }
        try function.checkArity(arguments.count)
        return try function.invoke(arguments, context: context)
    }
}

/// One built-in function of the rule SQL.
public enum RuleFunction: String, Sendable, CaseIterable {
    /// `abs(number)`: the absolute value.
    case abs
    /// `asin(number)`: the arcsine.
    case asin
    /// `attribute(key)`: a device tag.
    case attribute
    /// `concat(string1, string2)`: the strings joined.
    case concat
    /// `cos(number)`: the cosine.
    case cos
    /// `cosh(number)`: the hyperbolic cosine.
    case cosh
    /// `crypto(field, algorithm)`: a hex digest (MD2, MD5, SHA1, SHA-256, SHA-384, SHA-512).
    case crypto
    /// `deviceName()`: the device name.
    case deviceName
    /// `endswith(input, suffix)`: whether the input ends with the suffix.
    case endswith
    /// `exp(number)`: e raised to the number.
    case exp
    /// `floor(number)`: the largest integer not above the number.
    case floor
    /// `log(n, m)`: the logarithm of n to base m (base 10 without m).
    case log
    /// `lower(string)`: lower case.
    case lower
    /// `mod(n, m)`: the remainder of n / m.
    case mod
    /// `nanvl(value, default)`: the value, or the default when it is null.
    case nanvl
    /// `newuuid()`: a random UUID.
    case newuuid
    /// `payload(textEncoding)`: the payload as text (or JSON, binary, base64, hex).
    case payload
    /// `power(n, m)`: n to the power m.
    case power
    /// `rand()`: a random number in [0, 1).
    case rand
    /// `replace(source, substring, replacement)`: every occurrence replaced.
    case replace
    /// `sin(number)`: the sine.
    case sin
    /// `sinh(number)`: the hyperbolic sine.
    case sinh
    /// `tan(number)`: the tangent.
    case tan
    /// `tanh(number)`: the hyperbolic tangent.
    case tanh
    /// `thingPropertyFlatMap(property...)`: TSL properties flattened.
    case thingPropertyFlatMap
    /// `timestamp(format)`: now, in epoch ms or formatted in GMT+8.
    case timestamp
    /// `timestamp_utc(format)`: now, formatted in UTC.
    case timestampUTC = "timestamp_utc"
    /// `topic(number)`: the topic, or one of its levels.
    case topic
    /// `upper(string)`: upper case.
    case upper
    /// `to_base64(*)`: the payload (or a value) in base64.
    case toBase64 = "to_base64"
    /// `messageId()`: the message ID.
    case messageId
    /// `substring(target, start, end)`: part of a string.
    case substring
    /// `to_hex(*)`: the payload (or a value) in hex.
    case toHex = "to_hex"

    /// How many arguments the function takes.
    public var arity: ClosedRange<Int> {
        switch self {
        case .deviceName, .messageId, .newuuid, .rand: 0...0
        case .payload, .timestamp, .timestampUTC, .topic: 0...1
        case .abs, .asin, .attribute, .cos, .cosh, .exp, .floor, .lower, .sin, .sinh, .tan, .tanh, .upper,
            .toBase64, .toHex:
            1...1
        case .log: 1...2
        case .crypto, .endswith, .mod, .nanvl, .power: 2...2
        case .concat: 2...64
        case .substring: 2...3
        case .replace: 3...3
        case .thingPropertyFlatMap: 0...64
        }
    }

    /// `true` for the functions whose argument may be `*` (the whole payload).
    public var acceptsStar: Bool {
        self == .toBase64 || self == .toHex
    }

    /// `true` for functions whose result differs between calls with the same input (`rand`, `newuuid`,
    /// and "now" without a fixed clock).
    public var isVolatile: Bool {
        self == .rand || self == .newuuid
    }

    /// The spelling of a call with its parameter names, for messages: `substring(target, start, end)`.
    public var signature: String {
        switch self {
        case .abs, .asin, .cos, .cosh, .exp, .floor, .sin, .sinh, .tan, .tanh: "\(self.rawValue)(number)"
        case .attribute: "attribute(key)"
        case .concat: "concat(string1, string2)"
        case .crypto: "crypto(field, algorithm)"
        case .deviceName, .messageId, .newuuid, .rand: "\(self.rawValue)()"
        case .endswith: "endswith(input, suffix)"
        case .log: "log(n, m)"
        case .lower, .upper: "\(self.rawValue)(string)"
        case .mod: "mod(n, m)"
        case .nanvl: "nanvl(value, default)"
        case .payload: "payload(textEncoding)"
        case .power: "power(n, m)"
        case .replace: "replace(source, substring, replacement)"
        case .thingPropertyFlatMap: "thingPropertyFlatMap(property...)"
        case .timestamp, .timestampUTC: "\(self.rawValue)(format)"
        case .topic: "topic(number)"
        case .toBase64, .toHex: "\(self.rawValue)(*)"
        case .substring: "substring(target, start, end)"
        }
    }

    /// Throws an `arity` error when `count` arguments do not fit.
    public func checkArity(_ count: Int) throws(RuleFunctionError) {
        guard self.arity.contains(count) else {
            let expected =
                self.arity.lowerBound == self.arity.upperBound
                ? "\(self.arity.lowerBound)"
                : self.arity.upperBound >= 64
                    ? "at least \(self.arity.lowerBound)" : "\(self.arity.lowerBound) to \(self.arity.upperBound)"
            throw RuleFunctionError(
                code: .arity,
                message:
                    "\(self.rawValue)() takes \(expected) argument\(expected == "1" ? "" : "s"), got \(count); "
                    + "usage: \(self.signature)"
            )
        }
    }

    /// Runs the function; the arity has been checked.
    public func invoke(_ arguments: [JSONValue], context: MessageContext) throws(RuleFunctionError) -> JSONValue {
        switch self {
        case .abs, .asin, .cos, .cosh, .exp, .floor, .sin, .sinh, .tan, .tanh, .log, .mod, .power, .rand:
            return try MathFunctions.invoke(self, arguments)
        case .concat, .endswith, .lower, .upper, .replace, .substring, .nanvl:
            return try StringFunctions.invoke(self, arguments)
        case .attribute, .deviceName, .messageId, .newuuid, .payload, .topic, .timestamp, .timestampUTC:
            return try MessageFunctions.invoke(self, arguments, context: context)
        case .crypto, .toBase64, .toHex:
            return try EncodingFunctions.invoke(self, arguments)
        case .thingPropertyFlatMap:
            return try ThingFunctions.flatMap(arguments, context: context)
        }
    }
}

/// Argument checks shared by the function families.
enum Arguments {
    static func number(
        _ value: JSONValue,
        _ function: RuleFunction,
        _ position: Int
    ) throws(RuleFunctionError)
        -> Double
    {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        case .string(let text):
            if let number = Double(text) { return number }
        default: break
        }
        throw Self.typeError(function, position, "a number", value)
    }

    static func text(
        _ value: JSONValue,
        _ function: RuleFunction,
        _ position: Int
    ) throws(RuleFunctionError)
        -> String
    {
        switch value {
        case .string(let text): return text
        case .int, .double: return value.jsonString()
        case .binary(let bytes): return String(decoding: bytes, as: UTF8.self)
        default: throw Self.typeError(function, position, "a string", value)
        }
    }

    static func typeError(
        _ function: RuleFunction,
        _ position: Int,
        _ expected: String,
        _ value: JSONValue
    )
        -> RuleFunctionError
    {
        RuleFunctionError(
            code: .type,
            message: "argument \(position) of \(function.rawValue)() must be \(expected), got \(value.typeName) "
                + "\(Self.preview(value)); usage: \(function.signature)"
        )
    }

    static func preview(_ value: JSONValue) -> String {
        let text = value.jsonString()
        return text.count > 40 ? String(text.prefix(37)) + "..." : text
    }

    /// `value` as an `Int` when it is integral and fits, else as a `Double`.
    static func integralIfExact(_ value: Double) -> JSONValue {
        if value.isFinite, value == value.rounded(), Swift.abs(value) < 9.0e15 {
            return .int(Int(value))
        }
        return .double(value)
    }
}
