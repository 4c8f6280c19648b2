import LodeEvents

/// One department of the zone (contract section 6): the broker user it publishes as, the event
/// types it may send and the `source` values it may use.
public struct Department: Sendable, Hashable {
    /// The department's key in the config (`departments.<name>`).
    public let name: String
    /// The broker user its producers log in as; the `user_id` RabbitMQ vouches for.
    public let user: String
    /// The event types it may send, as configured (in the config's order).
    public let types: [EventType]
    /// The sources it may use, as configured.
    public let sources: [SourcePattern]
    @usableFromInline let typeMask: EventTypeMask

    public init(name: String, user: String, types: [EventType], sources: [SourcePattern]) throws(PermissionsError) {
        guard !name.isEmpty else { throw PermissionsError("a department needs a name") }
        guard !user.isEmpty, user.utf8.count <= 255 else {
            throw PermissionsError("department '\(name)': 'user' must be a broker user name of 1 to 255 bytes")
        }
        guard !types.isEmpty else {
            throw PermissionsError("department '\(name)': 'types' must list at least one event type")
        }
        guard !sources.isEmpty else {
            throw PermissionsError("department '\(name)': 'sources' must list at least one source or prefix")
        }
        self.name = name
        self.user = user
        self.types = types
        self.sources = sources
        typeMask = EventTypeMask(types)
    }

    /// Whether the department may send `type`.
    @inlinable
    public func allows(_ type: EventType) -> Bool { typeMask.contains(type) }

    /// Whether the department may use `source` (bytes, see ``SourcePattern``).
    @inlinable
    public func allows(source: String) -> Bool {
        for pattern in sources where pattern.matches(source) { return true }
        return false
    }

    /// Why the department may not send an event of `type` from `source`, for `x-lode-error`;
    /// `nil` when it may. Costs nothing beyond the checks when it may.
    @inlinable
    public func refusal(type: EventType, source: String, user: String) -> String? {
        if !allows(type) { return typeRefusal(type, user: user) }
        if !allows(source: source) { return sourceRefusal(source, user: user) }
        return nil
    }

    @usableFromInline
    func typeRefusal(_ type: EventType, user: String) -> String {
        "broker user '\(user)' (department '\(name)') may not send type \(type.rawValue); departments.\(name).types allows \(types.map(\.rawValue).joined(separator: ", "))"
    }

    @usableFromInline
    func sourceRefusal(_ source: String, user: String) -> String {
        "broker user '\(user)' (department '\(name)') may not use source '\(String(source.prefix(255)))'; departments.\(name).sources allows \(sources.map { "'\($0)'" }.joined(separator: ", "))"
    }
}

/// A set of event types as bits: one test per event, no hashing.
@usableFromInline
struct EventTypeMask: Sendable, Hashable {
    @usableFromInline let bits: UInt32

    init(_ types: [EventType]) {
        var bits: UInt32 = 0
        for type in types { bits |= Self.bit(type) }
        self.bits = bits
    }

    @inlinable
    func contains(_ type: EventType) -> Bool { bits & Self.bit(type) != 0 }

    @inlinable
    static func bit(_ type: EventType) -> UInt32 {
        switch type {
        case .projectRegistered: 1 << 0
        case .projectStatusChanged: 1 << 1
        case .investmentReported: 1 << 2
        case .enterpriseContacted: 1 << 3
        case .siteVisit: 1 << 4
        case .agreementSigned: 1 << 5
        case .projectIntroduced: 1 << 6
        }
    }
}
