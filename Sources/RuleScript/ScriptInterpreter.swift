//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

/// How a statement finished.
enum ScriptCompletion {
    case normal
    case breakLoop
    case continueLoop
    case returnScript
}

/// One run of a compiled script over one message: the variable slots, the step count and the forwarding
/// calls made so far.
///
/// A fresh interpreter serves each message, so runs share nothing and a compiled script can run on any
/// number of threads at once.
struct ScriptInterpreter {
    let source: SourceText
    let limits: RuleScriptLimits
    let message: MessageContext
    var slots: [JSONValue]
    var steps = 0
    var calls: [ForwardingCall] = []
    /// The payload parsed by `payload('json')`, kept for the next call in the same run.
    var parsedPayload: JSONValue?
    /// The loops running, innermost last, with their iteration counts: the step-budget error names the one
    /// that has iterated most, which is the runaway one whether it is an inner or an outer loop.
    var loops: [(range: SourceRange, iterations: Int)] = []
    /// The last field read that was missing, so reading a field of the resulting `null` can suggest the key
    /// that was probably meant.
    var lastMiss: (range: SourceRange, key: String, object: JSONObject)?

    init(source: SourceText, limits: RuleScriptLimits, message: MessageContext, slotCount: Int) {
        self.source = source
        self.limits = limits
        self.message = message
        self.slots = [JSONValue](repeating: .null, count: slotCount)
        self.parsedPayload = message.json
    }

    func error(_ code: Diagnostic.Code, _ message: String, at range: SourceRange) -> Diagnostic {
        self.source.diagnostic(code, message, at: range)
    }

    // MARK: - Statements

    /// Counts one step and stops the run when the budget is spent.
    @inline(__always)
    mutating func tick() throws(Diagnostic) {
        self.steps &+= 1
        if self.steps > self.limits.stepBudget {
            throw self.budgetExceeded()
        }
    }

    /// Counts one iteration of the innermost loop, then one step.
    @inline(__always)
    mutating func iterate() throws(Diagnostic) {
        self.loops[self.loops.count - 1].iterations &+= 1
        try self.tick()
    }

    /// The loop that has iterated most; on a tie, the outermost.
    var busiestLoop: SourceRange? {
        var busiest: (range: SourceRange, iterations: Int)?
        for loop in self.loops where loop.iterations > (busiest?.iterations ?? -1) {
            busiest = loop
        }
        return busiest?.range
    }

    private func budgetExceeded() -> Diagnostic {
        let loop = self.busiestLoop
        let range = loop ?? Self.startRange
        let where_ = loop.map { "; the loop at line \($0.start.line) does not end" } ?? ""
        return self.error(
            .limit,
            "the script ran more than \(self.limits.stepBudget) steps, its budget for one message\(where_)",
            at: range
        )
    }

    /// The first character of the script, for errors that have no better place.
    static let startRange = SourceRange(
        start: SourceLocation(line: 1, column: 1, offset: 0),
        end: SourceLocation(line: 1, column: 2, offset: 1)
    )

    mutating func execute(_ statements: [ScriptStatement]) throws(Diagnostic) -> ScriptCompletion {
        for statement in statements {
            let completion = try self.execute(statement)
            if case .normal = completion { continue }
            return completion
        }
        return .normal
    }

    mutating func execute(_ statement: ScriptStatement) throws(Diagnostic) -> ScriptCompletion {
        try self.tick()
        switch statement {
        case .expression(let expression):
            _ = try self.evaluate(expression)
            return .normal
        case .declare(let slot, let value):
            self.slots[slot] = try self.evaluate(value)
            return .normal
        case .block(let statements):
            return try self.execute(statements)
        case .if(let condition, let then, let otherwise):
            if ScriptValues.isTruthy(try self.evaluate(condition)) {
                return try self.execute(then)
            } else if let otherwise {
                return try self.execute(otherwise)
            }
            return .normal
        case .while(let condition, let body, let range):
            self.loops.append((range, 0))
            defer { self.loops.removeLast() }
            while ScriptValues.isTruthy(try self.evaluate(condition)) {
                try self.iterate()
                switch try self.execute(body) {
                case .breakLoop: return .normal
                case .returnScript: return .returnScript
                case .normal, .continueLoop: continue
                }
            }
            return .normal
        case .doWhile(let body, let condition, let range):
            self.loops.append((range, 0))
            defer { self.loops.removeLast() }
            repeat {
                try self.iterate()
                switch try self.execute(body) {
                case .breakLoop: return .normal
                case .returnScript: return .returnScript
                case .normal, .continueLoop: break
                }
            } while ScriptValues.isTruthy(try self.evaluate(condition))
            return .normal
        case .for(let initializer, let condition, let step, let body, let range):
            if let initializer {
                _ = try self.execute(initializer)
            }
            self.loops.append((range, 0))
            defer { self.loops.removeLast() }
            while try condition.map({ (condition) throws(Diagnostic) in
                ScriptValues.isTruthy(try self.evaluate(condition))
            }) ?? true {
                try self.iterate()
                switch try self.execute(body) {
                case .breakLoop: return .normal
                case .returnScript: return .returnScript
                case .normal, .continueLoop: break
                }
                if let step { _ = try self.evaluate(step) }
            }
            return .normal
        case .forIn(let slot, let collection, let body, let range):
            let keys: [String]
            switch try self.evaluate(collection) {
            case .object(let object): keys = object.keys
            case .array(let elements): keys = elements.indices.map { String($0) }
            case .string(let text): keys = (0..<text.utf16.count).map { String($0) }
            default: keys = []
            }
            self.loops.append((range, 0))
            defer { self.loops.removeLast() }
            for key in keys {
                try self.iterate()
                self.slots[slot] = .string(key)
                switch try self.execute(body) {
                case .breakLoop: return .normal
                case .returnScript: return .returnScript
                case .normal, .continueLoop: break
                }
            }
            return .normal
        case .break:
            return .breakLoop
        case .continue:
            return .continueLoop
        case .return(let value):
            if let value { _ = try self.evaluate(value) }
            return .returnScript
        case .empty:
            return .normal
        }
    }

    // MARK: - Expressions

    mutating func evaluate(_ expression: ScriptExpression) throws(Diagnostic) -> JSONValue {
        switch expression {
        case .constant(let value):
            return value
        case .variable(let slot):
            return self.slots[slot]
        case .member(let base, let key, let range):
            let object = try self.evaluate(base)
            return try self.member(object, key: key, range: range, base: base)
        case .index(let base, let index, let range):
            let object = try self.evaluate(base)
            let key = try self.evaluate(index)
            return try self.element(object, index: key, range: range, base: base)
        case .object(let entries):
            var object = JSONObject(minimumCapacity: entries.count)
            for entry in entries {
                let value = try self.evaluate(entry.value)
                try self.checkComposed(value, range: nil)
                object[entry.key] = value
            }
            return .object(object)
        case .array(let elements):
            var values: [JSONValue] = []
            values.reserveCapacity(elements.count)
            for element in elements {
                let value = try self.evaluate(element)
                try self.checkComposed(value, range: nil)
                values.append(value)
            }
            return .array(values)
        case .unary(let operation, let operand, let range):
            let value = try self.evaluate(operand)
            switch operation {
            case .not:
                return .bool(!ScriptValues.isTruthy(value))
            case .typeOf:
                return .string(ScriptValues.typeOf(value))
            case .plus:
                guard let number = ScriptValues.number(value) else {
                    throw self.error(.type, "unary '+' needs a number, got \(value.typeName)", at: range)
                }
                return number
            case .negate:
                do {
                    return try ScriptValues.arithmetic(.subtract, .int(0), value)
                } catch {
                    throw self.error(.type, "unary '-' needs a number, got \(value.typeName)", at: range)
                }
            }
        case .binary:
            return try self.evaluateChain(expression)
        case .and(let lhs, let rhs):
            let left = try self.evaluate(lhs)
            return ScriptValues.isTruthy(left) ? try self.evaluate(rhs) : left
        case .or(let lhs, let rhs):
            let left = try self.evaluate(lhs)
            return ScriptValues.isTruthy(left) ? left : try self.evaluate(rhs)
        case .conditional(let condition, let then, let otherwise):
            return ScriptValues.isTruthy(try self.evaluate(condition))
                ? try self.evaluate(then) : try self.evaluate(otherwise)
        case .assign(let target, let compound, let value, let range):
            let keys = try self.keys(of: target)
            var newValue = try self.evaluate(value)
            if let compound {
                let old = try self.read(target, keys: keys)
                newValue = try self.binary(compound, old, newValue, range: range)
            }
            if !keys.isEmpty { try self.checkComposed(newValue, range: target.range) }
            try self.write(target, keys: keys, value: newValue)
            return newValue
        case .update(let target, let delta, let isPrefix, let range):
            let keys = try self.keys(of: target)
            let old = try self.read(target, keys: keys)
            guard let number = ScriptValues.number(old) else {
                throw self.error(.type, "'\(delta > 0 ? "++" : "--")' needs a number, got \(old.typeName)", at: range)
            }
            let new = try self.binary(.add, number, .int(delta), range: range)
            try self.write(target, keys: keys, value: new)
            return isPrefix ? new : number
        case .call(let call):
            return try self.call(call)
        case .method(let call):
            return try self.method(call)
        }
    }

    /// Refuses to put a container into another one when the result would exceed the value limits.
    @inline(__always)
    func checkComposed(_ value: JSONValue, range: SourceRange?) throws(Diagnostic) {
        switch value {
        case .array, .object:
            guard ScriptValues.isWithin(value, bytes: self.limits.maximumValueBytes) else {
                throw self.error(
                    .limit,
                    "the value built here is larger than \(self.limits.maximumValueBytes) bytes or nested deeper than "
                        + "\(ScriptValues.maximumValueDepth) levels",
                    at: range ?? self.loops.last?.range ?? Self.startRange
                )
            }
        default:
            break
        }
    }

    /// A flat chain `a + "," + b + …` is a left-leaning tree as deep as it is long; it is evaluated along its
    /// left spine in a loop, so its length costs no stack: only real nesting recurses (and is bounded by
    /// ``RuleScriptLimits/maximumNesting``).
    private mutating func evaluateChain(_ expression: ScriptExpression) throws(Diagnostic) -> JSONValue {
        var pending: [(operation: ScriptBinaryOperator, rhs: ScriptExpression, range: SourceRange)] = []
        var current = expression
        while case .binary(let operation, let lhs, let rhs, let range) = current {
            pending.append((operation, rhs, range))
            current = lhs
        }
        var value = try self.evaluate(current)
        for (operation, rhs, range) in pending.reversed() {
            let right = try self.evaluate(rhs)
            value = try self.binary(operation, value, right, range: range)
        }
        return value
    }

    mutating func binary(
        _ operation: ScriptBinaryOperator,
        _ left: JSONValue,
        _ right: JSONValue,
        range: SourceRange
    ) throws(Diagnostic) -> JSONValue {
        do {
            switch operation {
            case .add:
                return try ScriptValues.add(left, right, maximumStringBytes: self.limits.maximumStringBytes)
            case .subtract, .multiply, .divide, .remainder:
                return try ScriptValues.arithmetic(operation, left, right)
            case .equal:
                return .bool(ScriptValues.looselyEqual(left, right))
            case .notEqual:
                return .bool(!ScriptValues.looselyEqual(left, right))
            case .strictEqual:
                return .bool(ScriptValues.strictlyEqual(left, right))
            case .strictNotEqual:
                return .bool(!ScriptValues.strictlyEqual(left, right))
            case .less, .lessEqual, .greater, .greaterEqual:
                return .bool(try ScriptValues.compare(operation, left, right))
            }
        } catch {
            throw self.error(.type, error.message, at: range)
        }
    }

    // MARK: - Reading fields

    /// `value.key`: a missing key reads as `null` (JavaScript's `undefined`); a key of `null` is an error.
    mutating func member(
        _ value: JSONValue,
        key: String,
        range: SourceRange,
        base: ScriptExpression
    ) throws(Diagnostic) -> JSONValue {
        switch value {
        case .object(let object):
            if let found = object[key] { return found }
            self.lastMiss = (range, key, object)
            return .null
        case .array(let elements):
            if key == "length" { return .int(elements.count) }
            if let index = Int(key), elements.indices.contains(index) { return elements[index] }
            return .null
        case .string(let text):
            return key == "length" ? .int(text.utf16.count) : .null
        case .binary(let bytes):
            return key == "length" ? .int(bytes.count) : .null
        case .null:
            throw self.readOfNull(key: "'\(key)'", range: range, base: base)
        case .bool, .int, .double:
            return .null
        }
    }

    /// `value[index]`: array elements by number, object fields by key, characters of strings.
    mutating func element(
        _ value: JSONValue,
        index: JSONValue,
        range: SourceRange,
        base: ScriptExpression
    ) throws(Diagnostic) -> JSONValue {
        switch (value, index) {
        case (.array(let elements), _):
            if let position = ScriptValues.integer(index) {
                return elements.indices.contains(position) ? elements[position] : .null
            }
            return try self.member(value, key: ScriptValues.text(index), range: range, base: base)
        case (.string(let text), _):
            if let position = ScriptValues.integer(index) {
                let units = text.utf16
                guard position >= 0, position < units.count else { return .null }
                let unit = units[units.index(units.startIndex, offsetBy: position)]
                return .string(String(decoding: [unit], as: UTF16.self))
            }
            return try self.member(value, key: ScriptValues.text(index), range: range, base: base)
        case (.binary(let bytes), _):
            if let position = ScriptValues.integer(index) {
                return bytes.indices.contains(position) ? .int(Int(bytes[position])) : .null
            }
            return try self.member(value, key: ScriptValues.text(index), range: range, base: base)
        case (.null, _):
            throw self.readOfNull(key: "[\(ScriptValues.preview(index))]", range: range, base: base)
        default:
            return try self.member(value, key: ScriptValues.text(index), range: range, base: base)
        }
    }

    /// "cannot read 'value' of null", pointing at the missing key that made the `null` when there is one.
    private func readOfNull(key: String, range: SourceRange, base: ScriptExpression) -> Diagnostic {
        var baseRange: SourceRange?
        switch base {
        case .member(_, _, let range), .index(_, _, let range): baseRange = range
        default: baseRange = nil
        }
        if let miss = self.lastMiss, let baseRange, miss.range == baseRange {
            let reading = "no field '\(miss.key)' here, so reading \(key) of it fails"
            let message =
                Suggestion.closest(to: miss.key, among: miss.object.keys).map {
                    "\(reading); did you mean '\($0)'? (getOrNull(…) reads fields that may be missing)"
                } ?? "\(reading); use getOrNull(…) for fields that may be missing"
            return self.error(
                .unknownField,
                message,
                at: miss.range
            )
        }
        return self.error(
            .type,
            "cannot read \(key) of null; use getOrNull(…) for fields that may be missing",
            at: range
        )
    }

    // MARK: - Assignment

    /// The evaluated path of an assignment target.
    mutating func keys(of target: ScriptLValue) throws(Diagnostic) -> [ScriptPathKey] {
        if let keys = target.staticPath { return keys }
        var keys: [ScriptPathKey] = []
        keys.reserveCapacity(target.path.count)
        for step in target.path {
            switch step {
            case .key(let key, _):
                keys.append(.key(key))
            case .index(let expression, let range):
                let index = try self.evaluate(expression)
                if let position = ScriptValues.integer(index) {
                    keys.append(.index(position))
                } else if case .string(let key) = index {
                    keys.append(.key(key))
                } else if case .null = index {
                    throw self.error(.type, "the index is null", at: range)
                } else {
                    keys.append(.key(ScriptValues.text(index)))
                }
            }
        }
        return keys
    }

    func read(_ target: ScriptLValue, keys: [ScriptPathKey]) throws(Diagnostic) -> JSONValue {
        var value = self.slots[target.slot]
        for (position, key) in keys.enumerated() {
            switch (value, key) {
            case (.object(let object), .key(let name)): value = object[name] ?? .null
            case (.object(let object), .index(let index)): value = object[String(index)] ?? .null
            case (.array(let elements), .index(let index)):
                value = elements.indices.contains(index) ? elements[index] : .null
            case (.array(let elements), .key(let name)):
                if let index = Int(name), elements.indices.contains(index) {
                    value = elements[index]
                } else {
                    value = name == "length" ? .int(elements.count) : .null
                }
            case (.null, _):
                throw self.error(.type, "cannot read a field of null", at: target.path[position].range)
            default:
                value = .null
            }
        }
        return value
    }

    mutating func write(_ target: ScriptLValue, keys: [ScriptPathKey], value: JSONValue) throws(Diagnostic) {
        if keys.isEmpty {
            self.slots[target.slot] = value
            return
        }
        // Take the variable's value out of its slot so it is uniquely referenced and changes in place.
        var root = self.slots[target.slot]
        self.slots[target.slot] = .null
        defer { self.slots[target.slot] = root }
        try self.set(&root, keys: keys[...], value: value, target: target)
    }

    private func set(
        _ container: inout JSONValue,
        keys: ArraySlice<ScriptPathKey>,
        value: JSONValue,
        target: ScriptLValue
    ) throws(Diagnostic) {
        guard let key = keys.first else {
            container = value
            return
        }
        let rest = keys.dropFirst()
        let stepRange = target.path[keys.startIndex].range
        switch container {
        case .object(var object):
            container = .null
            let name: String
            switch key {
            case .key(let text): name = text
            case .index(let index): name = String(index)
            }
            var child = object.removeValueKeepingPosition(name)
            if child == nil, object.count >= self.limits.maximumCollectionCount {
                container = .object(object)
                throw self.error(
                    .limit,
                    "an object may have at most \(self.limits.maximumCollectionCount) keys",
                    at: stepRange
                )
            }
            var inner = child ?? .null
            child = nil
            do {
                try self.set(&inner, keys: rest, value: value, target: target)
            } catch {
                object[name] = inner
                container = .object(object)
                throw error
            }
            object[name] = inner
            container = .object(object)
        case .array(var elements):
            let index: Int
            switch key {
            case .index(let position): index = position
            case .key(let text):
                guard let position = Int(text) else {
                    throw self.error(.type, "cannot set field '\(text)' of an array; use a number index", at: stepRange)
                }
                index = position
            }
            guard index >= 0, index < self.limits.maximumCollectionCount else {
                throw self.error(
                    .type,
                    "array index \(index) is out of range (0 to \(self.limits.maximumCollectionCount - 1))",
                    at: stepRange
                )
            }
            container = .null
            while elements.count <= index { elements.append(.null) }
            var inner = elements[index]
            elements[index] = .null
            defer {
                elements[index] = inner
                container = .array(elements)
            }
            try self.set(&inner, keys: rest, value: value, target: target)
        case .null:
            throw self.error(.type, "cannot set a field of null; create the object first, e.g. x = {}", at: stepRange)
        default:
            throw self.error(.type, "cannot set a field of a \(container.typeName)", at: stepRange)
        }
    }
}

extension JSONObject {
    /// The value of `key`, replaced by `null` in place, so the caller holds the only reference to it while it
    /// changes it; the caller stores the new value back under the same key.
    fileprivate mutating func removeValueKeepingPosition(_ key: String) -> JSONValue? {
        guard let value = self[key] else { return nil }
        self[key] = .null
        return value
    }
}
