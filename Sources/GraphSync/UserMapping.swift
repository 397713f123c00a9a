import BoltClient
import Foundation

/// What a sync message asks for (COMPAT.md 5.1).
public enum UserSyncOperation: String, Sendable {
    /// `create_user_request`: create the node if missing, never touch an existing one.
    case create
    /// `update_user_request`: set the present profile fields, creating the node if missing.
    case update

    /// The `operation` metric tag of COMPAT.md 6.
    var metricOperation: String { self == .create ? "createUser" : "updateUser" }
}

/// One validated user, ready for the graph: exactly the profile properties of COMPAT.md 5.2 that the
/// document carried, and its `updatedAt` in epoch milliseconds for the stale-event guard.
public struct UserSyncRow: Sendable, Equatable {
    public var userID: String
    public var operation: UserSyncOperation
    /// `username`, `role`, `display_name`, `avatar_ipfs_hash`: only those present in the document.
    public var properties: [String: String]
    public var sourceUpdatedAt: Int64?

    /// The row as the `$rows` element of the sync statement.
    var parameter: BoltValue {
        [
            "user_id": .string(self.userID),
            "create": .bool(self.operation == .create),
            "props": .map(self.properties.mapValues(BoltValue.string)),
            "updated_at": self.sourceUpdatedAt.map(BoltValue.int) ?? .null,
        ]
    }
}

/// Validates a document and maps it to a ``UserSyncRow``.
public enum UserMapping {
    /// Longest accepted values, in characters; longer ones are refused, never truncated.
    public static let limits: [(property: String, maximum: Int)] = [
        ("username", 64),
        ("role", 32),
        ("display_name", 256),
        ("avatar_ipfs_hash", 128),
    ]

    /// A rejected document, with a reason safe to log and keep in the dead letter (no values).
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { self.reason }
    }

    /// - Throws: ``Invalid`` when `_id` is not 24 hex characters, a mapped field is not a string,
    ///   is empty where a value is required, or is longer than its limit, or `updatedAt` is not an ISO-8601 date.
    public static func row(from document: UserDocument, operation: UserSyncOperation) throws(Invalid) -> UserSyncRow {
        guard case .string(let id) = document.id else {
            throw Invalid(reason: document.id == .absent ? "_id is missing" : "_id is not a string")
        }
        guard id.utf8.count == 24, id.utf8.allSatisfy({ $0.isHexDigit }) else {
            throw Invalid(reason: "_id is not a 24-character hex ObjectId")
        }
        var properties: [String: String] = [:]
        let fields: [(String, UserDocument.Field)] = [
            ("username", document.username), ("role", document.role), ("display_name", document.displayName),
            ("avatar_ipfs_hash", document.avatarIPFSHash),
        ]
        for (name, field) in fields {
            switch field {
            case .absent: continue
            case .other(let kind): throw Invalid(reason: "\(name) is \(kind), not a string")
            case .string(let value):
                let maximum = Self.limits.first { $0.property == name }?.maximum ?? 0
                guard value.count <= maximum else {
                    throw Invalid(reason: "\(name) has \(value.count) characters, more than \(maximum)")
                }
                properties[name] = value
            }
        }
        if properties["username"]?.isEmpty == true {
            throw Invalid(reason: "username is empty")
        }
        let updatedAt: Int64?
        switch document.updatedAt {
        case .absent: updatedAt = nil
        case .other(let kind): throw Invalid(reason: "updatedAt is \(kind), not an ISO-8601 string")
        case .string(let text):
            guard let date = Self.parseDate(text) else { throw Invalid(reason: "updatedAt is not an ISO-8601 date") }
            updatedAt = Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
        return UserSyncRow(
            userID: id.lowercased(), operation: operation, properties: properties, sourceUpdatedAt: updatedAt)
    }

    static func parseDate(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
