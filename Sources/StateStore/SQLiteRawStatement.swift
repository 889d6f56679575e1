//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// Binds and steps one of GRDB's cached statements through the SQLite C API (GRDB exposes the raw handles for
// this: `Statement.sqliteStatement`, `Database.sqliteConnection`). Why not GRDB's own API on the claim path:
// `StatementArguments` boxes every value in an existential and `Row` cursors copy column names, which cost
// about 40 allocations per relayed message (heaptrack, Benchmarks/bridge scenario D) — half of the bridge's
// allocations. Everything else in this module keeps GRDB's API.

import GRDB
import GRDBSQLite

/// One execution of a cached statement: reset, bind, step, read columns. Use it inside the `write` closure that
/// produced the statement, and finish reading a row before the next `step()`.
struct SQLiteRawStatement {
    private let statement: Statement
    private let handle: OpaquePointer
    private let connection: OpaquePointer?
    private var index: Int32 = 0

    /// SQLite copies bound bytes and text (the caller's buffers need not outlive the call).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Resets `statement` and clears its bindings, ready for a new execution.
    init(_ statement: Statement, in db: Database) {
        self.statement = statement
        self.handle = statement.sqliteStatement
        self.connection = db.sqliteConnection
        sqlite3_reset(self.handle)
        sqlite3_clear_bindings(self.handle)
    }

    /// Binds the next parameter to a blob.
    mutating func bind(_ bytes: [UInt8]) {
        self.index += 1
        let index = self.index
        bytes.withUnsafeBytes { buffer in
            // A zero-length blob must still be a blob, not NULL: SQLite wants a non-null pointer for that.
            _ = sqlite3_bind_blob(self.handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), Self.transient)
        }
    }

    /// Binds the next parameter to an integer.
    mutating func bind(_ value: Int64) {
        self.index += 1
        sqlite3_bind_int64(self.handle, self.index, value)
    }

    /// Binds the next parameter to 0 or 1.
    mutating func bind(_ value: Bool) {
        self.bind(Int64(value ? 1 : 0))
    }

    /// Binds the next parameter to text.
    mutating func bind(_ text: String) {
        self.index += 1
        let index = self.index
        var text = text
        text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                // Empty text must bind as '' (not NULL, which a null pointer would mean).
                if let start = chars.baseAddress, !chars.isEmpty {
                    _ = sqlite3_bind_text(self.handle, index, start, Int32(chars.count), Self.transient)
                } else {
                    _ = sqlite3_bind_text(self.handle, index, "", 0, Self.transient)
                }
            }
        }
    }

    /// Steps once: true when a row is ready to read, false when the statement is done. Throws SQLite's error.
    func step() throws -> Bool {
        let code = sqlite3_step(self.handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = self.connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: self.statement.sql)
        }
    }

    /// Ends the execution early (before `step()` returned false), so the statement holds no read cursor.
    func reset() {
        sqlite3_reset(self.handle)
    }

    /// Runs a statement that returns no rows.
    func execute() throws {
        while try self.step() {}
    }

    /// Column `column` of the current row as an integer.
    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(self.handle, column)
    }

    /// Column `column` of the current row as a boolean (non-zero is true).
    func bool(_ column: Int32) -> Bool {
        sqlite3_column_int64(self.handle, column) != 0
    }

    /// Column `column` of the current row as text ("" for NULL).
    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(self.handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(self.handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }
}
