//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A simple AMQP value, as carried in application properties and `amqp-value` bodies.
public enum AMQPValue: Sendable, Hashable, CustomStringConvertible {
    /// `null`.
    case null
    /// `boolean`.
    case bool(Bool)
    /// `int` (32-bit signed).
    case int(Int32)
    /// `long` (64-bit signed). The platform's `generateTime` arrives as a long.
    case long(Int64)
    /// `ulong` (64-bit unsigned).
    case ulong(UInt64)
    /// `double`.
    case double(Double)
    /// `timestamp`, milliseconds since the Unix epoch.
    case timestamp(Int64)
    /// `string` (UTF-8).
    case string(String)
    /// `binary`.
    case binary([UInt8])
    /// `symbol`.
    case symbol(String)
    /// `uuid`, as its 16 bytes.
    case uuid([UInt8])
    /// Any other AMQP type; the payload names it (e.g. `"map"`) so nothing is silently dropped.
    case unsupported(String)

    /// The value as text if it is a string or symbol.
    public var stringValue: String? {
        switch self {
        case .string(let s), .symbol(let s): return s
        default: return nil
        }
    }

    /// The value as a 64-bit integer if it is any integer or a timestamp (the platform is not strict about
    /// whether `generateTime` is an int, a long or a string of digits).
    public var int64Value: Int64? {
        switch self {
        case .int(let v): return Int64(v)
        case .long(let v), .timestamp(let v): return v
        case .ulong(let v): return Int64(exactly: v)
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let v): return String(v)
        case .int(let v): return String(v)
        case .long(let v): return String(v)
        case .ulong(let v): return String(v)
        case .double(let v): return String(v)
        case .timestamp(let v): return "timestamp(\(v))"
        case .string(let v): return v
        case .binary(let v): return "binary(\(v.count) bytes)"
        case .symbol(let v): return v
        case .uuid(let v): return "uuid(\(v.map { String($0, radix: 16) }.joined()))"
        case .unsupported(let type): return "<\(type)>"
        }
    }
}
