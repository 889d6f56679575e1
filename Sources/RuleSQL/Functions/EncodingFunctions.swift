//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Crypto

/// `crypto(field, algorithm)`, `to_base64(*)` and `to_hex(*)`.
///
/// `crypto` hashes the UTF-8 text of the field (or the bytes of a binary value) and returns the digest as
/// lower-case hex. `to_base64` and `to_hex` encode the bytes of their argument: the payload for `*`, the
/// UTF-8 text of a string otherwise.
enum EncodingFunctions {
    /// The algorithms `crypto` accepts, as the function list spells them.
    static let algorithms = ["MD2", "MD5", "SHA1", "SHA-256", "SHA-384", "SHA-512"]

    static func invoke(_ function: RuleFunction, _ arguments: [JSONValue]) throws(RuleFunctionError) -> JSONValue {
        switch function {
        case .crypto:
            if arguments[0].isNull { return .null }
            let bytes = try Self.bytes(arguments[0], function, 1)
            let algorithm = try Arguments.text(arguments[1], function, 2)
            return .string(try Self.digest(bytes, algorithm: algorithm))
        case .toBase64:
            return .string(Base64.encode(try Self.bytes(arguments[0], function, 1)))
        case .toHex:
            return .string(Self.hex(try Self.bytes(arguments[0], function, 1)))
        default:
            preconditionFailure("\(function) is not an encoding function")
        }
    }

    static func bytes(
        _ value: JSONValue,
        _ function: RuleFunction,
        _ position: Int
    ) throws(RuleFunctionError)
        -> [UInt8]
    {
        switch value {
        case .binary(let bytes): return bytes
        case .string(let text): return Array(text.utf8)
        case .int, .double, .bool, .object, .array: return value.jsonBytes()
        case .null: throw Arguments.typeError(function, position, "a value", value)
        }
    }

    /// The lower-case hex digest of `bytes`.
    static func digest(_ bytes: [UInt8], algorithm: String) throws(RuleFunctionError) -> String {
        let normalized = String(algorithm.uppercased().map { $0 == "_" ? "-" : $0 })
        switch normalized {
        case "MD2": return Self.hex(MD2.hash(bytes))
        case "MD5": return Self.hex(Array(Insecure.MD5.hash(data: bytes)))
        case "SHA1", "SHA-1": return Self.hex(Array(Insecure.SHA1.hash(data: bytes)))
        case "SHA-256", "SHA256": return Self.hex(Array(SHA256.hash(data: bytes)))
        case "SHA-384", "SHA384": return Self.hex(Array(SHA384.hash(data: bytes)))
        case "SHA-512", "SHA512": return Self.hex(Array(SHA512.hash(data: bytes)))
        default:
            throw RuleFunctionError(
                code: .type,
                message: "crypto(field, algorithm): unknown algorithm '\(algorithm)'"
                    + Suggestion.didYouMean(algorithm, among: Self.algorithms)
                    + " (known: \(Self.algorithms.joined(separator: ", ")))"
            )
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes`.
    static func hex(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(Self.hexDigits[Int(byte >> 4)])
            output.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
