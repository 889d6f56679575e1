//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// Small accessors over `JSONSerialization` output, which types numbers loosely.
enum JSON {
    /// The value at a path of object keys.
    static func path(_ object: Any?, _ keys: String...) -> Any? {
        var current = object
        for key in keys {
            current = (current as? [String: Any])?[key]
        }
        return current
    }

    /// An array of objects at a path, or empty.
    static func objects(_ object: Any?, _ keys: String...) -> [[String: Any]] {
        var current = object
        for key in keys {
            current = (current as? [String: Any])?[key]
        }
        return current as? [[String: Any]] ?? []
    }

    /// A string, also from a number (rule and destination IDs are numbers in the API).
    static func string(_ value: Any?) -> String? {
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }

    /// An integer, also from a numeric string.
    static func int(_ value: Any?) -> Int? {
        switch value {
        case let number as NSNumber: return number.intValue
        case let text as String: return Int(text)
        default: return nil
        }
    }

    /// A boolean, also from `"true"`.
    static func bool(_ value: Any?) -> Bool {
        switch value {
        case let flag as Bool: return flag
        case let text as String: return text.lowercased() == "true"
        case let number as NSNumber: return number.boolValue
        default: return false
        }
    }
}
