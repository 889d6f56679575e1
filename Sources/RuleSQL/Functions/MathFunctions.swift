//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// `abs`, `asin`, `cos`, `cosh`, `exp`, `floor`, `log`, `mod`, `power`, `rand`, `sin`, `sinh`, `tan`, `tanh`.
///
/// Integers stay integers where the operation allows it (`abs`, `mod`, `floor`, `power` of integers); the
/// trigonometric and exponential functions return doubles. `log(n)` is the base-10 logarithm and `log(n, m)`
/// the logarithm of `n` to base `m`, as the current English and Japanese function lists say (the 2020
/// Chinese list said "natural logarithm").
enum MathFunctions {
    static func invoke(_ function: RuleFunction, _ arguments: [JSONValue]) throws(RuleFunctionError) -> JSONValue {
        switch function {
        case .rand:
            return .double(Double.random(in: 0..<1))
        case .abs:
            if case .int(let value) = arguments[0], value != Int.min { return .int(Swift.abs(value)) }
            return .double(Swift.abs(try Arguments.number(arguments[0], function, 1)))
        case .floor:
            if case .int = arguments[0] { return arguments[0] }
            return Arguments.integralIfExact(Foundation.floor(try Arguments.number(arguments[0], function, 1)))
        case .mod:
            if case .int(let n) = arguments[0], case .int(let m) = arguments[1] {
                guard m != 0 else { throw RuleFunctionError(code: .runtime, message: "mod(n, m) with m = 0") }
                return .int(n == Int.min && m == -1 ? 0 : n % m)
            }
            let n = try Arguments.number(arguments[0], function, 1)
            let m = try Arguments.number(arguments[1], function, 2)
            guard m != 0 else { throw RuleFunctionError(code: .runtime, message: "mod(n, m) with m = 0") }
            return .double(fmod(n, m))
        case .power:
            let n = try Arguments.number(arguments[0], function, 1)
            let m = try Arguments.number(arguments[1], function, 2)
            let result = pow(n, m)
            if case .int = arguments[0], case .int(let exponent) = arguments[1], exponent >= 0 {
                return Arguments.integralIfExact(result)
            }
            return .double(result)
        case .log:
            let n = try Arguments.number(arguments[0], function, 1)
            guard arguments.count == 2 else { return .double(log10(n)) }
            let base = try Arguments.number(arguments[1], function, 2)
            return .double(Foundation.log(n) / Foundation.log(base))
        default:
            let x = try Arguments.number(arguments[0], function, 1)
            switch function {
            case .asin: return .double(Foundation.asin(x))
            case .cos: return .double(Foundation.cos(x))
            case .cosh: return .double(Foundation.cosh(x))
            case .exp: return .double(Foundation.exp(x))
            case .sin: return .double(Foundation.sin(x))
            case .sinh: return .double(Foundation.sinh(x))
            case .tan: return .double(Foundation.tan(x))
            case .tanh: return .double(Foundation.tanh(x))
            default: preconditionFailure("\(function) is not a math function")
            }
        }
    }
}
