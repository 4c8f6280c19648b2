import ArgumentParser
import Foundation
import LodeSettings
import LodeStorage
import LodeStores

/// `lodectl backup PATH`: a consistent copy of the worker's SQLite store while it runs.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the worker's SQLite store to a new file, consistently, while the worker runs.",
        discussion: """
            Uses SQLite's online backup: one read transaction copies every page, so the copy is the \
            database as of one commit, whatever the worker writes meanwhile (a plain `cp` of the file \
            would miss what still sits in its -wal file, or catch a transaction half-way). The copy \
            is checked (PRAGMA quick_check) and then moved into place: PATH is either whole or absent. \
            PATH must not exist.

            Restore: stop the worker (systemctl stop lode-worker), move the store and its -wal and \
            -shm files aside, copy the backup to the store's path, give it to the service's user \
            (chown lodestone:lodestone), start the worker. Events applied after the backup come back \
            from the broker only if they are still queued; see docs/operations.md.

            PostgreSQL stores are backed up with pg_dump (docs/operations.md).

            Examples:
              lodectl backup /var/backups/lodestone/lodestone-$(date +%F).sqlite --db /var/lib/lodestone/lodestone.sqlite
              sudo -u lodestone lodectl backup /var/lib/lodestone/before-upgrade.sqlite --config /etc/lodestone/lodestone.yaml

            Exit status: 0 written; 64 usage; 69 the store cannot be read; 73 PATH exists or \
            cannot be written; 78 bad configuration.
            """)

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var database: DatabaseOptions
    @Argument(help: ArgumentHelp("The backup file to write (must not exist).", valueName: "path")) var path: String

    func run() throws {
        var flags = broker.flags
        database.apply(to: &flags)
        let settings: CommonSettings
        do {
            settings = try CommonSettings.resolve(flags: flags, needsBroker: false)
        } catch {
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
        settings.log.bootstrap(defaultLevel: .error)
        let source = settings.database ?? StoreFactory.defaultSQLitePath
        if StoreFactory.isPostgres(source) {
            FileHandle.standardError.write(Data("lodectl: the store is PostgreSQL: back it up with pg_dump (docs/operations.md)\n".utf8))
            throw ExitCode(ExitStatus.usage)
        }
        if FileManager.default.fileExists(atPath: path) {
            FileHandle.standardError.write(Data("lodectl: \(path) exists; give a new file for the backup\n".utf8))
            throw ExitCode(ExitStatus.cannotCreate)
        }
        let started = ContinuousClock.now
        do throws(StorageError) {
            let summary = try StoreFactory.backup(source, to: path)
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("backed up \(source) to \(summary.path): \(summary.events) events, \(summary.bytes) bytes, "
                  + "checked, in \(String(format: "%.2f", seconds)) s")
        } catch {
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            let cannotWrite = error.message.contains(path) && error.kind == .unavailable
            throw ExitCode(cannotWrite ? ExitStatus.cannotCreate : error.kind == .configuration ? 78 : ExitStatus.unavailable)
        }
    }
}
