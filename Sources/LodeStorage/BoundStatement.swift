import GRDB
import GRDBSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A prepared statement of the apply path, bound and stepped through
/// SQLite's C API.
///
/// GRDB's `StatementArguments` box every value and build an array per
/// execution; on a path that runs a few statements per event that costs
/// more than SQLite itself. The statement comes from GRDB's statement
/// cache (which owns and finalizes it) and runs inside a transaction GRDB
/// opened, on GRDB's connection, as GRDB allows (`Database.sqliteConnection`,
/// `Statement.sqliteStatement`). These statements only insert into
/// Lodestone's own tables: no GRDB observer needs to see them.
struct BoundStatement {
    let statement: Statement
    private let handle: OpaquePointer
    private let connection: OpaquePointer

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database connection is closed", sql: sql)
        }
        self.connection = connection
    }

    /// Binds the values, 1-based in order, steps the statement to its end,
    /// and returns how many rows it changed.
    @discardableResult
    func run(_ values: SQLValue...) throws -> Int {
        sqlite3_reset(handle)
        var index: Int32 = 1
        for value in values {
            let code: Int32
            switch value {
            case .integer(let integer):
                code = sqlite3_bind_int64(handle, index, integer)
            case .real(let real):
                code = sqlite3_bind_double(handle, index, real)
            case .text(let text):
                code = bindText(text, at: index)
            case .optionalText(let text):
                if let text {
                    code = bindText(text, at: index)
                } else {
                    code = sqlite3_bind_null(handle, index)
                }
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { buffer in
                    // A zero-length blob still needs a non-null pointer to be a blob, not NULL.
                    sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), sqliteTransient)
                }
            }
            guard code == SQLITE_OK else { throw error(code) }
            index += 1
        }
        return try execute()
    }

    /// Binds an integer to parameter `index` (1-based).
    @inline(__always)
    func bind(_ value: Int64, at index: Int32) throws {
        let code = sqlite3_bind_int64(handle, index, value)
        guard code == SQLITE_OK else { throw error(code) }
    }

    /// Binds a text (copied by SQLite) to parameter `index` (1-based).
    @inline(__always)
    func bind(_ text: String, at index: Int32) throws {
        let code = bindText(text, at: index)
        guard code == SQLITE_OK else { throw error(code) }
    }

    /// Binds `bytes` as a blob to parameter `index` without copying them,
    /// steps the statement to its end, unbinds them, and returns how many
    /// rows it changed: the bytes are read only while they are certainly
    /// alive.
    func execute(bindingBlob bytes: [UInt8], at index: Int32) throws -> Int {
        try bytes.withUnsafeBytes { buffer in
            let code = sqlite3_bind_blob(
                handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), nil)
            guard code == SQLITE_OK else { throw error(code) }
            defer { sqlite3_bind_null(handle, index) }
            return try execute()
        }
    }

    /// Steps the statement to its end, resets it, and returns how many
    /// rows it changed.
    @inline(__always)
    func execute() throws -> Int {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            sqlite3_reset(handle)
            throw error(code)
        }
        let changed = Int(sqlite3_changes(connection))
        sqlite3_reset(handle)
        return changed
    }

    /// Steps a query once: true when a row is there to read with the
    /// `column` functions; call ``reset()`` when done.
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        sqlite3_reset(handle)
        throw error(code)
    }

    func reset() {
        sqlite3_reset(handle)
    }

    func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    /// Whether column `column` holds exactly the UTF-8 bytes of `text`.
    func text(at column: Int32, equals text: String) -> Bool {
        let count = Int(sqlite3_column_bytes(handle, column))
        let characters = sqlite3_column_text(handle, column)
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count == count else { return false }
            guard count > 0, let characters, let base = bytes.baseAddress else { return true }
            return memcmp(characters, base, count) == 0
        }
    }

    func bytes(at column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private func bindText(_ text: String, at index: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                return sqlite3_bind_text(handle, index, "", 0, sqliteTransient)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { characters in
                sqlite3_bind_text(handle, index, characters, Int32(bytes.count), sqliteTransient)
            }
        }
    }

    private func error(_ code: Int32) -> DatabaseError {
        let extended = sqlite3_extended_errcode(connection)
        return DatabaseError(
            resultCode: ResultCode(rawValue: extended != 0 ? extended : code),
            message: String(cString: sqlite3_errmsg(connection)), sql: statement.sql)
    }
}

/// A value bound to a ``BoundStatement``.
enum SQLValue {
    case integer(Int64)
    case real(Double)
    case text(String)
    case optionalText(String?)
    case blob([UInt8])

    static func bool(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
    static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }
}

/// SQLite copies the value before the bind call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
