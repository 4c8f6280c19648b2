import Foundation
import GRDB

/// What `lodectl backup` wrote.
public struct SQLiteBackupSummary: Sendable, Equatable {
    /// The backup file.
    public var path: String
    public var bytes: Int
    /// Events in the backup's event log.
    public var events: Int
}

/// What `lodectl doctor` found of a SQLite store, without changing it.
public struct SQLiteStoreInspection: Sendable, Equatable {
    public var path: String
    public var exists: Bool
    /// Why the process cannot write the file or its directory (SQLite writes `-wal` and `-shm`
    /// files beside it), `nil` when it can.
    public var notWritable: String?
    /// Migrations the file has, in order.
    public var appliedMigrations: [String] = []
    /// Migrations this Lodestone knows and the file lacks: the worker applies them when it starts.
    public var pendingMigrations: [String] = []
    /// Migrations the file has and this Lodestone does not know: it was written by a newer one.
    public var unknownMigrations: [String] = []
    /// Every migration this Lodestone knows.
    public var knownMigrations: [String] { SQLiteSchema.migrator.migrations }
    /// Events in the event log.
    public var events: Int = 0
}

extension SQLiteZoneStore {
    /// Every migration this Lodestone knows, oldest first.
    public static var knownMigrations: [String] { SQLiteSchema.migrator.migrations }

    /// Copies the store at `source` to a new file `destination` through SQLite's online backup:
    /// one read transaction copies every page, so the copy is the database as of one commit,
    /// even while a worker keeps writing (its `-wal` included, which a plain file copy would
    /// miss). The copy is checked (`PRAGMA quick_check`) and then moved into place, so
    /// `destination` is either absent or whole.
    ///
    /// Throws ``StorageError/Kind/configuration`` when `destination` exists or `source` is not a
    /// Lodestone store, and the lifted SQLite error otherwise.
    public static func backup(from source: String, to destination: String) throws(StorageError) -> SQLiteBackupSummary {
        let files = FileManager.default
        guard files.fileExists(atPath: source) else {
            throw StorageError(kind: .configuration, message: "no database at \(source); give the worker's --db", path: source)
        }
        guard !files.fileExists(atPath: destination) else {
            throw StorageError(kind: .configuration, message: "\(destination) exists; choose a new file for the backup", path: source)
        }
        let partial = destination + ".partial"
        try? files.removeItem(atPath: partial)
        let owner = SQLiteFileOwner(of: source)
        defer { owner.restore() }
        do {
            let reader = try readOnly(source)
            let writer = try DatabaseQueue(path: partial)
            try reader.backup(to: writer)
            try reader.close()
            let (check, events) = try writer.read { db in
                (try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "no answer",
                 try Int.fetchOne(db, sql: SQLiteStatements.loggedEventCount) ?? 0)
            }
            try writer.close()
            guard check == "ok" else {
                throw StorageError(kind: .damaged, message: "the backup failed its check (\(check)); the store itself may be damaged", path: source)
            }
            try files.moveItem(atPath: partial, toPath: destination)
            let bytes = (try? files.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
            return SQLiteBackupSummary(path: destination, bytes: bytes, events: events)
        } catch {
            try? files.removeItem(atPath: partial)
            throw StorageError.lifting(error, doing: "backing up to \(destination)", path: source)
        }
    }

    /// Looks at the store at `path` without changing it: whether this process could write it,
    /// its migrations against the ones this Lodestone knows, its event count.
    public static func inspect(path: String) throws(StorageError) -> SQLiteStoreInspection {
        var inspection = SQLiteStoreInspection(path: path, exists: FileManager.default.fileExists(atPath: path))
        inspection.notWritable = Self.whyNotWritable(path)
        guard inspection.exists else {
            inspection.pendingMigrations = knownMigrations
            return inspection
        }
        let owner = SQLiteFileOwner(of: path)
        defer { owner.restore() }
        do {
            let reader = try readOnly(path)
            defer { try? reader.close() }
            let migrator = SQLiteSchema.migrator
            let known = migrator.migrations
            let applied = try reader.read { db in try migrator.appliedIdentifiers(db) }
            inspection.appliedMigrations = known.filter(applied.contains) + applied.subtracting(known).sorted()
            inspection.pendingMigrations = known.filter { !applied.contains($0) }
            inspection.unknownMigrations = applied.subtracting(known).sorted()
            if applied.contains(where: { $0.hasPrefix("v1") }) {
                inspection.events = try reader.read { db in try Int.fetchOne(db, sql: SQLiteStatements.loggedEventCount) ?? 0 }
            }
        } catch {
            throw StorageError.lifting(error, doing: "reading the database", path: path)
        }
        return inspection
    }

    /// A read-only connection that waits up to 10 s for a worker's write lock.
    private static func readOnly(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Why this process could not write the database: the file (or, when it is absent, its
    /// directory), its `-wal` and `-shm` files, and its directory (where SQLite creates them).
    public static func whyNotWritable(_ path: String) -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        let candidates = [path, path + "-wal", path + "-shm"].filter { FileManager.default.fileExists(atPath: $0) }
            + [directory.isEmpty ? "." : directory]
        for candidate in candidates where access(candidate, W_OK) != 0 {
            let reason = String(cString: strerror(errno))
            return "\(candidate) is not writable by uid \(getuid()): \(reason)"
        }
        return nil
    }
}

/// Keeps a store's `-wal` and `-shm` files owned by the store's owner when a tool runs as root:
/// SQLite creates them as whoever opens the database (even read-only), and a worker running as
/// `lodestone` cannot open files that root created.
struct SQLiteFileOwner {
    private let path: String
    private let owner: (uid: uid_t, gid: gid_t)?

    init(of path: String) {
        self.path = path
        var info = stat()
        owner = getuid() == 0 && stat(path, &info) == 0 && info.st_uid != 0 ? (info.st_uid, info.st_gid) : nil
    }

    func restore() {
        guard let owner else { return }
        for file in [path + "-wal", path + "-shm"] {
            var info = stat()
            if stat(file, &info) == 0, info.st_uid != owner.uid { _ = chown(file, owner.uid, owner.gid) }
        }
    }
}
