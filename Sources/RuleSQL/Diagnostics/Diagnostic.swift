//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A position in a source text: 1-based line and column (columns count characters), plus the UTF-8 offset.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 1-based line.
    public var line: Int
    /// The 1-based column, in characters.
    public var column: Int
    /// The 0-based UTF-8 byte offset from the start of the text.
    public var offset: Int

    /// Creates a location.
    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// `"line:column"`.
    public var description: String {
        "\(self.line):\(self.column)"
    }

    /// Orders by offset.
    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        lhs.offset < rhs.offset
    }
}

/// A half-open span of a source text.
public struct SourceRange: Sendable, Hashable {
    /// The first character.
    public var start: SourceLocation
    /// Just past the last character.
    public var end: SourceLocation

    /// Creates a range.
    public init(start: SourceLocation, end: SourceLocation) {
        self.start = start
        self.end = end
    }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(start: min(self.start, other.start), end: max(self.end, other.end))
    }
}

/// One problem found in a rule: where it is, what it is, and the line it is on with a caret under it.
///
/// It is also the error every rule API throws, so a caller can print it as is:
///
/// ```
/// rules/hot.yaml:3:28: error: unknown function 'devicename'; did you mean 'deviceName'?
///   sql: SELECT devicename() AS dn FROM "/sys/+/+/thing/event/property/post"
///                            ^
/// ```
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// How serious the problem is.
    public enum Severity: String, Sendable, Hashable {
        /// The rule cannot be used.
        case error
        /// The rule works but probably not as meant.
        case warning
        /// Extra information attached to another diagnostic.
        case note
    }

    /// The kind of problem; an open set of named codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name, e.g. `"syntax"`.
        public let rawValue: String

        /// Creates a code; other modules (the script language, rule files) add their own.
        public init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        /// The text does not follow the grammar.
        public static let syntax = Code("syntax")
        /// A function that does not exist.
        public static let unknownFunction = Code("unknown-function")
        /// A function called with the wrong number of arguments.
        public static let arity = Code("arity")
        /// A value of the wrong type for an operation or function.
        public static let type = Code("type")
        /// A field path that the payload does not have.
        public static let unknownField = Code("unknown-field")
        /// A documented limit of the platform was exceeded (fields, size, calls).
        public static let limit = Code("limit")
        /// A construct the rule's data type does not allow (BINARY rules).
        public static let binaryRule = Code("binary-rule")
        /// The FROM topic filter is malformed.
        public static let topic = Code("topic")
        /// A function failed while the rule ran.
        public static let runtime = Code("runtime")
        /// The rule file itself (YAML, keys, destinations) is wrong.
        public static let ruleFile = Code("rule-file")
        /// The input message cannot be used (for example, its payload is not JSON).
        public static let input = Code("input")

        /// The code's name.
        public var description: String { self.rawValue }
    }

    /// The kind of problem.
    public var code: Code
    /// How serious it is.
    public var severity: Severity
    /// One line saying what is wrong, with a suggestion when there is one.
    public var message: String
    /// The file (or a label such as `<sql>`) the source came from.
    public var file: String
    /// Where the problem starts.
    public var location: SourceLocation
    /// The text of the line the problem is on, without its line break; empty when unknown.
    public var sourceLine: String
    /// How many characters the caret line underlines (at least 1).
    public var length: Int

    /// Creates a diagnostic.
    public init(
        code: Code,
        severity: Severity = .error,
        message: String,
        file: String,
        location: SourceLocation,
        sourceLine: String,
        length: Int = 1
    ) {
        self.code = code
        self.severity = severity
        self.message = message
        self.file = file
        self.location = location
        self.sourceLine = sourceLine
        self.length = max(1, length)
    }

    /// `file:line:col: severity: message`, the first line of the rendering.
    public var headline: String {
        "\(self.file):\(self.location.line):\(self.location.column): \(self.severity.rawValue): \(self.message)"
    }

    /// The headline, the source line and a caret under the column (the caret line is omitted when the
    /// source line is unknown).
    public var description: String {
        guard !self.sourceLine.isEmpty else { return self.headline }
        let column = max(1, self.location.column)
        // Keep tabs in the caret line, so the caret stays under the right character in a terminal.
        var pad = ""
        for (position, character) in self.sourceLine.enumerated() where position < column - 1 {
            pad.append(character == "\t" ? "\t" : " ")
        }
        let available = max(1, self.sourceLine.count - (column - 1))
        let marks = "^" + String(repeating: "~", count: max(0, min(self.length, available) - 1))
        return "\(self.headline)\n    \(self.sourceLine)\n    \(pad)\(marks)"
    }
}

/// A failure of a rule function, before the caller attaches a source location.
///
/// ``RuleFunctions/call(name:arguments:context:)`` throws it; the SQL evaluator and the script language
/// turn it into a ``Diagnostic`` at the call's position.
public struct RuleFunctionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, one of the ``Diagnostic/Code`` values (`unknownFunction`, `arity`, `type`,
    /// `runtime`).
    public var code: Diagnostic.Code
    /// One line saying what is wrong.
    public var message: String

    /// Creates an error.
    public init(code: Diagnostic.Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String {
        self.message
    }
}
