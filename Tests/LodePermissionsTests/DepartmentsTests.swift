import Foundation
import LodeEvents
import LodeJSON
@testable import LodePermissions
import Testing

/// The rule of contract section 6: who may send which types and sources, judged per event.
@Suite("Departments and permissions")
struct DepartmentsTests {
    static func department(_ name: String, user: String, types: [EventType], sources: [String]) throws -> Department {
        try Department(name: name, user: user, types: types, sources: sources.map { try SourcePattern(parsing: $0) })
    }

    static func zone() throws -> Departments {
        try Departments([
            department("reform", user: "lode-reform", types: [.projectRegistered, .projectStatusChanged],
                       sources: ["dev-reform", "dev-reform/*"]),
            department("invest", user: "lode-invest", types: [.enterpriseContacted, .siteVisit], sources: ["invest/*"]),
        ], replayUsers: ["lode-ctl"])
    }

    @Test func aDepartmentMaySendItsTypesFromItsSources() throws {
        let zone = try Self.zone()
        let sender = zone.sender(userID: "lode-reform", originalUserID: nil)
        #expect(sender.refusal(type: .projectRegistered, source: "dev-reform") == nil)
        #expect(sender.refusal(type: .projectStatusChanged, source: "dev-reform/sheet-3") == nil)
        let invest = zone.sender(userID: "lode-invest", originalUserID: nil)
        #expect(invest.refusal(type: .siteVisit, source: "invest/spring") == nil)
    }

    @Test func anotherTypeIsRefusedNamingTheUserTheTypeAndWhatIsAllowed() throws {
        let refusal = try #require(try Self.zone().sender(userID: "lode-invest", originalUserID: nil)
            .refusal(type: .projectRegistered, source: "invest/x"))
        #expect(refusal.contains("'lode-invest'"))
        #expect(refusal.contains("department 'invest'"))
        #expect(refusal.contains("zone.project.registered"))
        #expect(refusal.contains("zone.recruitment.enterprise_contacted, zone.recruitment.site_visit"))
    }

    @Test func anotherDepartmentsSourceIsRefusedNamingTheSourceAndTheAllowedOnes() throws {
        let sender = try Self.zone().sender(userID: "lode-invest", originalUserID: nil)
        let refusal = try #require(sender.refusal(type: .siteVisit, source: "dev-reform"))
        #expect(refusal.contains("source 'dev-reform'"))
        #expect(refusal.contains("'invest/*'"))
        // A prefix is a prefix of bytes: "invest" alone, or "investor/…", is not under "invest/".
        #expect(sender.refusal(type: .siteVisit, source: "invest") != nil)
        #expect(sender.refusal(type: .siteVisit, source: "investor/x") != nil)
    }

    @Test func sourcesAndUsersCompareByBytesNotByUnicodeEquivalence() throws {
        let zone = try Departments([
            Self.department("a", user: "K-office", types: [.siteVisit], sources: ["caf\u{E9}"]),
        ])
        // "e" + U+0301 and U+00E9 are equal Swift strings, different bytes: a different source.
        #expect(zone.sender(userID: "K-office", originalUserID: nil).refusal(type: .siteVisit, source: "cafe\u{301}") != nil)
        // U+212A KELVIN SIGN is canonically "K": still another broker user.
        if case .department = zone.sender(userID: "\u{212A}-office", originalUserID: nil) {
            Issue.record("the kelvin sign user was taken for K-office")
        }
    }

    @Test func noUserIDOrAnUnknownUserIsRefusedForEveryEvent() throws {
        let zone = try Self.zone()
        let none = try #require(zone.sender(userID: nil, originalUserID: nil).refusal(type: .siteVisit, source: "invest/x"))
        #expect(none.contains("no user_id"))
        let stranger = try #require(zone.sender(userID: "mallory", originalUserID: nil).refusal(type: .siteVisit, source: "invest/x"))
        #expect(stranger.contains("'mallory'") && stranger.contains("belongs to no department"))
        #expect(stranger.contains("invest (user 'lode-invest')"))
    }

    @Test func aReplayUserIsJudgedAsTheUserItNamesAndOnlyIt() throws {
        let zone = try Self.zone()
        let replay = zone.sender(userID: "lode-ctl", originalUserID: "lode-invest")
        #expect(replay.refusal(type: .siteVisit, source: "invest/x") == nil)
        #expect(replay.refusal(type: .projectRegistered, source: "invest/x") != nil)
        let unnamed = try #require(zone.sender(userID: "lode-ctl", originalUserID: nil).refusal(type: .siteVisit, source: "invest/x"))
        #expect(unnamed.contains("x-lode-original-user-id"))
        // Anyone else's header is not read at all.
        var asked = false
        let direct = zone.sender(userID: "lode-reform", originalUserID: { asked = true; return "lode-invest" }())
        #expect(direct.refusal(type: .siteVisit, source: "invest/x") != nil)
        #expect(!asked)
    }

    @Test func overlappingSourcesBetweenDepartmentsAreRefused() throws {
        let cases: [([String], [String])] = [
            (["park/*"], ["park/north/*"]),
            (["park/north"], ["park/*"]),
            (["a"], ["a"]),
        ]
        for (mine, theirs) in cases {
            #expect(throws: PermissionsError.self) {
                try Departments([
                    Self.department("one", user: "u1", types: [.siteVisit], sources: mine),
                    Self.department("two", user: "u2", types: [.siteVisit], sources: theirs),
                ])
            }
        }
        // Near misses are fine.
        _ = try Departments([
            Self.department("one", user: "u1", types: [.siteVisit], sources: ["park/north/*"]),
            Self.department("two", user: "u2", types: [.siteVisit], sources: ["park/south/*", "park/north"]),
        ])
    }

    @Test func aUserBelongsToOneDepartmentAndIsNoReplayUser() throws {
        #expect(throws: PermissionsError.self) {
            try Departments([
                Self.department("one", user: "u", types: [.siteVisit], sources: ["a"]),
                Self.department("two", user: "u", types: [.siteVisit], sources: ["b"]),
            ])
        }
        #expect(throws: PermissionsError.self) {
            try Departments([Self.department("one", user: "u", types: [.siteVisit], sources: ["a"])], replayUsers: ["u"])
        }
        let zone = try Self.zone()
        #expect(throws: PermissionsError.self) { try zone.addingReplayUser("lode-reform") }
        #expect(try zone.addingReplayUser("lode-worker").replayUsers == ["lode-ctl", "lode-worker"])
    }

    @Test func sourcePatternsAreExactValuesOrPrefixesEndingInAStar() throws {
        #expect(try SourcePattern(parsing: "invest/*") == .prefix("invest/"))
        #expect(try SourcePattern(parsing: "invest") == .exact("invest"))
        for bad in ["", "*", "in*vest", "invest/**"] {
            #expect(throws: PermissionsError.self) { try SourcePattern(parsing: bad) }
        }
        #expect(throws: PermissionsError.self) { try Department(name: "x", user: "u", types: [], sources: [.exact("a")]) }
        #expect(throws: PermissionsError.self) { try Department(name: "x", user: "u", types: [.siteVisit], sources: []) }
    }
}

@Suite("Broker definitions")
struct BrokerDefinitionsTests {
    @Test func aDepartmentMayWriteToTheEventsExchangeOnlyWithItsOwnRoutingKeys() throws {
        let zone = try DepartmentsTests.zone()
        let json = BrokerDefinitions(vhost: "lodestone", departments: zone.departments,
                                     users: BrokerUsers(worker: "lode-worker", operators: ["lode-ctl"], monitoring: "lode-monitor"))
            .json(passwordHashes: ["lode-reform": "HASH"])
        guard case .array(let permissions)? = json["permissions"] else { Issue.record("no permissions"); return }
        let reform = try #require(permissions.first { $0["user"] == .string("lode-reform") })
        #expect(reform["configure"] == .string("^$"))
        #expect(reform["read"] == .string("^$"))
        #expect(reform["write"] == .string(#"^lode\.events$"#))
        #expect(reform["vhost"] == .string("lodestone"))
        let worker = try #require(permissions.first { $0["user"] == .string("lode-worker") })
        #expect(worker["write"] == .string(#"^(lode\..*|amq\.default)$"#))
        guard case .array(let topics)? = json["topic_permissions"] else { Issue.record("no topic permissions"); return }
        let reformTopics = try #require(topics.first { $0["user"] == .string("lode-reform") })
        #expect(reformTopics["write"] == .string(#"^(zone\.project\.registered|zone\.project\.status_changed)$"#))
        guard case .array(let users)? = json["users"] else { Issue.record("no users"); return }
        #expect(users.compactMap { if case .string(let name)? = $0["name"] { name } else { nil } }
            == ["lode-reform", "lode-invest", "lode-worker", "lode-ctl", "lode-monitor"])
        #expect(users.first?["password_hash"] == .string("HASH"))
        #expect(users.last?["tags"] == .array([.string("monitoring")]))
    }

    @Test func theTopologyIsTheOneLodectlSetupDeclaresAndLodeDeadKeepsItsMessages() throws {
        let json = BrokerDefinitions(vhost: "v", departments: [], users: BrokerUsers(worker: "w")).json(passwordHashes: [:])
        guard case .array(let queues)? = json["queues"], case .array(let policies)? = json["policies"] else {
            Issue.record("no queues or policies"); return
        }
        let work = try #require(queues.first { $0["name"] == .string("lode.work") })
        #expect(work["arguments"]?["x-queue-type"] == .string("quorum"))
        #expect(work["arguments"]?["x-delivery-limit"] == .integer(10))
        #expect(work["arguments"]?["x-dead-letter-routing-key"] == .string("lode.dead"))
        let policy = try #require(policies.first)
        #expect(policy["pattern"] == .string(#"^lode\.dead$"#))
        #expect(policy["definition"]?["delivery-limit"] == .integer(Int64(Int32.max)))
    }

    /// RabbitMQ's rabbit_password_hashing_sha256, checked against Python's hashlib:
    /// base64.b64encode(salt + hashlib.sha256(salt + b"secret").digest()).
    @Test func passwordHashesAreRabbitMQsSaltedSHA256() {
        #expect(BrokerDefinitions.passwordHash("secret", salt: [0xCA, 0xFE, 0xBA, 0xBE])
            == "yv66vu9bOBFV4Sw4g0QFa4RKpmx/ioha+FQEd/+3sgOwi9+j")
    }
}
