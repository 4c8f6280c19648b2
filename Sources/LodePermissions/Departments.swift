import LodeEvents

/// Who may publish what (contract section 6): the departments of the config's `departments:`,
/// each with its broker user, event types and sources, and the broker users that replay dead
/// letters on a department's behalf.
///
/// The worker judges each delivery's sender once (``sender(userID:originalUserID:)``, from the
/// `user_id` RabbitMQ checked against the connection's login) and then each event of it on its
/// own (``Sender/refusal(type:source:)``): a bit test for the type, a byte comparison or two for
/// the source, nothing allocated unless the event is refused.
///
/// The rules that make this safe, checked when it is built: one user belongs to one department;
/// no source can match two departments' patterns (so an event's `source` says whose it is, and an
/// event's identity, its source and id, is one department's alone); a replay user is no
/// department's user.
public struct Departments: Sendable {
    /// In the config's order.
    public let departments: [Department]
    /// Broker users whose messages are judged as the user their `x-lode-original-user-id` header
    /// names (`lodectl dlq replay` publishes as its own user and says whose event it replays).
    /// The header is ignored on anyone else's message.
    public let replayUsers: [String]
    private let byUser: [UserKey: Int]
    private let replayKeys: Set<UserKey>

    public init(_ departments: [Department], replayUsers: [String] = []) throws(PermissionsError) {
        var byUser: [UserKey: Int] = [:]
        var names: Set<String> = []
        for (index, department) in departments.enumerated() {
            guard names.insert(department.name).inserted else {
                throw PermissionsError("department '\(department.name)' is defined twice")
            }
            if let other = byUser[UserKey(department.user)] {
                throw PermissionsError("departments '\(departments[other].name)' and '\(department.name)' both use broker user '\(department.user)'; each department needs a user of its own")
            }
            byUser[UserKey(department.user)] = index
        }
        for (index, department) in departments.enumerated() {
            for other in departments[(index + 1)...] {
                for mine in department.sources {
                    for theirs in other.sources where mine.overlaps(theirs) {
                        throw PermissionsError("departments '\(department.name)' and '\(other.name)' both claim sources: '\(mine)' and '\(theirs)' overlap; a source must belong to one department, or one could pass its events off as the other's")
                    }
                }
            }
        }
        var replayKeys: Set<UserKey> = []
        for user in replayUsers where !user.isEmpty {
            if let index = byUser[UserKey(user)] {
                throw PermissionsError("broker user '\(user)' replays dead letters and is also department '\(departments[index].name)''s user; give the department a user of its own")
            }
            replayKeys.insert(UserKey(user))
        }
        self.departments = departments
        self.replayUsers = replayUsers.filter { !$0.isEmpty }
        self.byUser = byUser
        self.replayKeys = replayKeys
    }

    /// The same departments, with `user` also trusted to replay (the worker adds its own user).
    public func addingReplayUser(_ user: String) throws(PermissionsError) -> Departments {
        guard !replayUsers.contains(where: { $0.utf8.elementsEqual(user.utf8) }) else { return self }
        return try Departments(departments, replayUsers: replayUsers + [user])
    }

    /// The department whose broker user is `user` (bytes), if any.
    public func department(ofUser user: String) -> Department? {
        byUser[UserKey(user)].map { departments[$0] }
    }

    /// Who sent one delivery: the department of its `user_id`, or why none.
    ///
    /// - Parameters:
    ///   - userID: the message's `user_id` property (RabbitMQ refuses a message whose `user_id`
    ///     is not the publishing connection's user, so it cannot be forged).
    ///   - originalUserID: the message's `x-lode-original-user-id` header; read only when
    ///     `userID` is a replay user's.
    public func sender(userID: String?, originalUserID: @autoclosure () -> String?) -> Sender {
        guard let userID, !userID.isEmpty else {
            return .refused("the message has no user_id: with departments configured, every event must come from a department's broker user (lode-publish sets user_id to its login; another producer must set it too)")
        }
        var judged = userID
        if replayKeys.contains(UserKey(userID)) {
            guard let original = originalUserID(), !original.isEmpty else {
                return .refused("broker user '\(userID)' replays dead letters and sends no events of its own; this message has no x-lode-original-user-id naming whose event it is")
            }
            judged = original
        }
        guard let index = byUser[UserKey(judged)] else {
            let viaReplay = judged == userID ? "" : " (replayed by '\(userID)')"
            return .refused("broker user '\(String(judged.prefix(255)))'\(viaReplay) belongs to no department; departments: \(knownUsers)")
        }
        return .department(departments[index], user: judged)
    }

    private var knownUsers: String {
        departments.map { "\($0.name) (user '\($0.user)')" }.joined(separator: ", ")
    }
}

/// Who sent a delivery, judged once per delivery.
public enum Sender: Sendable {
    /// A department's user (directly, or as named by a replay user's message).
    case department(Department, user: String)
    /// No department may be credited with it: every event of the delivery is refused for this.
    case refused(String)

    /// Why the sender may not send an event of `type` from `source` (for `x-lode-error`), or
    /// `nil` when it may.
    @inlinable
    public func refusal(type: EventType, source: String) -> String? {
        switch self {
        case .department(let department, let user): department.refusal(type: type, source: source, user: user)
        case .refused(let reason): reason
        }
    }
}

/// A broker user name as a dictionary key compared by its bytes (Swift's `String` equality would
/// call a user with a KELVIN SIGN the same as one with a K).
struct UserKey: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (lhs: UserKey, rhs: UserKey) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

    func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
    }
}
