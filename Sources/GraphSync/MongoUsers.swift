import Foundation
import MongoStore

extension UserDocument {
    /// A user from MongoDB `users` (BSON: `_id` an ObjectId, dates as dates), as the sync reads it.
    public init(bson: BSONDocument) {
        func field(_ key: String) -> Field {
            switch bson[key] {
            case .none, .null: .absent
            case .string(let value): .string(value)
            case .objectID(let id): .string(id.description)
            case .datetime(let millis):
                .string(
                    Date(timeIntervalSince1970: Double(millis) / 1000)
                        .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            default: .other("not a string")
            }
        }
        self.init(
            id: field("_id"), username: field("username"), role: field("role"), displayName: field("display_name"),
            avatarIPFSHash: field("avatar_ipfs_hash"), updatedAt: field("updatedAt"))
    }
}

/// Reads `users` from MongoDB in `_id` order, a page at a time, with only the fields the sync needs.
public struct MongoUserSource: Sendable {
    let collection: MongoCollection

    public init(collection: MongoCollection) {
        self.collection = collection
    }

    static let projection: BSONDocument = [
        "_id": .int32(1), "username": .int32(1), "role": .int32(1), "display_name": .int32(1),
        "avatar_ipfs_hash": .int32(1), "updatedAt": .int32(1),
    ]

    /// The users whose ids are given (ids that are not ObjectIds match nothing).
    public func users(ids: [String]) async throws -> [BSONDocument] {
        let objectIDs = ids.compactMap(BSONObjectID.init(hex:)).map(BSON.objectID)
        guard !objectIDs.isEmpty else { return [] }
        return try await self.collection.find(
            .in("_id", objectIDs), options: FindOptions(sort: ["_id": .int32(1)], projection: Self.projection))
    }

    /// Calls `body` with pages of at most `pageSize` users, in `_id` order.
    public func forEachPage(pageSize: Int, _ body: ([BSONDocument]) async throws -> Void) async throws {
        var last: BSON?
        while true {
            let filter: MongoFilter = last.map { .gt("_id", $0) } ?? MongoFilter()
            let page = try await self.collection.find(
                filter,
                options: FindOptions(sort: ["_id": .int32(1)], limit: Int64(pageSize), projection: Self.projection))
            guard let lastID = page.last?["_id"] else { return }
            try await body(page)
            last = lastID
            if page.count < pageSize { return }
        }
    }

    public func count() async throws -> Int64 {
        try await self.collection.countDocuments()
    }
}

/// The `data` of an `update_user_request` built from a MongoDB user, as the API gateway's repair
/// path emits it (COMPAT.md 2.4): `_id`, the four profile fields and `updatedAt` when present.
public struct UserSyncMessage: Encodable, Sendable, Equatable {
    public var id: String
    public var username: String?
    public var role: String?
    public var displayName: String?
    public var avatarIPFSHash: String?
    public var updatedAt: String?

    /// The same keys as the events the sync consumes.
    typealias CodingKeys = UserDocument.CodingKeys

    public init?(bson: BSONDocument) {
        let document = UserDocument(bson: bson)
        guard let id = document.id.stringValue else { return nil }
        self.id = id
        self.username = document.username.stringValue
        self.role = document.role.stringValue
        self.displayName = document.displayName.stringValue
        self.avatarIPFSHash = document.avatarIPFSHash.stringValue
        self.updatedAt = document.updatedAt.stringValue
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encodeIfPresent(self.username, forKey: .username)
        try container.encodeIfPresent(self.role, forKey: .role)
        try container.encodeIfPresent(self.displayName, forKey: .displayName)
        try container.encodeIfPresent(self.avatarIPFSHash, forKey: .avatarIPFSHash)
        try container.encodeIfPresent(self.updatedAt, forKey: .updatedAt)
    }
}
