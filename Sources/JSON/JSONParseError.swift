//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A failure to parse JSON text: a stable `code` to switch on, a message that says what is wrong, and where (the
/// byte offset). The message names the offending construct, never the text around it, so a payload's content
/// (which may hold a device's secret) does not leak into logs.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added, so `switch` over it with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unexpectedEnd = "unexpected-end"
            case unexpectedCharacter = "unexpected-character"
            case invalidNumber = "invalid-number"
            case invalidString = "invalid-string"
            case tooDeep = "too-deep"
            case trailingData = "trailing-data"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a short, stable string (for logs and reports), e.g. `unexpected-end`.
        public var description: String { self.base.rawValue }
        /// The code as a short, stable string; the same as ``description``.
        public var rawValue: String { self.base.rawValue }

        /// The input ended inside a value.
        public static let unexpectedEnd = Code(.unexpectedEnd)
        /// A byte that cannot start or continue a value here.
        public static let unexpectedCharacter = Code(.unexpectedCharacter)
        /// A malformed number.
        public static let invalidNumber = Code(.invalidNumber)
        /// A malformed string: a control character, a bad escape or invalid UTF-8.
        public static let invalidString = Code(.invalidString)
        /// Containers nested deeper than the parser's limit.
        public static let tooDeep = Code(.tooDeep)
        /// Something other than white space after the value.
        public static let trailingData = Code(.trailingData)
    }

    /// What kind of failure this is.
    public var code: Code
    /// What is wrong, in one line, e.g. "expected ',' or '}' after an object member".
    public var message: String
    /// The byte offset in the input where the problem was found (0-based).
    public var offset: Int

    /// Creates an error.
    public init(code: Code, message: String, offset: Int) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    /// Creates an error, in the argument order of the other errors of this project (``code``, message, context).
    public init(_ code: Code, _ message: String, offset: Int) {
        self.init(code: code, message: message, offset: offset)
    }

    /// `"<message> at byte <offset>"`, e.g. what `payload('json')` prints after "the payload is not JSON: ".
    public var description: String {
        "\(self.message) at byte \(self.offset)"
    }
}
