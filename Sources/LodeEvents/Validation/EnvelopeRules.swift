import LodeJSON

/// The rules of the CloudEvents envelope (contract section 3): required
/// attributes, `specversion` "1.0", a known `type`, an RFC 3339 `time` with
/// an offset, `datacontenttype` application/json when present, and `data`
/// checked against its type. Other attributes (CloudEvents extensions) are
/// ignored once CloudEvents' own rules hold: see ``CloudEventsAttributes``.
enum EnvelopeRules {
    /// Checks one parsed event, collecting every issue it has.
    static func decode(_ json: JSONNode) -> Result<Event, EventRejection> {
        guard json.kind == .object else {
            let message = if json.kind == .array {
                "expected a JSON object (one CloudEvent), found an array: a batch of events needs content type \(MessageFormat.batchContentType)"
            } else {
                "expected a JSON object (one CloudEvent), found \(Found.describe(json))"
            }
            let issue = EventIssue(path: "", message: message)
            return .failure(EventRejection(reason: .invalidEvent, issues: [issue], eventID: nil, eventType: nil))
        }

        var specVersionValue: JSONNode?
        var idValue: JSONNode?
        var sourceValue: JSONNode?
        var typeValue: JSONNode?
        var timeValue: JSONNode?
        var dataContentTypeValue: JSONNode?
        var dataValue: JSONNode?
        var hasDataBase64 = false
        var otherIssues: [EventIssue] = []
        for (key, value) in json.members {
            switch key.knownKey {
            case .specversion?: specVersionValue = value
            case .id?: idValue = value
            case .source?: sourceValue = value
            case .type?: typeValue = value
            case .time?: timeValue = value
            case .datacontenttype?: dataContentTypeValue = value
            case .data?: dataValue = value
            case .dataBase64?: hasDataBase64 = true
            default:
                // An extension attribute: allowed and ignored, when CloudEvents allows it.
                CloudEventsAttributes.checkOther(name: key.stringValue, value: value, issues: &otherIssues)
            }
        }

        var issues: [EventIssue] = []
        if let specVersionValue {
            if specVersionValue.kind != .string || specVersionValue.text != Event.specVersion {
                issues.append(.expected("'1.0'", found: describeAttribute(specVersionValue), at: "specversion"))
            }
        } else {
            issues.append(EventIssue(path: "specversion", message: "required attribute is missing (expected '1.0')"))
        }
        let id = attributeText(idValue, "id", &issues)
        var source = attributeText(sourceValue, "source", &issues)
        if let text = source, let problem = URIReference.problem(text) {
            issues.append(EventIssue(path: "source", message: problem))
            source = nil
        }

        var eventType: EventType?
        var typeText: String?
        var isUnknownType = false
        if let typeValue {
            if typeValue.kind == .string {
                let text = typeValue.text
                typeText = text
                eventType = EventType(wireName: typeValue)
                if eventType == nil {
                    isUnknownType = true
                    let known = EventType.allCases.map(\.rawValue).joined(separator: ", ")
                    issues.append(EventIssue(path: "type", message: "unknown event type \(Found.quoted(text)) (known types: \(known))"))
                }
            } else {
                issues.append(.expected("an event type such as zone.project.registered", found: Found.describe(typeValue), at: "type"))
            }
        } else {
            issues.append(EventIssue(path: "type", message: "required attribute is missing"))
        }

        var time: EventTime?
        if let timeValue {
            if timeValue.kind == .string {
                do {
                    time = try EventTime(parsing: timeValue.text)
                } catch {
                    issues.append(EventIssue(path: "time", message: error.message))
                }
            } else {
                issues.append(.expected("an RFC 3339 time with a UTC offset", found: Found.describe(timeValue), at: "time"))
            }
        } else {
            issues.append(EventIssue(path: "time", message: "required attribute is missing"))
        }

        if let dataContentTypeValue,
           dataContentTypeValue.kind != .string || !isJSONMediaType(dataContentTypeValue.text) {
            issues.append(.expected("application/json", found: describeAttribute(dataContentTypeValue), at: "datacontenttype"))
        }
        if hasDataBase64 {
            issues.append(EventIssue(
                path: "data_base64", message: "binary data is not accepted; put the payload as a JSON object in 'data'"))
        }

        var data: EventData?
        if let dataValue {
            if dataValue.kind == .object {
                if let eventType {
                    data = EventData.read(type: eventType, data: dataValue, issues: &issues)
                }
            } else {
                issues.append(.expected("a JSON object", found: Found.describe(dataValue), at: "data"))
            }
        } else if !hasDataBase64 {
            issues.append(EventIssue(path: "data", message: "required attribute is missing"))
        }

        issues += otherIssues
        guard issues.isEmpty, let id, let source, let time, let data else {
            let reason: EventRejection.Reason = isUnknownType ? .unknownType : .invalidEvent
            return .failure(EventRejection(reason: reason, issues: issues, eventID: id, eventType: typeText))
        }
        return .success(Event(id: id, source: source, time: time, data: data))
    }

    /// The `id` and `type` of a JSON value that may not be a valid event,
    /// for a rejection that happens before or without the other checks. The
    /// id is returned only when it would be a valid id.
    static func identity(of json: JSONNode) -> (id: String?, type: String?) {
        var ignored: [EventIssue] = []
        let id = json.member(.id).flatMap { attributeText($0, "id", &ignored) }
        let type = json.member(.type).flatMap { $0.kind == .string ? $0.text : nil }
        return (id, type)
    }

    /// `id` and `source`: a non-empty string of at most 255 UTF-8 bytes
    /// without U+0000.
    private static func attributeText(_ value: JSONNode?, _ name: String, _ issues: inout [EventIssue]) -> String? {
        func expectation() -> String { "a non-empty string of at most \(EventLimits.maxAttributeBytes) UTF-8 bytes" }
        guard let value else {
            issues.append(EventIssue(path: name, message: "required attribute is missing"))
            return nil
        }
        guard value.kind == .string, !value.isEmptyString else {
            issues.append(.expected(expectation(), found: Found.describe(value), at: name))
            return nil
        }
        let text = value.text
        let byteCount = text.utf8.count
        guard byteCount <= EventLimits.maxAttributeBytes else {
            issues.append(.expected(expectation(), found: "one of \(byteCount) bytes", at: name))
            return nil
        }
        let mayHoldNUL = value.token.flags & JSONToken.hasEscapes != 0
        guard !mayHoldNUL || !DataFieldReader.containsNUL(text) else {
            issues.append(.expected("a string without U+0000 (NUL) characters", found: "one with a NUL", at: name))
            return nil
        }
        return text
    }

    /// A string attribute as the value found; other values with their type.
    private static func describeAttribute(_ value: JSONNode) -> String {
        if value.kind == .string, !value.isEmptyString { return Found.quoted(value.text) }
        return Found.describe(value)
    }

    /// `application/json`, in any letter case, with or without parameters
    /// such as `; charset=utf-8`.
    static func isJSONMediaType(_ text: String) -> Bool {
        MediaType.matches(text, "application/json")
    }
}

extension EventData {
    /// Reads and checks the `data` object of an event of the given type,
    /// for a producer that builds events from other input (such as CSV
    /// rows). Issue paths start with `data.`; the rejection's reason is
    /// `invalid_event`.
    public init(type: EventType, json: JSONValue) throws(EventRejection) {
        // Written out and read back, the value goes through the same
        // checks as a received event, duplicate keys included.
        let bytes = json.serializedBytes()
        let outcome: Result<EventData, EventRejection> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(event: buffer)
            do throws(JSONParseError) {
                try scanner.parseDocument()
            } catch {
                let issue = EventIssue(path: "data", message: "not valid JSON: \(error.message)")
                return .failure(EventRejection(reason: .invalidEvent, issues: [issue], eventID: nil, eventType: type.rawValue))
            }
            return scanner.tape.tokens.withUnsafeBufferPointer { tokens in
                let root = JSONNode(bytes: buffer, tokens: tokens, index: 0)
                var issues: [EventIssue] = []
                var data: EventData?
                if root.kind == .object {
                    data = EventData.read(type: type, data: root, issues: &issues)
                } else {
                    issues.append(.expected("a JSON object", found: Found.describe(root), at: "data"))
                }
                guard let data else {
                    return .failure(EventRejection(reason: .invalidEvent, issues: issues, eventID: nil, eventType: type.rawValue))
                }
                return .success(data)
            }
        }
        self = try outcome.get()
    }

    static func read(type: EventType, data: JSONNode, issues: inout [EventIssue]) -> EventData? {
        var reader = DataFieldReader(type: type)
        let payload: EventData? = switch type {
        case .projectRegistered: ProjectRegistered.read(data, with: &reader).map(EventData.projectRegistered)
        case .projectStatusChanged: ProjectStatusChanged.read(data, with: &reader).map(EventData.projectStatusChanged)
        case .investmentReported: InvestmentReported.read(data, with: &reader).map(EventData.investmentReported)
        case .enterpriseContacted: EnterpriseContacted.read(data, with: &reader).map(EventData.enterpriseContacted)
        case .siteVisit: SiteVisit.read(data, with: &reader).map(EventData.siteVisit)
        case .agreementSigned: AgreementSigned.read(data, with: &reader).map(EventData.agreementSigned)
        case .projectIntroduced: ProjectIntroduced.read(data, with: &reader).map(EventData.projectIntroduced)
        }
        issues.append(contentsOf: reader.issues)
        return payload
    }
}
