import GRDB

/// Why the store could not do what it was asked, and whether trying again
/// can help.
///
/// The worker decides from ``kind`` alone: ``Kind/unavailable`` pauses
/// consuming and retries the same batch with backoff (contract section 3: a
/// failure that is not the event's fault never dead-letters);
/// ``Kind/invalidData`` is the batch's fault; the others need an operator.
/// When a store's `apply` throws, nothing of the batch was written: its
/// transaction was rolled back.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is, for the caller to decide what to do.
    public enum Kind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Not the data's fault and likely to pass later: the database is
        /// locked or busy past the busy timeout, the disk is full, an I/O
        /// error, the file or its directory is read-only, the file cannot be
        /// opened, out of memory. Retry the same batch with backoff.
        case unavailable
        /// The events themselves cannot be stored (a value SQLite refuses).
        /// The batch was rolled back; applying its events one at a time
        /// finds the one to dead-letter.
        case invalidData = "invalid_data"
        /// The store's settings are wrong: a database path whose directory
        /// does not exist, a database written by a newer Lodestone, an
        /// unknown time zone. Retrying cannot help; fix the settings.
        case configuration
        /// The database file is not a database, is corrupt, or its event log
        /// holds a row that no longer decodes. Needs an operator.
        case damaged
        /// A bug: SQL that SQLite refused for another reason.
        case `internal`

        public var description: String { rawValue }
    }

    public let kind: Kind
    /// What failed, on what, and what to do; never holds a password.
    public let message: String
    /// The database the store was opened on: a SQLite file's path, or a PostgreSQL URL
    /// without its password.
    public let path: String
    /// SQLite's extended result code, when SQLite reported the failure.
    public let sqliteCode: Int32?
    /// PostgreSQL's SQLSTATE, when the server reported the failure.
    public let sqlState: String?

    public init(kind: Kind, message: String, path: String, sqliteCode: Int32? = nil, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
        self.sqliteCode = sqliteCode
        self.sqlState = sqlState
    }

    /// Whether the same call may pass when tried again later.
    public var isRetryable: Bool { kind == .unavailable }

    public var description: String {
        "storage error (\(kind)) on \(path): \(message)"
    }
}

extension StorageError {
    /// Lifts a GRDB or SQLite error into a ``StorageError``, classified by
    /// SQLite's primary result code. `doing` says what the store was doing,
    /// e.g. "applying a batch of 500 events".
    static func lifting(_ error: any Error, doing: String, path: String) -> StorageError {
        if let error = error as? StorageError { return error }
        guard let databaseError = error as? DatabaseError else {
            return StorageError(kind: .internal, message: "\(doing): \(error)", path: path)
        }
        let kind: Kind
        let advice: String
        switch databaseError.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            kind = .unavailable
            advice = "another connection holds the database past the busy timeout; retrying"
        case .SQLITE_FULL:
            kind = .unavailable
            advice = "the disk is full; free space, then it is retried"
        case .SQLITE_IOERR:
            kind = .unavailable
            advice = "the disk reported an I/O error; retrying"
        case .SQLITE_READONLY:
            kind = .unavailable
            advice = "the database file or its directory is read-only; make it writable"
        case .SQLITE_CANTOPEN:
            kind = .unavailable
            advice = "the database file cannot be opened; check that it and its directory exist and are writable"
        case .SQLITE_NOMEM, .SQLITE_INTERRUPT, .SQLITE_PROTOCOL, .SQLITE_NOLFS:
            kind = .unavailable
            advice = "retrying"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            kind = .damaged
            advice = "the file is not a healthy Lodestone database; restore it or point the store at another file"
        case .SQLITE_CONSTRAINT, .SQLITE_TOOBIG, .SQLITE_MISMATCH, .SQLITE_RANGE:
            kind = .invalidData
            advice = "nothing of the batch was written"
        default:
            kind = .internal
            advice = "this is a bug in Lodestone's storage"
        }
        let sqliteMessage = databaseError.message ?? "\(databaseError.resultCode)"
        return StorageError(
            kind: kind,
            message: "\(doing): SQLite error \(databaseError.extendedResultCode.rawValue): \(sqliteMessage) (\(advice))",
            path: path,
            sqliteCode: databaseError.extendedResultCode.rawValue)
    }
}
