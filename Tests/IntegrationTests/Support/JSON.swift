//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A parsed JSON value, Sendable so peer events can cross tasks. The peers and the CLI print one object per line.
enum JSON: Sendable, Equatable, Decodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    /// Parses one line; nil unless it is valid JSON.
    init?(parsing line: String) {
        guard let value = try? JSONDecoder().decode(JSON.self, from: Data(line.utf8)) else { return nil }
        self = value
    }

    /// A member of an object.
    subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The value if it is a string.
    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value if it is an integral number.
    var int: Int? {
        if case .number(let number) = self, number.rounded() == number { return Int(number) }
        return nil
    }

    /// The value if it is an integral number, as Int64 (epoch milliseconds).
    var int64: Int64? { self.int.map(Int64.init) }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .number(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .array(let values): return "[" + values.map(\.description).joined(separator: ",") + "]"
        case .object(let object):
            return "{" + object.keys.sorted().map { "\"\($0)\":\(object[$0]!)" }.joined(separator: ",") + "}"
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Bool first: JSONDecoder refuses to read a number as a Bool and a Bool as a number, so the order is exact.
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }
}
