//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The variables the parser knows while it parses, so every name becomes a slot number at compile time.
///
/// `let` and `const` are block-scoped; `var` belongs to the script's outermost scope, as in JavaScript,
/// so a `var` declared inside an `if` is still visible after it. Unlike JavaScript, a variable must be
/// declared before the line that uses it: a name used earlier is reported as unknown, which catches typos.
struct ScriptScopes {
    /// How a variable was declared.
    enum Kind: String {
        case `var`, `let`, `const`
    }

    /// One declared variable.
    struct Binding {
        var slot: Int
        var kind: Kind
    }

    /// Why a declaration was refused.
    enum DeclarationError: Error {
        case redeclared(Kind)
    }

    private var scopes: [[String: Binding]] = [[:]]
    /// The names of the slots, by slot number.
    private(set) var slotNames: [String] = []
    /// How each slot was declared, by slot number.
    private(set) var slotKinds: [Kind] = []

    /// The number of slots a run needs.
    var slotCount: Int {
        self.slotNames.count
    }

    mutating func push() {
        self.scopes.append([:])
    }

    mutating func pop() {
        self.scopes.removeLast()
    }

    /// Declares `name`; a repeated `var` reuses its slot, anything else repeated in one scope is refused.
    mutating func declare(_ name: String, kind: Kind) throws(DeclarationError) -> Int {
        let scope = kind == .var ? 0 : self.scopes.count - 1
        if let existing = self.scopes[scope][name] {
            guard kind == .var, existing.kind == .var else { throw .redeclared(existing.kind) }
            return existing.slot
        }
        if kind == .var, self.scopes.count > 1 {
            // A var in a block must not silently share a name with a let of an enclosing block.
            for inner in self.scopes.dropFirst() {
                if let existing = inner[name] { throw .redeclared(existing.kind) }
            }
        }
        let slot = self.slotNames.count
        self.slotNames.append(name)
        self.slotKinds.append(kind)
        self.scopes[scope][name] = Binding(slot: slot, kind: kind)
        return slot
    }

    /// The innermost variable called `name`.
    func lookup(_ name: String) -> Binding? {
        for scope in self.scopes.reversed() {
            if let binding = scope[name] { return binding }
        }
        return nil
    }

    /// Every name visible here, for suggestions.
    var visibleNames: [String] {
        self.scopes.flatMap(\.keys)
    }
}
