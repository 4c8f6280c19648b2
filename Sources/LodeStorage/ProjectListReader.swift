import LodeProjections

/// Reads the list of projects behind the report's project figures (`lodectl projects`,
/// the report workbook's second sheet). Every store implements it next to ``ZoneStore``, so a
/// tool that lists projects works on whichever store the settings name.
///
/// Blocks the calling thread on database I/O, as ``ZoneStore`` does.
public protocol ProjectListReader {
    /// The projects the report of `year` counts (major, plan year `year`, latest status not
    /// `cancelled`), in `project_id` byte order: the same list as
    /// ``LodeProjections/ZoneProjection/projects(year:)`` for the same events.
    func projects(year: Int) throws(StorageError) -> [ReportedProject]
}
