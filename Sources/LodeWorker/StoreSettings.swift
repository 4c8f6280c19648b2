import LodeEvents
import LodeSettings
import LodeStorage

/// Opens the store the settings name: `--db` / `LODE_DB` / config `db`, default
/// `lodestone.sqlite` in the working directory. PostgreSQL (`postgres://`) is not built yet.
public enum StoreLocation {
    public static let defaultPath = "lodestone.sqlite"

    public static func open(_ settings: CommonSettings) throws -> SQLiteZoneStore {
        let path = settings.database ?? defaultPath
        if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") {
            throw SettingsError(.config, "--db: PostgreSQL is not supported yet; give a SQLite file path")
        }
        let calendar = try ZoneCalendar(timeZoneIdentifier: settings.timezone)
        return try SQLiteZoneStore(path: path, configuration: SQLiteStoreConfiguration(calendar: calendar))
    }
}
