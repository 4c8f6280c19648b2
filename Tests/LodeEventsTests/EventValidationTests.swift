import LodeJSON
import Testing
@testable import LodeEvents

/// One change to a valid event and what validation must say about it.
struct RuleCase: Sendable, CustomTestStringConvertible {
    let type: EventType
    let field: String
    /// The new value of `data.field`; nil removes the field.
    let value: JSONValue?
    /// The start of the issue's description ("data.x: expected …"), or nil
    /// when the event must stay valid.
    let issue: String?

    var testDescription: String {
        "\(type.rawValue) data.\(field) = \(value.map { $0.serializedText() } ?? "(absent)") → \(issue ?? "valid")"
    }

    static func valid(_ type: EventType, _ field: String, _ value: JSONValue?) -> RuleCase {
        RuleCase(type: type, field: field, value: value, issue: nil)
    }

    static func invalid(_ type: EventType, _ field: String, _ value: JSONValue?, _ issue: String) -> RuleCase {
        RuleCase(type: type, field: field, value: value, issue: issue)
    }
}

@Suite("Event validation")
struct EventValidationTests {
    static let cjk1000 = String(repeating: "稀", count: 1000)
    static let cjk1001 = String(repeating: "稀", count: 1001)

    @Test(arguments: EventType.allCases)
    func everyTypesFixtureIsValid(type: EventType) throws {
        let event = try Event.decode(Fixtures.body(Fixtures.envelope(type)))
        #expect(event.type == type)
    }

    /// Every data rule of section 3, with a passing and a failing case.
    @Test(arguments: [
        // project_id: 1–64 of A-Za-z0-9._-
        RuleCase.valid(.projectRegistered, "project_id", .string("a.B_9-z")),
        .valid(.projectRegistered, "project_id", .string(String(repeating: "x", count: 64))),
        .invalid(.projectRegistered, "project_id", .string(String(repeating: "x", count: 65)), "data.project_id: expected a project id"),
        .invalid(.projectRegistered, "project_id", .string("BT 2024"), "data.project_id: expected a project id of 1–64 characters from A-Z a-z 0-9 . _ -, found 'BT 2024'"),
        .invalid(.projectRegistered, "project_id", .string("項目1"), "data.project_id: expected a project id"),
        .invalid(.projectRegistered, "project_id", .string(""), "data.project_id: expected a project id of 1–64 characters from A-Z a-z 0-9 . _ -, found an empty string"),
        .invalid(.projectRegistered, "project_id", .integer(12), "data.project_id: expected a project id of 1–64 characters from A-Z a-z 0-9 . _ -, found 12"),
        .invalid(.projectRegistered, "project_id", nil, "data.project_id: required field is missing"),
        // name: required, non-empty, ≤ 1000 scalars
        .valid(.projectRegistered, "name", .string(cjk1000)),
        .invalid(.projectRegistered, "name", .string(cjk1001), "data.name: expected a string of at most 1000 Unicode characters, found one of 1001"),
        .invalid(.projectRegistered, "name", .string(""), "data.name: expected a non-empty string, found an empty string"),
        .invalid(.projectRegistered, "name", .null, "data.name: expected a non-empty string, found null"),
        .invalid(.projectRegistered, "name", .string("a\u{0}b"), "data.name: expected a string without U+0000"),
        .invalid(.projectRegistered, "name", nil, "data.name: required field is missing"),
        // plan_year: integer 1900…2200
        .valid(.projectRegistered, "plan_year", .integer(1900)),
        .valid(.projectRegistered, "plan_year", .integer(2200)),
        .invalid(.projectRegistered, "plan_year", .integer(1899), "data.plan_year: expected a year from 1900 to 2200, found 1899"),
        .invalid(.projectRegistered, "plan_year", .integer(2201), "data.plan_year: expected a year from 1900 to 2200, found 2201"),
        .invalid(.projectRegistered, "plan_year", .string("2024"), "data.plan_year: expected a year from 1900 to 2200, found a string ('2024')"),
        .invalid(.projectRegistered, "plan_year", .number(JSONNumber(text: "2024.0")!), "data.plan_year: expected a year from 1900 to 2200, found 2024.0"),
        // categories: non-empty array of distinct categories
        .valid(.projectRegistered, "categories", .array(Category.allCases.map { .string($0.rawValue) })),
        .invalid(.projectRegistered, "categories", .array([]), "data.categories: expected a non-empty array of categories"),
        .invalid(.projectRegistered, "categories", .string("industrial"), "data.categories: expected a non-empty array of categories"),
        .invalid(.projectRegistered, "categories", .array([.string("industrial"), .string("rare-earth")]), "data.categories[1]: expected one of industrial, strategic_emerging, rare_earth, pm_motor, rare_earth_material, infrastructure, found 'rare-earth'"),
        .invalid(.projectRegistered, "categories", .array([.string("pm_motor"), .string("industrial"), .string("pm_motor")]), "data.categories[2]: 'pm_motor' is listed twice"),
        .invalid(.projectRegistered, "categories", .array([.integer(1)]), "data.categories[0]: expected one of"),
        // new_start: boolean
        .valid(.projectRegistered, "new_start", .bool(false)),
        .invalid(.projectRegistered, "new_start", .string("true"), "data.new_start: expected true or false, found a string ('true')"),
        .invalid(.projectRegistered, "new_start", .integer(1), "data.new_start: expected true or false, found 1"),
        .invalid(.projectRegistered, "new_start", nil, "data.new_start: required field is missing"),
        // money: integer 0…10^15
        .valid(.projectRegistered, "total_investment", .integer(0)),
        .valid(.projectRegistered, "total_investment", .integer(1_000_000_000_000_000)),
        .invalid(.projectRegistered, "total_investment", .integer(1_000_000_000_000_001), "data.total_investment: expected an integer number of yuan from 0 to 1000000000000000, found 1000000000000001"),
        .invalid(.projectRegistered, "total_investment", .integer(-1), "data.total_investment: expected an integer number of yuan from 0 to 1000000000000000, found -1"),
        .invalid(.projectRegistered, "total_investment", .number(JSONNumber(text: "5.7384E+10")!), "data.total_investment: expected an integer number of yuan from 0 to 1000000000000000, found 5.7384E+10 (write the number in plain digits, without an exponent)"),
        .invalid(.projectRegistered, "planned_investment", .number(JSONNumber(text: "100.5")!), "data.planned_investment: expected an integer number of yuan from 0 to 1000000000000000, found 100.5"),
        .invalid(.projectRegistered, "planned_investment", .string("1000"), "data.planned_investment: expected an integer number of yuan"),
        .invalid(.projectRegistered, "planned_investment", nil, "data.planned_investment: required field is missing"),
        // major: optional boolean, default true
        .valid(.projectRegistered, "major", .bool(false)),
        .valid(.projectRegistered, "major", nil),
        .valid(.projectRegistered, "major", .null),
        .invalid(.projectRegistered, "major", .string("yes"), "data.major: expected true or false, found a string ('yes')"),
        // optional texts
        .valid(.projectRegistered, "enterprise", .string("臥龍控股集團")),
        .valid(.projectRegistered, "capacity", .string("年產10萬臺")),
        .valid(.projectRegistered, "park", nil),
        .invalid(.projectRegistered, "park", .integer(3), "data.park: expected a string, found 3"),
        .invalid(.projectRegistered, "capacity", .string(cjk1001), "data.capacity: expected a string of at most 1000 Unicode characters"),
        // unknown fields
        .invalid(.projectRegistered, "totl_investment", .integer(1), "data.totl_investment: unknown field for zone.project.registered (did you mean 'total_investment'?)"),
        .invalid(.projectRegistered, "Plan Year", .integer(2024), "data.'Plan Year': unknown field for zone.project.registered (did you mean 'plan_year'?)"),
        .invalid(.projectRegistered, "budget", .integer(1), "data.budget: unknown field for zone.project.registered (its fields are project_id, name, plan_year, categories, new_start, total_investment, planned_investment, major, enterprise, park, capacity)"),
        .invalid(.siteVisit, "industry", .string("pm_motor"), "data.industry: unknown field for zone.recruitment.site_visit"),
        // status
        .valid(.projectStatusChanged, "status", .string("in_production")),
        .valid(.projectStatusChanged, "note", .string("已全面復工")),
        .invalid(.projectStatusChanged, "status", .string("begun"), "data.status: expected one of signed, started, resumed, suspended, completed, in_production, cancelled, found 'begun'"),
        .invalid(.projectStatusChanged, "status", .string("planned"), "data.status: expected one of"),
        .invalid(.projectStatusChanged, "status", nil, "data.status: required field is missing"),
        // period: YYYY-MM, month 01–12
        .valid(.investmentReported, "period", .string("2024-12")),
        .invalid(.investmentReported, "period", .string("2024-13"), "data.period: expected a month as YYYY-MM (month 01–12), found '2024-13'"),
        .invalid(.investmentReported, "period", .string("2024-00"), "data.period: expected a month as YYYY-MM"),
        .invalid(.investmentReported, "period", .string("2024-5"), "data.period: expected a month as YYYY-MM (month 01–12), found '2024-5'"),
        .invalid(.investmentReported, "period", .string("2024-05-01"), "data.period: expected a month as YYYY-MM"),
        .invalid(.investmentReported, "period", .string("1800-01"), "data.period: expected a month of a year from 1900 to 2200, found '1800-01'"),
        .invalid(.investmentReported, "completed_investment", .integer(-5), "data.completed_investment: expected an integer number of yuan"),
        // recruitment texts and categories
        .invalid(.enterpriseContacted, "enterprise", .string(""), "data.enterprise: expected a non-empty string, found an empty string"),
        .invalid(.enterpriseContacted, "campaign", nil, "data.campaign: required field is missing"),
        .valid(.enterpriseContacted, "industry", nil),
        .invalid(.enterpriseContacted, "industry", .string("motors"), "data.industry: expected one of industrial"),
        .invalid(.projectIntroduced, "industry", nil, "data.industry: required field is missing"),
        .invalid(.projectIntroduced, "industry", .null, "data.industry: expected one of industrial, strategic_emerging, rare_earth, pm_motor, rare_earth_material, infrastructure, found null"),
        .invalid(.projectIntroduced, "project_id", nil, "data.project_id: required field is missing"),
        // visitors: integer ≥ 0
        .valid(.siteVisit, "visitors", .integer(0)),
        .valid(.siteVisit, "visitors", nil),
        .invalid(.siteVisit, "visitors", .integer(-1), "data.visitors: expected a whole number ≥ 0, found -1"),
        .invalid(.siteVisit, "visitors", .number(JSONNumber(text: "2.5")!), "data.visitors: expected a whole number ≥ 0, found 2.5"),
        // agreement: optional project_id and money
        .valid(.agreementSigned, "project_id", nil),
        .valid(.agreementSigned, "intended_investment", nil),
        .invalid(.agreementSigned, "project_id", .string("a/b"), "data.project_id: expected a project id"),
        .invalid(.agreementSigned, "intended_investment", .number(JSONNumber(text: "1e9")!), "data.intended_investment: expected an integer number of yuan from 0 to 1000000000000000, found 1e9 (write the number in plain digits, without an exponent)"),
    ])
    func dataRule(_ rule: RuleCase) {
        let result = decode(Fixtures.envelope(rule.type).settingData(rule.field, rule.value))
        if let expected = rule.issue {
            let rejection = result.rejection
            #expect(rejection?.reason == .invalidEvent)
            #expect(rejection?.issues.count == 1)
            #expect(rejection?.message.hasPrefix(expected) == true, "got: \(rejection?.message ?? "a valid event")")
            #expect(rejection?.eventID == "evt-0001")
        } else {
            #expect(result.value != nil, "got: \(result.rejection?.message ?? "")")
        }
    }

    @Test func majorDefaultsToTrueWhenAbsent() throws {
        let event = try Event.decode(Fixtures.body(Fixtures.envelope().settingData("major", nil)))
        guard case .projectRegistered(let project) = event.data else { return }
        #expect(project.major)
        let minor = try Event.decode(Fixtures.body(Fixtures.envelope().settingData("major", .bool(false))))
        guard case .projectRegistered(let minorProject) = minor.data else { return }
        #expect(!minorProject.major)
    }

    @Test func decodesEveryFieldOfARegistration() throws {
        let event = try Event.decode(Fixtures.body(Fixtures.envelope()
            .settingData("enterprise", .string("中車"))
            .settingData("capacity", .string("年產10萬臺"))
            .settingData("total_investment", .integer(1_000_000_000_000_000))))
        #expect(event.data == .projectRegistered(ProjectRegistered(
            projectID: "BT-2024-001", name: "浙江中車尚馳年產10萬臺新能源永磁驅動系統北方基地項目", planYear: 2024,
            categories: [.industrial, .pmMotor], newStart: true, totalInvestment: 1_000_000_000_000_000,
            plannedInvestment: 600_000_000, major: true, enterprise: "中車", park: "稀土永磁電機產業園",
            capacity: "年產10萬臺")))
    }

    @Test func reportsEveryProblemOfAnEventAtOnceInDocumentOrder() {
        let broken = Fixtures.envelope()
            .setting("time", .string("2024-05-05T10:00:00"))
            .settingData("name", .string(""))
            .settingData("plan_year", nil)
            .settingData("colour", .string("red"))
        let rejection = decode(broken).rejection
        #expect(rejection?.issues.map(\.path) == ["time", "data.name", "data.colour", "data.plan_year"])
        #expect(rejection?.message == "time: expected an RFC 3339 time with a UTC offset (Z or ±hh:mm), found '2024-05-05T10:00:00', which has no offset; data.name: expected a non-empty string, found an empty string; data.colour: unknown field for zone.project.registered (its fields are project_id, name, plan_year, categories, new_start, total_investment, planned_investment, major, enterprise, park, capacity); data.plan_year: required field is missing")
    }
}

@Suite("Envelope validation")
struct EnvelopeValidationTests {
    func issue(_ envelope: JSONValue) -> String? { decode(envelope).rejection?.message }

    @Test func requiresSpecVersion10() {
        #expect(issue(Fixtures.envelope().setting("specversion", nil)) == "specversion: required attribute is missing (expected '1.0')")
        #expect(issue(Fixtures.envelope().setting("specversion", .string("0.3"))) == "specversion: expected '1.0', found '0.3'")
        #expect(issue(Fixtures.envelope().setting("specversion", .number(JSONNumber(text: "1.0")!))) == "specversion: expected '1.0', found 1.0")
    }

    @Test func requiresANonEmptyIdOfAtMost255Bytes() {
        #expect(issue(Fixtures.envelope().setting("id", nil)) == "id: required attribute is missing")
        #expect(issue(Fixtures.envelope().setting("id", .string(""))) == "id: expected a non-empty string of at most 255 UTF-8 bytes, found an empty string")
        #expect(issue(Fixtures.envelope().setting("id", .integer(7)))?.hasPrefix("id: expected a non-empty string") == true)
        #expect(decode(Fixtures.envelope(id: String(repeating: "i", count: 255))).value != nil)
        #expect(issue(Fixtures.envelope(id: String(repeating: "i", count: 256))) == "id: expected a non-empty string of at most 255 UTF-8 bytes, found one of 256 bytes")
        #expect(issue(Fixtures.envelope(id: String(repeating: "稀", count: 86))) != nil)  // 258 bytes
    }

    @Test func requiresANonEmptySourceOfAtMost255Bytes() {
        #expect(issue(Fixtures.envelope().setting("source", nil)) == "source: required attribute is missing")
        #expect(issue(Fixtures.envelope(source: "")) != nil)
        #expect(issue(Fixtures.envelope(source: String(repeating: "s", count: 256))) != nil)
        #expect(decode(Fixtures.envelope(source: "bt-hitech/investment-promotion-bureau")).value != nil)
    }

    /// CloudEvents 1.0: `source` is a URI-reference (RFC 3986). The message shows the
    /// percent-encoded form, which is accepted.
    @Test func requiresASourceThatIsAURIReferenceAndShowsItsPercentEncodedForm() {
        let message = issue(Fixtures.envelope(source: "发改委 项目科"))
        #expect(message == "source: expected a URI-reference (RFC 3986), such as 'bt-hitech/development-reform-bureau' or 'urn:bt-hitech:dept', found '发改委 项目科', which holds a space and non-ASCII characters; percent-encoded it reads '%E5%8F%91%E6%94%B9%E5%A7%94%20%E9%A1%B9%E7%9B%AE%E7%A7%91', or use an ASCII name")
        #expect(decode(Fixtures.envelope(source: "%E5%8F%91%E6%94%B9%E5%A7%94%20%E9%A1%B9%E7%9B%AE%E7%A7%91")).value != nil)
        #expect(decode(Fixtures.envelope(source: "包頭稀土高新區/招商局")).value == nil)
        for valid in ["urn:bt-hitech:statistics", "https://bt.example.cn/depts/7?x=1#top", "/depts/7", "./a:b", "//[::1]:8080/x", "a%2Fb"] {
            #expect(issue(Fixtures.envelope(source: valid)) == nil, "\(valid)")
        }
        #expect(issue(Fixtures.envelope(source: "2024:dept"))?.contains("a ':' before the first '/' must end a scheme") == true)
        #expect(issue(Fixtures.envelope(source: "dept#a#b"))?.contains("more than one '#'") == true)
        #expect(issue(Fixtures.envelope(source: "dept[1]"))?.contains("'[' and ']'") == true)
        #expect(issue(Fixtures.envelope(source: "50%off"))?.contains("a '%' not followed by two hex digits") == true)
        #expect(issue(Fixtures.envelope(source: "a{b}\"x"))?.contains("the characters '\"' '{' '}'") == true)
        #expect(issue(Fixtures.envelope(source: "dept\u{1B}[2J"))?.contains("control characters") == true)
    }

    /// CloudEvents 1.0: attribute names are lower-case ASCII letters and digits; extension values
    /// are strings, booleans or 32-bit integers; `subject` is non-empty, `dataschema` an absolute URI.
    @Test func extensionAttributesFollowCloudEventsNamingAndTypes() {
        #expect(issue(Fixtures.envelope().setting("Bad-Ext", .string("1"))) == "Bad-Ext: not a CloudEvents attribute name: names are lower-case letters and digits only (a-z, 0-9); rename it, e.g. 'badext'")
        #expect(issue(Fixtures.envelope().setting("my_ext", .string("1")))?.hasPrefix("my_ext: not a CloudEvents attribute name") == true)
        #expect(issue(Fixtures.envelope().setting("", .string("1")))?.contains("an attribute needs a name") == true)
        #expect(issue(Fixtures.envelope().setting("trace", .object([]))) == "trace: expected an extension value (a string, a boolean or an integer), found an object: CloudEvents extensions hold no structured values")
        #expect(issue(Fixtures.envelope().setting("weight", .number(JSONNumber(text: "1.5")!)))?.hasPrefix("weight: expected an extension value (a string, a boolean or an integer from -2147483648 to 2147483647), found 1.5") == true)
        #expect(issue(Fixtures.envelope().setting("big", .integer(2_147_483_648))) != nil)
        #expect(issue(Fixtures.envelope().setting("small", .integer(-2_147_483_648))) == nil)
        #expect(issue(Fixtures.envelope().setting("flag", .bool(true)).setting("none", .null)) == nil)
        #expect(issue(Fixtures.envelope().setting("subject", .string(""))) == "subject: expected a non-empty string, found an empty string")
        #expect(issue(Fixtures.envelope().setting("dataschema", .string("schemas/a.json"))) == "dataschema: expected an absolute URI (with a scheme, such as 'https://'), found 'schemas/a.json'")
        #expect(issue(Fixtures.envelope().setting("dataschema", .string("https://bt.example.cn/schemas/a.json"))) == nil)
    }

    @Test func rejectsAnUnknownTypeWithItsOwnReason() {
        let rejection = decode(Fixtures.envelope().setting("type", .string("zone.project.deleted"))).rejection
        #expect(rejection?.reason == .unknownType)
        #expect(rejection?.eventType == "zone.project.deleted")
        #expect(rejection?.eventID == "evt-0001")
        #expect(rejection?.message.hasPrefix("type: unknown event type 'zone.project.deleted' (known types: zone.project.registered,") == true)
    }

    @Test func aMissingOrNonStringTypeIsAnInvalidEvent() {
        #expect(decode(Fixtures.envelope().setting("type", nil)).rejection?.reason == .invalidEvent)
        #expect(decode(Fixtures.envelope().setting("type", .integer(1))).rejection?.reason == .invalidEvent)
    }

    @Test func requiresATimeWithAnOffset() {
        #expect(issue(Fixtures.envelope(time: "2024-05-05T10:00:00+08:00")) == nil)
        #expect(issue(Fixtures.envelope(time: "2024-05-05T02:00:00.123Z")) == nil)
        #expect(issue(Fixtures.envelope(time: "2024-05-05T10:00:00")) == "time: expected an RFC 3339 time with a UTC offset (Z or ±hh:mm), found '2024-05-05T10:00:00', which has no offset")
        #expect(issue(Fixtures.envelope(time: "2024-02-30T10:00:00Z"))?.hasPrefix("time: day 30 does not exist in 2024-02") == true)
        #expect(issue(Fixtures.envelope().setting("time", nil)) == "time: required attribute is missing")
        #expect(issue(Fixtures.envelope().setting("time", .integer(1_714_874_400)))?.hasPrefix("time: expected an RFC 3339 time") == true)
    }

    @Test func acceptsOnlyJSONAsDataContentType() {
        #expect(issue(Fixtures.envelope().setting("datacontenttype", .string("application/json"))) == nil)
        #expect(issue(Fixtures.envelope().setting("datacontenttype", .string("Application/JSON; charset=utf-8"))) == nil)
        #expect(issue(Fixtures.envelope().setting("datacontenttype", .string("text/csv"))) == "datacontenttype: expected application/json, found 'text/csv'")
    }

    @Test func requiresDataAsAnObject() {
        #expect(issue(Fixtures.envelope().setting("data", nil)) == "data: required attribute is missing")
        #expect(issue(Fixtures.envelope().setting("data", .array([]))) == "data: expected a JSON object, found an empty array")
        #expect(issue(Fixtures.envelope().setting("data", nil).setting("data_base64", .string("e30=")))
            == "data_base64: binary data is not accepted; put the payload as a JSON object in 'data'")
    }

    @Test func ignoresExtensionAttributes() throws {
        let plain = try Event.decode(Fixtures.body(Fixtures.envelope()))
        let extended = try Event.decode(Fixtures.body(Fixtures.envelope()
            .setting("traceparent", .string("00-abc-def-01"))
            .setting("partitionkey", .string("BT-2024"))
            .setting("subject", .string("BT-2024-001"))))
        #expect(extended == plain)
    }

    @Test func aBodyOver64KiBIsTooLargeAndKeepsItsId() {
        let padding = String(repeating: "x", count: 65_536)
        let body = Fixtures.body(Fixtures.envelope().setting("padding", .string(padding)))
        let rejection = decode(body).rejection
        #expect(rejection?.reason == .tooLarge)
        #expect(rejection?.eventID == "evt-0001")
        #expect(rejection?.message == "event is \(body.count) bytes; an event may be at most 65536 bytes (64 KiB) of UTF-8 JSON")
    }

    @Test func anEventOfExactly64KiBIsAccepted() {
        let base = Fixtures.body(Fixtures.envelope().setting("padding", .string("")))
        let body = Fixtures.body(Fixtures.envelope().setting("padding", .string(String(repeating: "x", count: 65_536 - base.count))))
        #expect(body.count == 65_536)
        #expect(decode(body).value != nil)
    }

    @Test func invalidJSONHasItsOwnReasonAndNoId() {
        let rejection = decode(Fixtures.bytes(#"{"id": "evt-1", "#)).rejection
        #expect(rejection?.reason == .invalidJSON)
        #expect(rejection?.eventID == nil)
        #expect(rejection?.message == "not valid JSON: unexpected end of input at byte 16, expected a string key")
    }

    @Test func aSingleEventBodyThatIsAnArrayPointsToTheBatchContentType() {
        let rejection = decode(Fixtures.body(.array([Fixtures.envelope()]))).rejection
        #expect(rejection?.reason == .invalidEvent)
        #expect(rejection?.message == "expected a JSON object (one CloudEvent), found an array: a batch of events needs content type application/cloudevents-batch+json")
    }

    @Test func aScalarBodyIsAnInvalidEvent() {
        #expect(decode(Fixtures.bytes("42")).rejection?.message == "expected a JSON object (one CloudEvent), found 42")
    }

    @Test func producersCanCheckDataOnItsOwn() throws {
        let data = try EventData(type: .siteVisit, json: Fixtures.data(for: .siteVisit))
        #expect(data == .siteVisit(SiteVisit(enterprise: "臥龍控股集團", campaign: "百日攻堅", visitors: 6)))
        #expect(throws: EventRejection.self) {
            try EventData(type: .siteVisit, json: Fixtures.data(for: .siteVisit).setting("visitors", .integer(-2)))
        }
    }

    @Test func theSchemaListsTheFieldsValidationAccepts() throws {
        for type in EventType.allCases {
            var full = Fixtures.data(for: type)
            for field in type.dataFields where full[field.name] == nil {
                let value: JSONValue = switch field.kind {
                case .text: .string("t")
                case .projectID: .string("P-1")
                case .year: .integer(2024)
                case .money, .count: .integer(1)
                case .boolean: .bool(true)
                case .category: .string("industrial")
                case .categories: .array([.string("industrial")])
                case .projectStatus: .string("signed")
                case .period: .string("2024-01")
                }
                full = full.setting(field.name, value)
            }
            let data = try EventData(type: type, json: full)
            #expect(data.jsonValue.canonicalBytes() == full.canonicalBytes(), "\(type)")
            let required = type.dataFields.filter(\.isRequired).map(\.name)
            for name in required {
                #expect(throws: EventRejection.self) { try EventData(type: type, json: full.setting(name, nil)) }
            }
        }
    }
}
