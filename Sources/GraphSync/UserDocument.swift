import Foundation

/// The user document of `create_user_request` / `update_user_request` (COMPAT.md 2.4), reduced to the
/// fields the graph needs. Each field keeps what the JSON held (a string, another type, or nothing),
/// so validation can name the field that is wrong; every other field (`email`, `password_hashed`, ...)
/// is never read.
public struct UserDocument: Sendable, Decodable, Equatable {
    /// One field as received.
    public enum Field: Sendable, Equatable {
        case absent
        case string(String)
        /// Present but not a string (number, object, ...): invalid for every mapped field.
        case other(String)

        /// The value when it is a string.
        public var stringValue: String? {
            if case .string(let value) = self { return value }
            return nil
        }
    }

    public var id: Field
    public var username: Field
    public var role: Field
    public var displayName: Field
    public var avatarIPFSHash: Field
    public var updatedAt: Field

    public init(
        id: Field, username: Field = .absent, role: Field = .absent, displayName: Field = .absent,
        avatarIPFSHash: Field = .absent, updatedAt: Field = .absent
    ) {
        self.id = id
        self.username = username
        self.role = role
        self.displayName = displayName
        self.avatarIPFSHash = avatarIPFSHash
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id = "_id"
        case username
        case role
        case displayName = "display_name"
        case avatarIPFSHash = "avatar_ipfs_hash"
        case updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func field(_ key: CodingKeys) -> Field {
            guard container.contains(key), (try? container.decodeNil(forKey: key)) != true else { return .absent }
            if let string = try? container.decode(String.self, forKey: key) { return .string(string) }
            if (try? container.decode(Double.self, forKey: key)) != nil { return .other("a number") }
            if (try? container.decode(Bool.self, forKey: key)) != nil { return .other("a boolean") }
            return .other("an object or array")
        }
        self.id = field(.id)
        self.username = field(.username)
        self.role = field(.role)
        self.displayName = field(.displayName)
        self.avatarIPFSHash = field(.avatarIPFSHash)
        self.updatedAt = field(.updatedAt)
    }
}
