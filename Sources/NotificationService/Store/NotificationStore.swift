import Foundation
import MongoStore
import NIOConcurrencyHelpers

/// The `notifications` collection (COMPAT.md 3.1): the original's document shape, plus
/// `message_id` (the idempotency key of the message that created it, when it had one),
/// `message_hash` (the SHA-256 of the message body until that message is acknowledged, to recognise
/// its redelivery) and `acknowledged_at` (the first client ack of its push).
public struct NotificationStore: Sendable {
    public static let collectionName = "notifications"
    static let messageIDIndex = "message_id_unique"
    static let bodyHashField = "message_hash"

    let collection: MongoCollection
    /// How long after it was stored a notification can be matched by a redelivery of its message.
    public let redeliveryWindow: Duration
    let claims = RedeliveryClaims()

    public init(client: MongoClient, redeliveryWindow: Duration = .seconds(3_600)) throws {
        self.collection = try client.collection(Self.collectionName)
        self.redeliveryWindow = redeliveryWindow
    }

    /// The indexes the queries need; existing ones are kept (creating them again is a no-op).
    public func ensureIndexes() async throws {
        try await self.collection.createIndexes([
            IndexModel(keys: ["user_id": .int32(1), "createdAt": .int32(-1)], name: "user_id_1_createdAt_-1"),
            IndexModel(keys: ["user_id": .int32(1), "read": .int32(1)], name: "user_id_1_read_1"),
            IndexModel(
                keys: ["user_id": .int32(1), "delivered": .int32(1), "createdAt": .int32(1)],
                name: "user_id_1_delivered_1_createdAt_1"
            ),
            IndexModel(
                keys: ["message_id": .int32(1)],
                name: Self.messageIDIndex,
                unique: true,
                partialFilter: .exists("message_id")
            ),
        ])
    }

    /// Stores a notification; with a `messageID` already stored, returns that document instead
    /// (`created` false), so a message delivered twice never makes two notifications.
    public func create(_ request: CreateNotificationRequest.Valid, messageID: String?, now: Date = Date()) async throws
        -> (notification: Notification, created: Bool)
    {
        let document = Self.document(request, messageID: messageID, now: now, hash: nil)
        do {
            _ = try await self.collection.insertOne(document)
        } catch let error as MongoError where error.kind == .duplicateKey && error.index == Self.messageIDIndex {
            guard let messageID,
                let existing = try await self.collection.findOne(
                    MongoFilter.eq("message_id", .string(messageID)).document
                )
                .flatMap(Notification.init)
            else { throw error }
            return (existing, false)
        }
        guard let notification = Notification(document) else { throw IncompleteNotification() }
        return (notification, true)
    }

    public func find(id: BSONObjectID) async throws -> Notification? {
        try await self.collection.findOne(MongoFilter.eq("_id", .objectID(id)).document).flatMap(Notification.init)
    }

    /// A page of the user's notifications, newest first, and the user's total.
    public func page(userID: BSONObjectID, page: Int, limit: Int) async throws -> (
        notifications: [Notification], total: Int64
    ) {
        let filter = MongoFilter.eq("user_id", .objectID(userID))
        let documents = try await self.collection.find(
            filter,
            options: FindOptions(
                sort: ["createdAt": .int32(-1), "_id": .int32(-1)],
                skip: Int64(page) * Int64(limit),
                limit: Int64(limit)
            )
        )
        let total = try await self.collection.countDocuments(filter.document)
        return (documents.compactMap(Notification.init), total)
    }

    public func unreadCount(userID: BSONObjectID) async throws -> Int64 {
        try await self.collection.countDocuments(
            MongoFilter.and([.eq("user_id", .objectID(userID)), .eq("read", .bool(false))]).document)
    }

    /// The user's undelivered notifications, oldest first.
    public func undelivered(userID: BSONObjectID, limit: Int) async throws -> [Notification] {
        try await self.collection.find(
            MongoFilter.and([.eq("user_id", .objectID(userID)), .eq("delivered", .bool(false))]),
            options: FindOptions(sort: ["createdAt": .int32(1), "_id": .int32(1)], limit: Int64(limit))
        ).compactMap(Notification.init)
    }

    /// Marks the user's notification read (rewriting `read_at` each time); nil when the user has no
    /// such notification (another user's id counts as missing).
    public func markRead(id: BSONObjectID, userID: BSONObjectID, now: Date = Date()) async throws -> Notification? {
        try await self.collection.findOneAndUpdate(
            MongoFilter.and([.eq("_id", .objectID(id)), .eq("user_id", .objectID(userID))]),
            .set(["read": .bool(true), "read_at": .date(now), "updatedAt": .date(now)]),
            returning: .after
        ).flatMap(Notification.init)
    }

    /// Marks every notification of the user read; returns how many were matched.
    @discardableResult
    public func markAllRead(userID: BSONObjectID, now: Date = Date()) async throws -> Int64 {
        try await self.collection.updateMany(
            MongoFilter.eq("user_id", .objectID(userID)),
            .set(["read": .bool(true), "read_at": .date(now), "updatedAt": .date(now)])
        ).matchedCount
    }
}

/// A stored notification lacks a field the schema requires.
struct IncompleteNotification: Error, CustomStringConvertible {
    var description: String { "a stored notification lacks a required field" }
}

/// Notifications that a redelivery in this process has matched, so that two redelivered copies of
/// identical messages take two different stored notifications. Released once the hash is cleared.
final class RedeliveryClaims: Sendable {
    private let claimed = NIOLockedValueBox<Set<BSONObjectID>>([])

    /// The first of `candidates` nobody claimed yet, now claimed.
    func claimFirst(of candidates: [BSONObjectID]) -> BSONObjectID? {
        self.claimed.withLockedValue { claimed in
            guard let free = candidates.first(where: { !claimed.contains($0) }) else { return nil }
            if claimed.count >= 100_000 { claimed.removeAll(keepingCapacity: true) }
            claimed.insert(free)
            return free
        }
    }

    func release(_ ids: [BSONObjectID]) {
        self.claimed.withLockedValue { claimed in
            guard !claimed.isEmpty else { return }
            for id in ids { claimed.remove(id) }
        }
    }
}
