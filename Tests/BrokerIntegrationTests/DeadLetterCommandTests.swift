import LodeJSON
import Foundation
import GRDB
import LodeAMQP
import LodeEvents
import LodeProjections
import LodeStorage
import LodeWire
import Testing

extension BrokerTests {
    /// `lodectl dlq` against the real broker, the real `lode-worker` and the worker's database.
    @Suite("lodectl dlq: list, replay and purge dead letters")
    struct DeadLetterCommand {
        static let environment = ["LODE_AMQP_URL": BrokerFixture.url]

        func lodectl(_ arguments: [String], db: String) async throws -> PublishProcess.Outcome {
            try await PublishProcess.run(["dlq"] + arguments + ["--db", db], environment: Self.environment, program: "lodectl")
        }

        /// `lodectl dlq list --json ...` parsed: its array's objects.
        func list(_ extra: [String] = [], db: String) async throws -> [JSONValue] {
            let outcome = try await lodectl(["list", "--json"] + extra, db: db)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            guard case .array(let items) = try JSONParser.parse(outcome.stdout) else {
                Issue.record("not a JSON array: \(outcome.stdout)")
                return []
            }
            return items
        }

        func deadCount(_ admin: Publisher) async throws -> Int {
            Int(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount ?? 0)
        }

        func event(_ id: String, status: String = "started") -> OutgoingMessage {
            let body = #"{"specversion":"1.0","id":"\#(id)","source":"bt-dept/projects","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-\#(id)","status":"\#(status)"}}"#
            return OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "zone.project.status_changed", body: Array(body.utf8),
                                   properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2,
                                                                 messageID: id, type: "zone.project.status_changed"),
                                   mandatory: true)
        }

        /// `count` dead letters put straight into `lode.dead`, as a worker from before the index
        /// left them: the contract's headers, no index row, bodies that apply now.
        func unindexedDeadLetters(_ count: Int, prefix: String, admin: Publisher) async throws {
            let messages = (1...count).map { index in
                var message = event("\(prefix)-\(index)")
                message.exchange = ""
                message.routingKey = ZoneTopology.deadLetterQueue
                message.properties.headers = [
                    "x-lode-reason": .string("unknown_type"), "x-lode-error": .string("a type this release did not know"),
                    "x-lode-attempts": .int32(1), "x-lode-first-failed-at": .string("2024-05-05T02:00:00Z"),
                    "x-lode-event-id": .string("\(prefix)-\(index)"),
                ]
                return message
            }
            #expect(try await admin.publish(messages).allConfirmed)
        }

        func startWorker(db: String) throws -> ServiceProcess {
            try ServiceProcess("lode-worker", ["--db", db, "--metrics-address", "127.0.0.1:0"], environment: Self.environment)
        }

        func store(_ db: String) throws -> SQLiteZoneStore {
            try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
        }

        @Test func aDeadLetterOfTheWorkerIsListedAndOnceFixedAndReplayedItIsAppliedOnceAndLodeDeadIsEmpty() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-dlq")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"
            // A store that refuses one event: the stand-in for a value this release's schema
            // refuses. The worker applies the batch's events one by one and dead-letters that
            // one alone, with the store's error (reason store_rejected).
            _ = try store(db)
            let database = try DatabaseQueue(path: db)
            try await database.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER refuse_event BEFORE INSERT ON event_log WHEN NEW.event_id = 'evt-refused'
                    BEGIN SELECT RAISE(ABORT, 'a value this release refuses'); END
                    """)
            }
            var worker = try startWorker(db: db)

            // An invalid event: the worker dead-letters it itself (and indexes it).
            #expect(try await admin.publish([event("evt-1"), event("evt-bad", status: "exploded")]).allConfirmed)
            #expect(try await BrokerFixture.eventually { try await deadCount(admin) == 1 }, "\(worker.stderr)")
            #expect(try await BrokerFixture.eventually { try store(db).loggedEventCount() == 1 })
            var listed = try await list(db: db)
            #expect(listed.count == 1)
            let bad = try #require(listed.first)
            #expect(bad["reason"] == .string("invalid_event"))
            #expect(bad["type"] == .string("zone.project.status_changed"))
            #expect(bad["attempts"] == .integer(1))
            #expect(bad["event_id"] == .string("evt-bad"))
            guard case .string(let badID)? = bad["id"], case .string(let firstFailed)? = bad["first_failed_at"] else {
                Issue.record("no id or first_failed_at: \(bad)")
                return
            }
            #expect(firstFailed.hasPrefix("20"))
            let shown = try await lodectl(["show", badID], db: db)
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains(#""x-lode-reason": "invalid_event""#) && shown.stdout.contains(#""status": "exploded""#),
                    "\(shown.stdout)")

            // The refused event, with its neighbours of the same batch applied.
            #expect(try await admin.publish([event("evt-2"), event("evt-refused"), event("evt-3")]).allConfirmed)
            #expect(try await BrokerFixture.eventually { try await deadCount(admin) == 2 }, "\(worker.stderr)")
            #expect(try await BrokerFixture.eventually { try store(db).loggedEventCount() == 3 })
            let refusedEntry = try #require(try await list(db: db).first { $0["reason"] == .string("store_rejected") })
            #expect(refusedEntry["event_id"] == .string("evt-refused"))
            if case .string(let error)? = refusedEntry["error"] { #expect(error.contains("a value this release refuses"), "\(error)") }
            guard case .string(let refusedID)? = refusedEntry["id"] else { return }

            // A poison message: the worker is stopped, and a consumer that gives it back ten times
            // makes the broker move it to lode.dead by itself, where no index row announces it.
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            #expect(try await admin.publish([event("evt-poison")]).allConfirmed)
            try await Self.poison(admin: admin) { try await deadCount(admin) == 3 }
            #expect(try await list(db: db).count == 2, "not indexed until a sweep meets it")
            listed = try await list(["--sync"], db: db)
            #expect(listed.count == 3)
            let poison = try #require(listed.first { $0["reason"] == .string("poison") }, "\(listed)")
            #expect(poison["event_id"] == .string("evt-poison"))
            guard case .string(let poisonID)? = poison["id"] else { return }
            #expect(try await BrokerFixture.eventually { try await deadCount(admin) == 3 }, "the sync put them back")
            worker = try startWorker(db: db)

            // Purge off a terminal without --yes: refused, nothing removed.
            let refused = try await lodectl(["purge", badID], db: db)
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("--yes"), "\(refused.stderr)")
            #expect(try await deadCount(admin) == 3)

            // The fix, then the replays: each applied once, gone from lode.dead.
            try await database.write { db in try db.execute(sql: "DROP TRIGGER refuse_event") }
            for id in [refusedID, poisonID] {
                let replayed = try await lodectl(["replay", id], db: db)
                #expect(replayed.status == 0, "\(replayed.stderr)")
                #expect(replayed.stdout.contains("replayed 1 "), "\(replayed.stdout)")
            }
            #expect(try await BrokerFixture.eventually { try store(db).loggedEventCount() == 5 }, "\(worker.stderr)")
            let purged = try await lodectl(["purge", badID, "--yes"], db: db)
            #expect(purged.status == 0, "\(purged.stderr)")
            #expect(try await BrokerFixture.eventually { try await deadCount(admin) == 0 })
            #expect(try await list(db: db).isEmpty)
            let history = try await list(["--history"], db: db)
            #expect(Set(history.compactMap { $0["state"] }) == [.string("replayed"), .string("purged")])

            // Again: nothing to do, said precisely.
            let again = try await lodectl(["replay", poisonID], db: db)
            #expect(again.status == 65)
            #expect(again.stderr.contains("already replayed"), "\(again.stderr)")

            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            #expect(try store(db).loggedEventCount() == 5)
            #expect(try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount == 0)
            #expect(try await deadCount(admin) == 0)
            await admin.close()
        }

        /// Gives the head of lode.work back to the queue until the broker's delivery limit moves it
        /// to lode.dead (x-death reason delivery_limit): a poison message made on demand.
        static func poison(admin: Publisher, until moved: () async throws -> Bool) async throws {
            var options = ConsumerOptions()
            options.prefetch = 1
            options.maxBatch = 1
            let consumer = Consumer(settings: try BrokerFixture.settings(), queue: ZoneTopology.workQueue,
                                    topology: ZoneTopology.topology, options: options) { deliveries, acknowledgements in
                acknowledgements.nackAll(deliveries, requeue: true)
            }
            try await consumer.start()
            #expect(try await BrokerFixture.eventually(timeout: .seconds(60)) { try await moved() }, "not moved to lode.dead")
            await consumer.close()
        }

        @Test func aReplayKilledHalfWayLosesNothingAndARerunFinishesIt() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-dlq-kill")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"
            let total = 400
            try await unindexedDeadLetters(total, prefix: "evt-k", admin: admin)
            #expect(try await deadCount(admin) == total)

            // No worker yet: what the replay confirmed waits in lode.work.
            let replay = try ServiceProcess("lodectl", ["dlq", "replay", "--all", "--batch", "5", "--db", db],
                                            environment: Self.environment)
            #expect(try await BrokerFixture.eventually(timeout: .seconds(60), poll: .milliseconds(2)) {
                try await deadCount(admin) <= total - 100
            }, "\(replay.stderr)")
            replay.signal(SIGKILL)
            #expect(await replay.exitStatus() == 128 + SIGKILL)

            // Nothing lost: every dead letter is in lode.work, in lode.dead, or both.
            var dead = 0, work = 0
            #expect(try await BrokerFixture.eventually {
                dead = try await deadCount(admin)
                work = Int(try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount ?? 0)
                return dead + work >= total
            }, "lode.dead \(dead) + lode.work \(work) < \(total)")
            #expect(dead > 0 && dead < total, "killed half-way: \(dead) of \(total) still in lode.dead")

            // The worker applies what was replayed; a second run replays the rest.
            let worker = try startWorker(db: db)
            let rerun = try await lodectl(["replay", "--all"], db: db)
            #expect(rerun.status == 0, "\(rerun.stderr)")
            #expect(try await BrokerFixture.eventually(timeout: .seconds(60)) {
                let dead = try await deadCount(admin)
                let work = try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount
                return try dead == 0 && work == 0 && store(db).loggedEventCount() == total
            }, "\(worker.stderr)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            #expect(try store(db).loggedEventCount() == total, "each applied once")
            #expect(try await list(db: db).isEmpty)
            let history = try await list(["--history"], db: db)
            #expect(history.count == total)
            #expect(history.allSatisfy { $0["state"] == .string("replayed") && $0["reason"] == .string("unknown_type") })
            await admin.close()
        }

        @Test func purgeOffATerminalWithoutYesExits64AndRemovesNothing() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-dlq-purge")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"
            let total = 250
            try await unindexedDeadLetters(total, prefix: "evt-p", admin: admin)

            let refused = try await lodectl(["purge", "--all"], db: db)
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("--yes") && refused.stderr.contains("nothing was removed"), "\(refused.stderr)")
            #expect(try await deadCount(admin) == total)

            let purged = try await lodectl(["purge", "--all", "--yes"], db: db)
            #expect(purged.status == 0, "\(purged.stderr)")
            #expect(purged.stdout.contains("purged \(total) "), "\(purged.stdout)")
            #expect(try await BrokerFixture.eventually { try await deadCount(admin) == 0 })
            let history = try await list(["--history"], db: db)
            #expect(history.count == total && history.allSatisfy { $0["state"] == .string("purged") })
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await deadCount(admin) == 0, "no acknowledgement lost at the close")
            await admin.close()
        }

        @Test func aSyncIndexesWhatItMeetsAndLeavesTheQueueAsItWasWithoutDuplicates() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-dlq-sync")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"
            let total = 250
            try await unindexedDeadLetters(total, prefix: "evt-s", admin: admin)
            #expect(try await list(db: db).isEmpty)
            for _ in 1...2 {
                let listed = try await list(["--sync"], db: db)
                #expect(listed.count == total)
                #expect(Set(listed.compactMap { $0["event_id"] }).count == total)
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await deadCount(admin) == total, "every message put back once, each acknowledged")
            }

            // Purged behind lodectl's back: the rows are not deleted, a whole sweep marks them
            // missing once they are a minute old.
            try await admin.purgeQueue(ZoneTopology.deadLetterQueue)
            let database = try DatabaseQueue(path: db)
            try await database.write { db in try db.execute(sql: "UPDATE dead_letter SET recorded_at = recorded_at - 120") }
            #expect(try await list(["--sync"], db: db).isEmpty)
            let history = try await list(["--history"], db: db)
            #expect(history.count == total && history.allSatisfy { $0["state"] == .string("missing") })
            await admin.close()
        }
    }
}
