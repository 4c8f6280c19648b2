import LodeJSON
import ArgumentParser
import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections
import LodeStorage

/// `lodectl notifications`: what the outbox holds, and sending a failed one again.
struct Notifications: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the notifications the worker recorded, and send failed ones again.",
        discussion: """
            Each notification is recorded in the worker's database in the same transaction as the \
            change that caused it, once per key, with one delivery per channel. The worker's \
            dispatcher sends pending deliveries with retries; a delivery that keeps failing, or \
            that its channel refuses (a bad token or signature), is marked failed.

            Examples:
              lodectl notifications list --db lodestone.sqlite
              lodectl notifications list --failed --json
              lodectl notifications retry 42
            """,
        subcommands: [List.self, Retry.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, oldest first (the last 1,000).")

        @OptionGroup var store: StoreOptions
        @Flag(help: "Only the failed deliveries.") var failed = false
        @Flag(help: "A JSON array instead of a table.") var json = false

        func run() throws {
            let store = try store.open()
            let entries = try store.outboxEntries(failedOnly: failed)
            if json {
                let array = JSONValue.array(entries.map { entry in
                    var members: [JSONMember] = [
                        .init("id", .integer(entry.id)), .init("rule", .string(entry.rule)),
                        .init("channel", .string(entry.channel)), .init("state", .string(entry.state.rawValue)),
                        .init("attempts", .integer(entry.attempts)), .init("title", .string(entry.title)),
                        .init("key", .string(entry.key)), .init("created_at", .string(entry.createdAt.ISO8601Format())),
                    ]
                    members.append(.init("last_error", entry.lastError.map { .string($0) } ?? .null))
                    members.append(.init("delivered_at", entry.deliveredAt.map { .string($0.ISO8601Format()) } ?? .null))
                    return .object(members)
                })
                print(String(decoding: array.serializedBytes(), as: UTF8.self))
                return
            }
            let queued = failed ? [] : try store.queuedNotificationCounts()
            guard !entries.isEmpty || !queued.isEmpty else {
                print(failed ? "no failed notifications" : "no notifications recorded")
                return
            }
            for entry in entries {
                var line = "\(entry.id)\t\(entry.state.rawValue)\t\(entry.rule) → \(entry.channel)\t"
                line += "\(entry.createdAt.ISO8601Format())\tattempts \(entry.attempts)\t\(entry.title.terminalSafe)"
                if let error = entry.lastError, entry.state != .delivered { line += "\t(\(error.terminalSafe))" }
                print(line)
            }
            // Event notifications wait in order behind each rule's pending deliveries; they get
            // an id when the dispatcher moves them into the outbox.
            for (rule, channel, count) in queued {
                print("queued\t\(rule) → \(channel)\t\(count) more, sent after the pending ones above")
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a failed delivery again (the worker's dispatcher picks it up within a second).")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The delivery's id, as `lodectl notifications list --failed` shows it.") var ids: [Int64]

        func validate() throws {
            guard !ids.isEmpty else { throw ValidationError("give the id of at least one failed delivery") }
        }

        func run() throws {
            let store = try store.open()
            var missing: [Int64] = []
            for id in ids {
                if try store.retryDelivery(id) { print("delivery \(id): pending again") } else { missing.append(id) }
            }
            if !missing.isEmpty {
                FileHandle.standardError.write(Data("lodectl: no failed delivery with id \(missing.map(String.init).joined(separator: ", ")); see `lodectl notifications list --failed`\n".utf8))
                throw ExitCode(65)
            }
        }
    }
}
