import LodeEvents
import LodeProjections

/// The projection tables, described once: their columns, their key, and how a row merges
/// with the row already there. Both stores' statements come from here (SQLite's one-row
/// upserts, PostgreSQL's set-based ones and its tables), so a change of a table or of a merge
/// changes every store; which event changes which row is ``LodeProjections/ProjectionChange``.
///
/// The merge clause is the same text in both dialects (`INSERT … ON CONFLICT … DO UPDATE …
/// WHERE`, which SQLite ≥ 3.24 and PostgreSQL both read).
public struct ProjectionTable: Sendable, Hashable {
    /// How a new row merges with the one under the same key.
    public enum Merge: Sendable, Hashable {
        /// The row with the greater stamp `(event_seconds, event_nanos, event_id, event_source)`
        /// wins.
        case latestByStamp
        /// A set member: inserted once, never changed.
        case member
        /// The named column adds up.
        case counter(String)
    }

    /// What a column holds, for the PostgreSQL types and arrays.
    public enum ColumnType: Sendable, Hashable {
        /// Text compared by bytes (`COLLATE "C"` in PostgreSQL, SQLite's default `BINARY`).
        case text
        /// Text or NULL.
        case optionalText
        /// A 64-bit integer.
        case integer
        /// A boolean (0/1 in SQLite).
        case bool
    }

    public struct Column: Sendable, Hashable {
        public let name: String
        public let type: ColumnType
    }

    public let name: String
    public let key: [Column]
    /// The columns after the key, stamp columns included for ``Merge/latestByStamp``.
    public let values: [Column]
    public let merge: Merge

    public var columns: [Column] { key + values }

    /// ``LodeProjections/EventStamp``'s parts, in its order. `event_source` came with
    /// identities by source and id (SQLite v5, PostgreSQL v4), added last to the tables.
    static let stamp = [
        Column(name: "event_seconds", type: .integer), Column(name: "event_nanos", type: .integer),
        Column(name: "event_id", type: .text), Column(name: "event_source", type: .text),
    ]
    public static let stampSource = "event_source"

    init(_ name: String, key: [(String, ColumnType)], values: [(String, ColumnType)] = [], merge: Merge) {
        self.name = name
        self.key = key.map { Column(name: $0.0, type: $0.1) }
        let own = values.map { Column(name: $0.0, type: $0.1) }
        self.values = merge == .latestByStamp ? own + Self.stamp : own
        self.merge = merge
    }

    /// `ON CONFLICT (key) DO …`: the merge, the same text for SQLite and PostgreSQL.
    public var conflictClause: String {
        let keyList = key.map(\.name).joined(separator: ", ")
        switch merge {
        case .member:
            return "ON CONFLICT (\(keyList)) DO NOTHING"
        case .counter(let column):
            return "ON CONFLICT (\(keyList)) DO UPDATE SET \(column) = \(name).\(column) + excluded.\(column)"
        case .latestByStamp:
            let sets = values.map { "\($0.name) = excluded.\($0.name)" }.joined(separator: ", ")
            return """
                ON CONFLICT (\(keyList)) DO UPDATE SET \(sets)
                WHERE (excluded.event_seconds, excluded.event_nanos, excluded.event_id, excluded.event_source)
                    > (\(name).event_seconds, \(name).event_nanos, \(name).event_id, \(name).event_source)
                """
        }
    }

    /// One row, bound by position in ``columns`` order (SQLite).
    public var sqliteUpsert: String {
        let names = columns.map(\.name).joined(separator: ", ")
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        return "INSERT INTO \(name) (\(names)) VALUES (\(marks)) \(conflictClause)"
    }

    /// Many rows, one array parameter per column (an optional text column takes two: the
    /// texts and whether each is present), returning the key of each row inserted or changed.
    public var postgresUpsert: String {
        var parameter = 0
        var arrays: [String] = []
        var selected: [String] = []
        for (index, column) in columns.enumerated() {
            parameter += 1
            switch column.type {
            case .text:
                arrays.append("$\(parameter)::text[]")
                selected.append("c\(index)")
            case .integer:
                arrays.append("$\(parameter)::int8[]")
                selected.append("c\(index)")
            case .bool:
                arrays.append("$\(parameter)::bool[]")
                selected.append("c\(index)")
            case .optionalText:
                arrays.append("$\(parameter)::text[]")
                parameter += 1
                arrays.append("$\(parameter)::bool[]")
                selected.append("CASE WHEN p\(index) THEN c\(index) END")
            }
        }
        let aliases = columns.enumerated().flatMap { index, column in
            column.type == .optionalText ? ["c\(index)", "p\(index)"] : ["c\(index)"]
        }
        let names = columns.map(\.name).joined(separator: ", ")
        return """
            INSERT INTO \(name) (\(names))
            SELECT \(selected.joined(separator: ", ")) FROM unnest(\(arrays.joined(separator: ", "))) AS u(\(aliases.joined(separator: ", ")))
            \(conflictClause)
            RETURNING \(key.map(\.name).joined(separator: ", "))
            """
    }

    /// The PostgreSQL table as it is now.
    public var postgresTable: String { postgresTable(omitting: []) }

    /// The PostgreSQL table without the named columns: a released migration's table stays as
    /// it was released (version 1 had no `event_source`).
    public func postgresTable(omitting omitted: Set<String>) -> String {
        let definitions = columns.filter { !omitted.contains($0.name) }.map { column in
            switch column.type {
            case .text: "\(column.name) text COLLATE \"C\" NOT NULL"
            case .optionalText: "\(column.name) text COLLATE \"C\""
            case .integer: "\(column.name) bigint NOT NULL"
            case .bool: "\(column.name) boolean NOT NULL"
            }
        }
        return """
            CREATE TABLE \(name) (
              \(definitions.joined(separator: ",\n  ")),
              PRIMARY KEY (\(key.map(\.name).joined(separator: ", ")))
            )
            """
    }
}

extension ProjectionTable {
    public static let registration = ProjectionTable(
        "project_registration", key: [("project_id", .text)],
        values: [
            ("name", .text), ("plan_year", .integer), ("categories", .text), ("new_start", .bool),
            ("total_investment", .integer), ("planned_investment", .integer), ("major", .bool),
            ("enterprise", .optionalText), ("park", .optionalText), ("capacity", .optionalText),
        ],
        merge: .latestByStamp)
    public static let status = ProjectionTable(
        "project_status", key: [("project_id", .text)], values: [("status", .text)], merge: .latestByStamp)
    public static let investment = ProjectionTable(
        "investment_report", key: [("project_id", .text), ("period_year", .integer), ("period_month", .integer)],
        values: [("completed_investment", .integer)], merge: .latestByStamp)
    public static let contact = ProjectionTable(
        "recruitment_contact", key: [("year", .integer), ("campaign", .text), ("enterprise", .text)], merge: .member)
    public static let visitCount = ProjectionTable(
        "recruitment_visit_count", key: [("year", .integer), ("campaign", .text)], values: [("visits", .integer)],
        merge: .counter("visits"))
    public static let agreement = ProjectionTable(
        "recruitment_agreement", key: [("year", .integer), ("campaign", .text), ("enterprise", .text)], merge: .member)
    public static let introduction = ProjectionTable(
        "recruitment_introduction", key: [("year", .integer), ("industry", .text), ("project_id", .text)], merge: .member)

    /// Every projection table, in the order a batch writes them (the same order in every
    /// transaction, so concurrent PostgreSQL transactions take row locks in one order).
    public static let all: [ProjectionTable] = [registration, status, investment, contact, visitCount, agreement, introduction]

    /// The tables whose rows are "latest by stamp".
    public static var stamped: [ProjectionTable] { all.filter { $0.merge == .latestByStamp } }

    /// A project's categories as a column holds them: comma-separated, in the event's order.
    public static func categoriesText(_ categories: [Category]) -> String {
        categories.map(\.rawValue).joined(separator: ",")
    }

    /// The categories a column holds; `nil` names the first one that is not a category.
    public static func categories(_ text: String) -> Result<[Category], CategoryTextError> {
        var categories: [Category] = []
        for name in text.split(separator: ",") {
            guard let category = Category(rawValue: String(name)) else { return .failure(CategoryTextError(name: String(name))) }
            categories.append(category)
        }
        return .success(categories)
    }
}

/// A stored categories column holds a name that is not a category.
public struct CategoryTextError: Error, Sendable {
    public let name: String
}
