import LodeEvents
import LodeNotifications
import LodeSettings
import LodeStorage

/// Opens the store the settings name: `--db` / `LODE_DB` / config `db`, default
/// `lodestone.sqlite` in the working directory. PostgreSQL (`postgres://`) is not built yet.
public enum StoreLocation {
    public static let defaultPath = "lodestone.sqlite"

    /// - Parameter notifications: the rules and targets whose notifications the worker records
    ///   with each batch; `nil` for tools that only read or rebuild.
    public static func open(_ settings: CommonSettings, notifications: NotificationSettings? = nil) throws -> SQLiteZoneStore {
        let path = settings.database ?? defaultPath
        if path.hasPrefix("postgres://") || path.hasPrefix("postgresql://") {
            throw SettingsError(.config, "--db: PostgreSQL is not supported yet; give a SQLite file path")
        }
        let calendar = try ZoneCalendar(timeZoneIdentifier: settings.timezone)
        var configuration = SQLiteStoreConfiguration(calendar: calendar)
        if let notifications, !notifications.rules.isEmpty {
            configuration.notifications = NotificationPolicy(
                rules: NotificationRules(rules: notifications.rules, calendar: calendar),
                targets: try settings.config?.reportTargets() ?? [:])
        }
        return try SQLiteZoneStore(path: path, configuration: configuration)
    }
}
