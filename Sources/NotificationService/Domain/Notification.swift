import Foundation
import MongoStore
import SocketIO

/// A stored notification (COMPAT.md 3.1), as read from the `notifications` collection.
public struct Notification: Sendable, Equatable {
    public var id: BSONObjectID
    public var userID: BSONObjectID
    public var type: String
    public var title: String
    public var message: String
    public var delivered: Bool
    public var deliveredAt: Date?
    public var read: Bool
    public var readAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int32

    /// Reads a stored document; nil when it lacks a field the schema requires.
    public init?(_ document: BSONDocument) {
        guard case .objectID(let id)? = document["_id"], case .objectID(let userID)? = document["user_id"],
            case .string(let type)? = document["type"], case .string(let title)? = document["title"],
            case .string(let message)? = document["message"]
        else { return nil }
        self.id = id
        self.userID = userID
        self.type = type
        self.title = title
        self.message = message
        if case .bool(let delivered)? = document["delivered"] {
            self.delivered = delivered
        } else {
            self.delivered = false
        }
        self.deliveredAt = document["delivered_at"]?.dateValue
        if case .bool(let read)? = document["read"] { self.read = read } else { self.read = false }
        self.readAt = document["read_at"]?.dateValue
        let created = document["createdAt"]?.dateValue ?? Date(timeIntervalSince1970: 0)
        self.createdAt = created
        self.updatedAt = document["updatedAt"]?.dateValue ?? created
        switch document["__v"] {
        case .int32(let version)?: self.version = version
        case .int64(let version)?: self.version = Int32(clamping: version)
        default: self.version = 0
        }
    }

    /// The REST form: mongoose's serialisation (`_id`, `__v`, ISO dates with milliseconds).
    public var restJSON: JSONValue {
        .object(
            [JSONValue.JSONMember("_id", .string(self.id.hex))] + self.fields + [
                .init("__v", .number(Double(self.version)))
            ])
    }

    /// The socket form: `id` instead of `_id`, no `__v` (COMPAT.md 3.4).
    public var socketJSON: JSONValue {
        .object([JSONValue.JSONMember("id", .string(self.id.hex))] + self.fields)
    }

    /// The members both forms share, in the original's order.
    private var fields: [JSONValue.JSONMember] {
        [
            .init("user_id", .string(self.userID.hex)),
            .init("type", .string(self.type)),
            .init("title", .string(self.title)),
            .init("message", .string(self.message)),
            .init("delivered", .bool(self.delivered)),
            .init("delivered_at", Self.json(self.deliveredAt)),
            .init("read", .bool(self.read)),
            .init("read_at", Self.json(self.readAt)),
            .init("createdAt", Self.json(self.createdAt)),
            .init("updatedAt", Self.json(self.updatedAt)),
        ]
    }

    static func json(_ date: Date?) -> JSONValue {
        date.map { .string(Self.timestamp($0)) } ?? .null
    }

    /// ISO-8601 UTC with milliseconds, as JavaScript's `toISOString()`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// The `create_notification` payload (COMPAT.md 2.4), validated before anything is stored.
public struct CreateNotificationRequest: Decodable, Sendable, Equatable {
    public var userID: String?
    public var type: String?
    public var title: String?
    public var message: String?

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case type, title, message
    }

    public init(userID: String?, type: String?, title: String?, message: String?) {
        self.userID = userID
        self.type = type
        self.title = title
        self.message = message
    }

    /// Documented limits, in characters.
    public static let maxTypeLength = 64
    public static let maxTitleLength = 200
    public static let maxMessageLength = 5_000

    /// A request that passed validation.
    public struct Valid: Sendable, Equatable {
        public var userID: BSONObjectID
        public var type: String
        public var title: String
        public var message: String
    }

    /// Checks every field; the error names the first problem (it becomes the dead letter's reason).
    public func validated() throws(NotificationValidationError) -> Valid {
        guard let rawUser = self.userID else { throw NotificationValidationError("user_id is required") }
        guard let userID = BSONObjectID(hex: rawUser) else {
            throw NotificationValidationError("user_id must be a 24-character hex ObjectId")
        }
        let type = try Self.text(self.type, "type", max: Self.maxTypeLength)
        let title = try Self.text(self.title, "title", max: Self.maxTitleLength)
        let message = try Self.text(self.message, "message", max: Self.maxMessageLength)
        return Valid(userID: userID, type: type, title: title, message: message)
    }

    private static func text(_ value: String?, _ field: String, max: Int) throws(NotificationValidationError)
        -> String
    {
        guard let value else { throw NotificationValidationError("\(field) is required") }
        guard !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw NotificationValidationError("\(field) must not be empty")
        }
        guard value.count <= max else {
            throw NotificationValidationError("\(field) is longer than \(max) characters")
        }
        return value
    }
}

public struct NotificationValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { self.reason }
}
