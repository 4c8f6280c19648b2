import Foundation
import LodeAMQP
import LodeEvents
import LodeJSON
import LodePermissions
import LodeProjections
import LodeStorage
import LodeWire
import Testing

extension BrokerTests {
    /// Contract section 6 against a broker loaded with the definitions `lodectl definitions`
    /// writes: what the broker refuses, and what the worker refuses.
    @Suite("Departments and permissions")
    struct Departments {
        static func event(_ id: String, type: String = "zone.recruitment.site_visit",
                          source: String = DepartmentWorld.sources["invest"]!,
                          data: String = #"{"enterprise":"臥龍控股集團","campaign":"百日攻堅"}"#) -> [UInt8] {
            Array(#"{"specversion":"1.0","id":"\#(id)","source":"\#(source)","type":"\#(type)","time":"2024-05-05T10:00:00+08:00","data":\#(data)}"#.utf8)
        }

        static func message(_ body: [UInt8], routingKey: String = "zone.recruitment.site_visit", exchange: String = ZoneTopology.exchange,
                            userID: String?) -> OutgoingMessage {
            OutgoingMessage(exchange: exchange, routingKey: routingKey, body: body,
                            properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2,
                                                          userID: userID),
                            mandatory: true)
        }

        /// Whether `body` ends in an AMQP error with reply code `code` (403 access refused, 406
        /// precondition failed).
        static func refused(_ code: UInt16, _ body: () async throws -> Void) async -> Bool {
            do {
                try await body()
                return false
            } catch let error as AMQPError {
                return error.replyCode == code
            } catch {
                return false
            }
        }

        static func publishRefused(_ publisher: Publisher, _ message: OutgoingMessage, code: UInt16) async -> Bool {
            do {
                let report = try await publisher.publish([message])
                return !report.allConfirmed && report.interruption?.replyCode == code
            } catch {
                return error.replyCode == code
            }
        }

        @Test func aDepartmentUserMayPublishItsTypesToLodeEventsAndDoNothingElse() async throws {
            let world = try await DepartmentWorld.make("dept-broker")
            defer { world.remove() }
            var options = PublisherOptions()
            options.reconnectTimeout = .seconds(5)
            let invest = Publisher(settings: try world.settings(world.invest), options: options)
            defer { Task { await invest.close() } }
            let observer = Publisher(settings: try world.settings(world.worker))
            defer { Task { await observer.close() } }

            // Its own types, to lode.events, as itself: confirmed and queued for the worker.
            #expect(try await invest.publish([Self.message(Self.event("ok-1"), userID: world.invest)]).allConfirmed)
            #expect(try await BrokerFixture.eventually { try await observer.inspectQueue(ZoneTopology.workQueue)?.messageCount == 1 })

            // Another department's routing key: the broker's topic permission refuses it.
            #expect(await Self.publishRefused(invest, Self.message(
                Self.event("t-1", type: "zone.project.registered"), routingKey: "zone.project.registered", userID: world.invest), code: 403))
            // The default exchange, hence lode.dead: refused.
            #expect(await Self.publishRefused(invest, Self.message(
                Self.event("d-1"), routingKey: ZoneTopology.deadLetterQueue, exchange: "", userID: world.invest), code: 403))
            // Another department's user_id: RabbitMQ refuses a user_id that is not the login's.
            #expect(await Self.publishRefused(invest, Self.message(Self.event("f-1"), userID: world.reform), code: 406))
            // Declaring, binding, purging, reading: refused.
            #expect(await Self.refused(403) { try await invest.declare(Topology(queues: [QueueSpec(name: "lode.mine")])) })
            #expect(await Self.refused(403) {
                try await invest.declare(Topology(bindings: [BindingSpec(queue: ZoneTopology.workQueue, exchange: ZoneTopology.exchange,
                                                                         routingKey: "#")]))
            })
            #expect(await Self.refused(403) { _ = try await invest.purgeQueue(ZoneTopology.workQueue) })
            var consumerOptions = ConsumerOptions()
            consumerOptions.startTimeout = .seconds(10)
            let reader = Consumer(settings: try world.settings(world.invest), queue: ZoneTopology.workQueue, options: consumerOptions)
            #expect(await Self.refused(403) { try await reader.start() })
            await reader.close()

            // Nothing of it reached a queue: the one confirmed message is all lode.work holds.
            #expect(try await observer.inspectQueue(ZoneTopology.workQueue)?.messageCount == 1)
            #expect(try await observer.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
        }

        @Test func eachDepartmentPublishesOnlyItsOwnUpdatesAndCannotTakeAnothersIDs() async throws {
            let world = try await DepartmentWorld.make("dept-worker")
            defer { world.remove() }
            let db = world.directory + "/zone.sqlite"
            let worker = try ServiceProcess("lode-worker", ["--db", db, "--metrics-address", "127.0.0.1:0"],
                                            environment: world.environment(world.worker))
            let observer = Publisher(settings: try world.settings(world.worker))
            defer { Task { await observer.close() } }

            // Investment promotion first publishes, under its own source, site visits that reuse
            // the ids of development and reform's registrations.
            let registrations = try String(contentsOfFile: try world.demoPart("reform"), encoding: .utf8).split(separator: "\n")
            let squatIDs = registrations.prefix(5).map { line -> String in
                line.firstMatch(of: /"id":"([^"]+)"/).map { String($0.1) } ?? ""
            }
            let squats = squatIDs.map { id in
                String(decoding: Self.event(id, data: #"{"enterprise":"搶注企業","campaign":"squat"}"#), as: UTF8.self)
            }
            let squatFile = world.directory + "/squats.ndjson"
            try (squats.joined(separator: "\n") + "\n").write(toFile: squatFile, atomically: true, encoding: .utf8)
            let squatted = try await PublishProcess.run([squatFile], environment: world.environment(world.invest))
            #expect(squatted.status == 0, "\(squatted.stderr)")

            // Then every department publishes its part of the demo set, as its own user.
            for (department, user) in [("reform", world.reform), ("invest", world.invest), ("construction", world.construction),
                                       ("statistics", world.statistics)] {
                let published = try await PublishProcess.run([try world.demoPart(department)], environment: world.environment(user))
                #expect(published.status == 0, "\(department): \(published.stderr)")
            }

            // What the departments may not do:
            // - a type the department may not send: lode-publish's routing key is the type, and
            //   the broker refuses it outright;
            let wrongType = try PublishProcess.file(String(decoding: Self.event(
                "reg-by-invest", type: "zone.project.registered", source: DepartmentWorld.sources["invest"]!,
                data: #"{"project_id":"BT-X","name":"x","plan_year":2024,"categories":["industrial"],"new_start":true,"total_investment":1,"planned_investment":1}"#),
                as: UTF8.self), extension: "ndjson")
            defer { unlink(wrongType) }
            let refusedType = try await PublishProcess.run([wrongType], environment: world.environment(world.invest))
            #expect(refusedType.status == 77, "the broker refused this user: \(refusedType.stderr)")
            #expect(refusedType.stderr.contains("403") || refusedType.stderr.lowercased().contains("access"), "\(refusedType.stderr)")
            // - the same type under an allowed routing key (the body wins): the worker refuses it;
            // - another department's source, and a message without user_id: the worker refuses them.
            let raw = Publisher(settings: try world.settings(world.invest))
            defer { Task { await raw.close() } }
            let reformSource = DepartmentWorld.sources["reform"]!
            #expect(try await raw.publish([
                Self.message(Self.event("disguised", type: "zone.project.registered",
                                        data: #"{"project_id":"BT-X","name":"x","plan_year":2024,"categories":["industrial"],"new_start":true,"total_investment":1,"planned_investment":1}"#),
                             userID: world.invest),
                Self.message(Self.event("foreign-source", source: reformSource), userID: world.invest),
                Self.message(Self.event("anonymous"), userID: nil),
            ]).allConfirmed)

            let total = try String(contentsOfFile: BrokerTests.WorkerThroughTheBroker.demoFile, encoding: .utf8)
                .split(separator: "\n").count
            let store = try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
            #expect(try await BrokerFixture.eventually(timeout: .seconds(120)) {
                let dead = try await observer.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount
                return try store.loggedEventCount() == total + squats.count && dead == 3
            }, "\(worker.stderr)")

            // The figures: the demo set's, whoever published first under the same ids (an event is
            // its source and id); the squats count as the investment bureau's own visits.
            let expectedStore = try SQLiteZoneStore(path: world.directory + "/expected.sqlite",
                                                    configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
            let demo = try String(contentsOfFile: BrokerTests.WorkerThroughTheBroker.demoFile, encoding: .utf8)
                .split(separator: "\n").map { try IncomingEvent(decoding: Array($0.utf8)) }
            _ = try expectedStore.apply(demo + squats.map { try IncomingEvent(decoding: Array($0.utf8)) })
            let report = try store.report(year: 2024, targets: [])
            #expect(report == (try expectedStore.report(year: 2024, targets: [])))
            #expect(report.projects.major == 71)
            #expect(report.recruitment.byCampaign.first { $0.name == "squat" }?.siteVisits == 5)

            // The three refusals, each named: who, what, and what the config allows.
            let listed = try await PublishProcess.run(["dlq", "list", "--json", "--db", db],
                                                      environment: world.environment(world.ctl), program: "lodectl")
            #expect(listed.status == 0, "\(listed.stderr)")
            guard case .array(let letters) = try JSONParser.parse(listed.stdout) else {
                Issue.record("not a JSON array: \(listed.stdout)")
                return
            }
            func letter(_ id: String) -> JSONValue? { letters.first { $0["event_id"] == .string(id) } }
            for id in ["disguised", "foreign-source", "anonymous"] {
                #expect(letter(id)?["reason"] == .string("unauthorized"), "\(id): \(letters)")
            }
            let errors = ["disguised", "foreign-source", "anonymous"].map { id -> String in
                if case .string(let text)? = letter(id)?["error"] { text } else { "" }
            }
            #expect(errors[0].contains("'\(world.invest)'") && errors[0].contains("may not send type zone.project.registered"), "\(errors[0])")
            #expect(errors[1].contains("source '\(reformSource)'") && errors[1].contains("bt-hitech/investment-promotion-bureau"), "\(errors[1])")
            #expect(errors[2].contains("no user_id"), "\(errors[2])")
            #expect(worker.stderr.contains("reason=unauthorized"), "the worker's log says so too")

            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
        }

        @Test func aForgedDeadLetterIsUntrustedListedAsSuchAndReplayedOnlyByItsID() async throws {
            let world = try await DepartmentWorld.make("dept-dlq")
            defer { world.remove() }
            // An intruder that can reach lode.dead (a misconfigured user): write on the default
            // exchange only, loaded as definitions of their own.
            let intruder = "lode-intruder-\(world.id)"
            let password = "pw-\(UUID().uuidString)"
            let extra = world.directory + "/intruder.json"
            try String(decoding: JSONValue.object([
                .init("users", .array([.object([
                    .init("name", .string(intruder)),
                    .init("password_hash", .string(BrokerDefinitions.passwordHash(password, salt: BrokerDefinitions.randomSalt()))),
                    .init("hashing_algorithm", .string("rabbit_password_hashing_sha256")), .init("tags", .array([])),
                ])])),
                .init("permissions", .array([.object([
                    .init("user", .string(intruder)), .init("vhost", .string(world.vhost)), .init("configure", .string("^$")),
                    .init("write", .string(#"^amq\.default$"#)), .init("read", .string("^$")),
                ])])),
            ]).serializedBytes(), as: UTF8.self).write(toFile: extra, atomically: true, encoding: .utf8)
            try BrokerFixture.script("load-definitions", extra)
            defer { _ = try? BrokerFixture.script("ctl", "delete_user", intruder) }

            let db = world.directory + "/zone.sqlite"
            let worker = try ServiceProcess("lode-worker", ["--db", db, "--metrics-address", "127.0.0.1:0"],
                                            environment: world.environment(world.worker))
            let observer = Publisher(settings: try world.settings(world.worker))
            defer { Task { await observer.close() } }
            func dead() async throws -> Int { Int(try await observer.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount ?? 0) }

            // A real dead letter: the worker refuses the investment bureau's event from the
            // reform bureau's source.
            let invest = Publisher(settings: try world.settings(world.invest))
            defer { Task { await invest.close() } }
            #expect(try await invest.publish([Self.message(Self.event("real-1", source: DepartmentWorld.sources["reform"]!),
                                                           userID: world.invest)]).allConfirmed)
            #expect(try await BrokerFixture.eventually { try await dead() == 1 }, "\(worker.stderr)")

            // A forged one: the contract's headers, as if the worker had published it.
            var settings = try ConnectionSettings(url: world.url(intruder))
            settings.password = password
            let forger = Publisher(settings: settings)
            defer { Task { await forger.close() } }
            var forged = Self.message(Self.event("forged-1"), routingKey: ZoneTopology.deadLetterQueue, exchange: "", userID: intruder)
            forged.properties.headers = [
                "x-lode-reason": .string("invalid_event"), "x-lode-error": .string("replay me, the worker says so"),
                "x-lode-attempts": .int32(1), "x-lode-first-failed-at": .string("2024-05-05T02:00:00Z"),
                "x-lode-original-user-id": .string(world.invest), "x-lode-dead-letter-id": .string("000000000001"),
            ]
            forged.properties.type = "zone.recruitment.site_visit"
            #expect(try await forger.publish([forged]).allConfirmed)
            #expect(try await BrokerFixture.eventually { try await dead() == 2 })

            func lodectl(_ arguments: [String]) async throws -> PublishProcess.Outcome {
                try await PublishProcess.run(["dlq"] + arguments + ["--db", db], environment: world.environment(world.ctl),
                                             program: "lodectl")
            }
            let listed = try await lodectl(["list", "--sync", "--json"])
            #expect(listed.status == 0, "\(listed.stderr)")
            guard case .array(let letters) = try JSONParser.parse(listed.stdout) else { Issue.record("not a JSON array: \(listed.stdout)"); return }
            guard let untrusted = letters.first(where: { $0["reason"] == .string("untrusted") }) else {
                Issue.record("no untrusted dead letter: \(letters)")
                return
            }
            #expect(untrusted["id"] != .string("000000000001"), "not the id it claims")
            if case .string(let error)? = untrusted["error"] {
                #expect(error.contains("'\(intruder)'") && !error.contains("replay me"), "\(error)")
            }
            #expect(letters.contains { $0["reason"] == .string("unauthorized") }, "the worker's own is believed")
            guard case .string(let forgedID)? = untrusted["id"] else { return }
            let shown = try await lodectl(["show", forgedID])
            #expect(shown.stdout.contains("UNTRUSTED") && shown.stdout.contains("replay me, the worker says so"), "\(shown.stdout)")

            // --all replays the worker's dead letter only (refused again by the worker, it comes
            // back with its attempts counted on); the forged one stays where it is.
            let all = try await lodectl(["replay", "--all"])
            #expect(all.status == 0, "\(all.stderr)")
            #expect(all.stdout.contains("replayed 1 "), "\(all.stdout)")
            #expect(all.stderr.contains("1 untrusted message"), "\(all.stderr)")
            #expect(try await BrokerFixture.eventually {
                let count = try await dead()
                return count == 2 && worker.stderr.components(separatedBy: "reason=unauthorized").count == 3
            }, "\(worker.stderr)")
            #expect(try store(db).deadLetter(id: forgedID)?.state == .queued)

            // Asked for by id, it is replayed, as its real publisher's: the intruder is no department.
            let byID = try await lodectl(["replay", forgedID])
            #expect(byID.status == 0, "\(byID.stderr)")
            #expect(try await BrokerFixture.eventually {
                let count = try await dead()
                return worker.stderr.contains("event_id=forged-1") && count == 2
            }, "\(worker.stderr)")
            let after = try await lodectl(["list", "--sync", "--json"])
            guard case .array(let now) = try JSONParser.parse(after.stdout) else { Issue.record("not a JSON array: \(after.stdout)"); return }
            guard let judged = now.first(where: { $0["event_id"] == .string("forged-1") }) else {
                Issue.record("forged-1 is not listed: \(now)")
                return
            }
            #expect(judged["reason"] == .string("unauthorized"))
            if case .string(let error)? = judged["error"] {
                #expect(error.contains("'\(intruder)'") && error.contains("belongs to no department"), "\(error)")
            }
            #expect(try store(db).loggedEventCount() == 0, "neither was applied")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
        }

        func store(_ db: String) throws -> SQLiteZoneStore {
            try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
        }
    }
}
