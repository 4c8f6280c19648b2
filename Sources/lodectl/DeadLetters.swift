import LodeDeadLetters
import LodeJSON
import ArgumentParser
import Foundation
import LodeAMQP
import LodeEvents
import LodeProjections
import LodeSettings
import LodeStorage
import LodeStores
import LodeWire
import LodeWorker
import Logging

/// `lodectl dlq`: the dead letters of `lode.dead`, from the worker's index, and replaying or
/// purging them safely.
struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, show, replay and purge dead letters (the messages in lode.dead).",
        discussion: """
            The worker records every dead letter in an index in its database (--db) before it \
            publishes it to lode.dead, so `list` and `show` read the database and never hold \
            the queue's messages. Messages that reached lode.dead another way (the broker's \
            delivery limit moves a poison message there; an older worker) are indexed by any \
            sweep of the queue: `list --sync`, `replay --all`, `replay --type`, `purge --all`.

            `replay` publishes each chosen dead letter to lode.events (routing key = its type, \
            its original properties) with a publisher confirm and removes it from lode.dead only \
            after the confirm: killed half-way, nothing is lost (a message may be in both \
            places; the worker's inbox applies it once). Run it again to finish.

            A typical session, after fixing what made the events fail:
              lodectl dlq list                    # id, type, reason, attempts, failed at
              lodectl dlq show 3f9c2a17b0d4       # properties, headers, body
              lodectl dlq replay 3f9c2a17b0d4     # to the worker again
              lodectl dlq replay --type zone.project.status_changed
              lodectl dlq purge 8e01d5c2aa90 --yes   # drop it for good

            Exit codes: 0 done, 64 usage (purge off a terminal without --yes), 65 an id that \
            is not a dead letter, 69 broker or database unavailable, 75 interrupted (safe to \
            re-run), 78 bad configuration.
            """,
        subcommands: [List.self, Show.self, Replay.self, Purge.self])

    /// `--db`, the broker settings and `--verbose`, shared by every `dlq` command.
    struct Options: ParsableArguments {
        @OptionGroup var broker: BrokerOptions
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Log what the client layer does (to standard error).") var verbose = false

        /// The index (the worker's store) and the settings; the broker's password is read only
        /// when `needsBroker`.
        func open(needsBroker: Bool) throws -> (store: any ZoneDatabase, settings: CommonSettings) {
            var flags = broker.flags
            database.apply(to: &flags)
            do {
                let settings = try CommonSettings.resolve(flags: flags, needsBroker: needsBroker)
                settings.log.bootstrap(defaultLevel: verbose ? .debug : .critical)
                var connection = settings.connection
                connection.connectionName = "lodectl dlq on \(ProcessInfo.processInfo.hostName)"
                var resolved = settings
                resolved.connection = connection
                return (try StoreFactory.open(settings.storeRequest(for: "lodectl dlq")), resolved)
            } catch let error as SettingsError {
                fail("\(error)", status: error.exitCode)
            } catch {
                fail("\(error)", status: ExitStatus.unavailable)
            }
        }
    }

    /// Which dead letters `replay` and `purge` act on.
    struct Choice: ParsableArguments {
        @Argument(help: "Ids of dead letters, as `lodectl dlq list` shows them.") var ids: [String] = []
        @Flag(help: "Every message in lode.dead (indexed or not).") var all = false

        func selection(type: String?) throws -> DeadLetterSelection {
            let given = [!ids.isEmpty, all, type != nil].filter { $0 }.count
            guard given == 1 else {
                throw ValidationError("choose the dead letters: ids, --all\(type == nil ? "" : " or --type"), exactly one of them")
            }
            if all { return .all }
            if let type { return .type(type) }
            return .ids(Set(ids))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the dead letters in lode.dead, oldest first, from the index.",
            discussion: """
                Prints id, type, reason, attempts and first failure time of each dead letter the \
                index knows to be in lode.dead. --json prints a JSON array, one object per dead \
                letter: id, type, reason, attempts, first_failed_at, event_id, error, state. \
                On a terminal it also says when lode.dead holds more messages than the index lists.

                --sync first reads lode.dead once (at most --batch messages unacknowledged, each \
                put back at the tail with a confirm: the queue's order changes), indexes what it \
                does not know (e.g. poison messages the broker moved there) and marks missing the \
                dead letters no longer there (purged by other means).

                Examples:
                  lodectl dlq list
                  lodectl dlq list --json | jq -r '.[] | select(.reason == "poison") | .id'
                  lodectl dlq list --sync
                  lodectl dlq list --history     # replayed and purged ones too
                """)

        @OptionGroup var options: Options
        @Flag(help: "A JSON array instead of a table.") var json = false
        @Flag(help: "Read lode.dead first and index the messages the index does not know.") var sync = false
        @Flag(help: "Include dead letters already replayed, purged or missing (with their state).") var history = false
        @Option(help: "With --sync: messages held unacknowledged at most.") var batch = 100

        func run() async throws {
            let (store, settings) = try options.open(needsBroker: sync)
            var endedEarly = false
            if sync {
                var sweep = DeadLetterSweep(settings: settings.connection, index: store)
                sweep.batch = batch
                let progress = ProgressLine(verb: nil)
                let result = try await runSweep(sweep, .none, action: .replay, progress: progress)
                endedEarly = result.endedEarly
                if result.missing > 0 {
                    FileHandle.standardError.write(Data("lodectl: \(result.missing) dead letters of the index are no longer in \(ZoneTopology.deadLetterQueue) (removed by something other than lodectl): marked missing (see --history)\n".utf8))
                }
            }
            let records = try store.deadLetters(in: history ? Set(DeadLetterState.allCases) : [.queued])
            if json {
                print(String(decoding: JSONValue.array(records.map(Self.json)).serializedBytes(), as: UTF8.self))
            } else if records.isEmpty {
                print(history ? "no dead letters indexed" : "no dead letters in \(ZoneTopology.deadLetterQueue) that the index knows")
            } else {
                printTable(records)
            }
            if !sync, isatty(STDERR_FILENO) == 1 {
                fflush(nil)
                await Self.noteUnindexed(indexed: try store.deadLetters(in: [.queued]).count, options: options)
            }
            if endedEarly { throw ExitCode(ExitStatus.temporaryFailure) }
        }

        func printTable(_ records: [DeadLetterRecord]) {
            // Every cell comes from a message anyone could publish: one line, nothing a terminal acts on.
            let rows = records.map { record in
                ([record.id, record.type ?? "-", record.reason, String(record.attempts), record.firstFailedAt]
                    + (history ? [record.state.rawValue] : [])).map(\.terminalSafe) + [oneLine(record.error.terminalSafe, max: 80)]
            }
            let header = ["id", "type", "reason", "attempts", "first failed at"] + (history ? ["state"] : []) + ["error"]
            print(Table(header: header, rows: rows).text)
        }

        /// On a terminal, says when lode.dead holds more messages than the index lists (poison
        /// messages the broker moved there, dead letters from before the index): a passive
        /// declare, given up quietly after two seconds or when the broker settings are incomplete.
        static func noteUnindexed(indexed: Int, options: Options) async {
            var flags = options.broker.flags
            flags.database = options.database.db
            guard let settings = try? CommonSettings.resolve(flags: flags, needsBroker: true) else { return }
            var publisherOptions = PublisherOptions()
            publisherOptions.reconnectTimeout = .seconds(2)
            let publisher = Publisher(settings: settings.connection, options: publisherOptions)
            let ready = try? await publisher.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount
            await publisher.close()
            guard let ready, ready > indexed else { return }
            FileHandle.standardError.write(Data("""
                lodectl: \(ZoneTopology.deadLetterQueue) holds \(ready) messages, the index lists \(indexed) \
                dead letters: `lodectl dlq list --sync` indexes those it does not know (poison messages \
                the broker moved there, dead letters from before the index)

                """.utf8))
        }

        static func json(_ record: DeadLetterRecord) -> JSONValue {
            .object([
                .init("id", .string(record.id)), .init("type", record.type.map { .string($0) } ?? .null),
                .init("reason", .string(record.reason)), .init("attempts", .integer(record.attempts)),
                .init("first_failed_at", .string(record.firstFailedAt)),
                .init("event_id", record.eventID.map { .string($0) } ?? .null),
                .init("error", .string(record.error)), .init("state", .string(record.state.rawValue)),
            ])
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one dead letter whole: what failed, its properties and headers, its body.",
            discussion: """
                Reads the index, not the queue. The body is pretty-printed when it is JSON, \
                printed as text otherwise.

                Example:
                  lodectl dlq show 3f9c2a17b0d4
                """)

        @OptionGroup var options: Options
        @Argument(help: "The dead letter's id, as `lodectl dlq list` shows it.") var id: String

        func run() throws {
            let (store, _) = try options.open(needsBroker: false)
            guard let record = try store.deadLetter(id: id) else {
                fail("no dead letter with id \(id) in the index; see `lodectl dlq list` (or `list --sync` for messages the broker moved there)", status: 65)
            }
            let fields: [(String, String)] = [
                ("id", record.id), ("state", record.state.rawValue), ("type", record.type ?? "-"),
                ("reason", record.reason), ("error", record.error), ("attempts", String(record.attempts)),
                ("first failed", record.firstFailedAt), ("event id", record.eventID ?? "-"),
            ]
            for (label, value) in fields { print(label.padding(toLength: 13, withPad: " ", startingAt: 0) + value.terminalSafe) }
            print("\nproperties and headers:")
            print(PrettyJSON.text(of: record.properties, indent: "  "))
            print("\nbody (\(record.body.count) bytes):")
            print(PrettyJSON.text(of: record.body, indent: "  "))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish dead letters to lode.events again, then remove them from lode.dead.",
            discussion: """
                Reads lode.dead from its head with at most --batch messages unacknowledged. Each \
                chosen message is published to lode.events (routing key = its type, its original \
                properties without x-lode-reason, x-lode-error and the broker's x-death) with a \
                publisher confirm, marked replayed in the index, and only then removed from \
                lode.dead. Every other message read on the way is published to the tail of \
                lode.dead with a confirm before it is removed from the head: nothing is lost, but \
                those move behind the rest. With ids, the sweep stops once it met them all.

                Killed or disconnected half-way, nothing is lost: what was not confirmed is still \
                in lode.dead, and a message confirmed but not yet removed is in both places (the \
                worker's inbox applies it once). Run the same command again to finish (exit 75 \
                says so). An event that fails again comes back to lode.dead with its attempts \
                counted on and its first failure time kept.

                Examples:
                  lodectl dlq replay 3f9c2a17b0d4 8e01d5c2aa90
                  lodectl dlq replay --type zone.project.investment_reported
                  lodectl dlq replay --all
                """)

        @OptionGroup var options: Options
        @OptionGroup var choice: Choice
        @Option(help: "Only the dead letters of this event type.") var type: String?
        @Option(help: "Messages held unacknowledged at most.") var batch = 100

        func validate() throws {
            _ = try choice.selection(type: type)
            guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1...10000, got \(batch)") }
        }

        func run() async throws {
            let (store, settings) = try options.open(needsBroker: true)
            var sweep = DeadLetterSweep(settings: settings.connection, index: store)
            sweep.batch = batch
            let (selection, unknown) = try knownSelection(try choice.selection(type: type), store: store)
            var result = DeadLetterSweepProgress()
            if let selection {
                result = try await runSweep(sweep, selection, action: .replay, progress: ProgressLine(verb: "replayed"))
                print("replayed \(result.replayed) dead letters to \(ZoneTopology.exchange); \(result.kept) others read and put back at the tail of \(ZoneTopology.deadLetterQueue)")
            }
            result.notFound += unknown
            try reportNotFound(result, store: store)
            if result.endedEarly { throw ExitCode(ExitStatus.temporaryFailure) }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove dead letters from lode.dead for good.",
            discussion: """
                Reads lode.dead from its head like `replay` (the messages not chosen go back to \
                its tail with a confirm) and removes the chosen ones; the index marks them \
                purged (`list --history` still shows them, `show` still prints them). \
                On a terminal it asks first; otherwise it needs --yes (exit 64 without).

                Examples:
                  lodectl dlq purge 8e01d5c2aa90
                  lodectl dlq purge --all --yes
                """)

        @OptionGroup var options: Options
        @OptionGroup var choice: Choice
        @Flag(help: "Do not ask; needed when standard input is not a terminal.") var yes = false
        @Option(help: "Messages held unacknowledged at most.") var batch = 100

        func validate() throws {
            _ = try choice.selection(type: nil)
            guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1...10000, got \(batch)") }
        }

        func run() async throws {
            let selection = try choice.selection(type: nil)
            let what = choice.all ? "every message in \(ZoneTopology.deadLetterQueue)" : "\(choice.ids.count) dead letter\(choice.ids.count == 1 ? "" : "s") (\(choice.ids.joined(separator: " ")))"
            if !yes {
                guard isatty(STDIN_FILENO) == 1 else {
                    fail("purge removes dead letters for good: give --yes to confirm (standard input is not a terminal, so it cannot ask); nothing was removed", status: ExitStatus.usage)
                }
                FileHandle.standardError.write(Data("Remove \(what) for good? [y/N] ".utf8))
                let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
                guard answer == "y" || answer == "yes" else {
                    print("nothing removed")
                    return
                }
            }
            let (store, settings) = try options.open(needsBroker: true)
            var sweep = DeadLetterSweep(settings: settings.connection, index: store)
            sweep.batch = batch
            let (known, unknown) = try knownSelection(selection, store: store)
            var result = DeadLetterSweepProgress()
            if let known {
                result = try await runSweep(sweep, known, action: .purge, progress: ProgressLine(verb: "purged"))
            }
            if known != nil {
                print("purged \(result.purged) dead letters from \(ZoneTopology.deadLetterQueue); \(result.kept) others read and put back at its tail")
            }
            result.notFound += unknown
            try reportNotFound(result, store: store)
            if result.endedEarly { throw ExitCode(ExitStatus.temporaryFailure) }
        }
    }
}

/// The ids the index knows, to sweep for; ids it has never seen cannot be in lode.dead under
/// that id (`list --sync` indexes every message there), so they are reported without reading
/// the queue. `nil` when none is known: nothing to sweep.
private func knownSelection(_ selection: DeadLetterSelection, store: any ZoneDatabase) throws
    -> (selection: DeadLetterSelection?, unknown: [String]) {
    guard case .ids(let ids) = selection else { return (selection, []) }
    var known: Set<String> = []
    for id in ids where try store.deadLetter(id: id) != nil { known.insert(id) }
    return (known.isEmpty ? nil : .ids(known), ids.subtracting(known).sorted())
}

/// Runs a sweep, with its progress on a terminal, and turns its errors into exit codes.
private func runSweep(_ sweep: DeadLetterSweep, _ selection: DeadLetterSelection, action: DeadLetterAction,
                      progress: ProgressLine) async throws -> DeadLetterSweepProgress {
    do {
        let result = try await sweep.run(selection, action: action) { progress.show($0) }
        progress.finish()
        if result.endedEarly {
            FileHandle.standardError.write(Data("lodectl: read \(result.read) of the \(result.total) messages \(ZoneTopology.deadLetterQueue) held at the start: the others were purged or taken by another consumer meanwhile; run the command again to go on\n".utf8))
        }
        return result
    } catch {
        progress.finish()
        switch error.kind {
        case .unavailable: fail(error.message, status: ExitStatus.unavailable)
        case .interrupted: fail(error.message, status: ExitStatus.temporaryFailure)
        case .refused: fail(error.message, status: ExitStatus.temporaryFailure)
        }
    }
}

/// Ids asked for that the sweep did not meet in lode.dead: said precisely, exit 65.
private func reportNotFound(_ result: DeadLetterSweepProgress, store: any ZoneDatabase) throws {
    guard !result.notFound.isEmpty else { return }
    var lines: [String] = []
    for id in result.notFound {
        switch try store.deadLetter(id: id)?.state {
        case .replayed?: lines.append("\(id): already replayed (not in \(ZoneTopology.deadLetterQueue) any more)")
        case .purged?: lines.append("\(id): already purged")
        case .missing?: lines.append("\(id): not in \(ZoneTopology.deadLetterQueue) when a sweep last read all of it (removed by something other than lodectl)")
        case .queued?: lines.append("\(id): indexed but not in \(ZoneTopology.deadLetterQueue) now (the worker may be publishing it: try again in a moment)")
        case nil: lines.append("\(id): no such dead letter; see `lodectl dlq list --sync`")
        }
    }
    fail(lines.joined(separator: "\nlodectl: "), status: 65)
}

/// Prints `lodectl: MESSAGE` on standard error and exits with `status`.
func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("lodectl: \(message)\n".utf8))
    exit(status)
}

/// `replayed 120, read 300/500 of lode.dead` rewritten in place on standard error, only when it
/// is a terminal (`read 300/500 of lode.dead` for a sweep that only indexes).
struct ProgressLine: Sendable {
    /// What the sweep does to the chosen messages; nil when it only reads.
    let verb: String?
    let enabled = isatty(STDERR_FILENO) == 1

    func show(_ progress: DeadLetterSweepProgress) {
        guard enabled else { return }
        let done = verb.map { "\($0) \(progress.replayed + progress.purged), " } ?? ""
        let text = "\r\(done)read \(progress.read)/\(progress.total) of \(ZoneTopology.deadLetterQueue)\u{1B}[K"
        FileHandle.standardError.write(Data(text.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Columns padded to their widest cell (by display width, so Chinese text lines up).
struct Table {
    var header: [String]
    var rows: [[String]]

    var text: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { displayWidth($0[column]) }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1 ? row[column] : row[column].padded(to: widths[column])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// The first line of `text`, cut at `max` characters.
func oneLine(_ text: String, max: Int) -> String {
    let line = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
    return line.count > max ? String(line.prefix(max - 1)) + "…" : line
}

/// JSON laid out over lines, two spaces a level; anything that is not JSON as text.
enum PrettyJSON {
    static func text(of bytes: [UInt8], indent: String) -> String {
        guard let value = try? JSONParser.parse(bytes) else {
            // Not JSON: its lines as text, each made safe for the terminal.
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .map { indent + String($0).terminalSafe }.joined(separator: "\n")
        }
        var out = indent
        write(value, level: 0, indent: indent, into: &out)
        // JSON escapes C0 controls already; C1 controls and bidirectional overrides it leaves.
        return out.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).terminalSafe }.joined(separator: "\n")
    }

    private static func write(_ value: JSONValue, level: Int, indent: String, into out: inout String) {
        let pad = indent + String(repeating: "  ", count: level)
        switch value {
        case .array(let elements) where !elements.isEmpty:
            out += "[\n"
            for (index, element) in elements.enumerated() {
                out += pad + "  "
                write(element, level: level + 1, indent: indent, into: &out)
                out += index == elements.count - 1 ? "\n" : ",\n"
            }
            out += pad + "]"
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (index, member) in members.enumerated() {
                out += pad + "  " + String(decoding: JSONValue.string(member.key).serializedBytes(), as: UTF8.self) + ": "
                write(member.value, level: level + 1, indent: indent, into: &out)
                out += index == members.count - 1 ? "\n" : ",\n"
            }
            out += pad + "}"
        default:
            out += String(decoding: value.serializedBytes(), as: UTF8.self)
        }
    }
}
