import Foundation
import MongoStore

/// The batched writes of the delivery pipeline: one `insertMany` per batch of messages, one
/// `updateMany` per batch of deliveries or client acks.
extension NotificationStore {
    /// One notification to store, with what identifies the message that asks for it.
    public struct NewNotification: Sendable {
        public var request: CreateNotificationRequest.Valid
        /// The publisher's `message_id` (unique: a second message with it gets the stored notification).
        public var messageID: String?
        /// SHA-256 of the message body: stored with the document until the message is acknowledged,
        /// so that a redelivery of the same message finds what its first delivery stored.
        public var bodyHash: String
        /// The broker redelivered the message, or it came back from a retry queue: it may have been
        /// stored already. Only then is ``bodyHash`` matched (two identical emits are two notifications).
        public var mayBeStored: Bool

        public init(request: CreateNotificationRequest.Valid, messageID: String?, bodyHash: String, mayBeStored: Bool) {
            self.request = request
            self.messageID = messageID
            self.bodyHash = bodyHash
            self.mayBeStored = mayBeStored
        }
    }

    /// Stores a batch with one unordered `insertMany`; each entry's outcome is its own: the stored
    /// notification (`created` false when a redelivery or a `message_id` found an earlier one), or
    /// the write error of that document alone.
    ///
    /// - Throws: when the write as a whole failed (any of the documents may or may not be stored;
    ///   a retry of the messages finds those that were, by `message_id` or body hash).
    public func create(_ batch: [NewNotification], now: Date = Date()) async throws
        -> [Result<(notification: Notification, created: Bool), any Error>]
    {
        var outcomes = [Result<(notification: Notification, created: Bool), any Error>?](
            repeating: nil, count: batch.count)
        var toInsert: [(position: Int, document: BSONDocument)] = []
        for (position, entry) in batch.enumerated() {
            if entry.mayBeStored, entry.messageID == nil, let earlier = try await self.claimEarlier(entry, now: now) {
                outcomes[position] = .success((earlier, false))
            } else {
                toInsert.append(
                    (position, Self.document(entry.request, messageID: entry.messageID, now: now, hash: entry.bodyHash))
                )
            }
        }
        let result = try await self.collection.insertManyReportingErrors(toInsert.map(\.document))
        for (offset, item) in toInsert.enumerated() {
            guard let error = result.writeErrors[offset] else {
                outcomes[item.position] =
                    Notification(item.document).map { .success(($0, true)) } ?? .failure(IncompleteNotification())
                continue
            }
            if error.kind == .duplicateKey, error.index == Self.messageIDIndex,
                let messageID = batch[item.position].messageID,
                let existing = try await self.collection.findOne(
                    MongoFilter.eq("message_id", .string(messageID)).document
                )
                .flatMap(Notification.init)
            {
                outcomes[item.position] = .success((existing, false))
            } else {
                outcomes[item.position] = .failure(error)
            }
        }
        return outcomes.map { $0 ?? .failure(IncompleteNotification()) }
    }

    /// A notification stored for the same body within the redelivery window and not yet claimed by
    /// another redelivery in this process: what this message's first delivery stored.
    private func claimEarlier(_ entry: NewNotification, now: Date) async throws -> Notification? {
        // Flat, led by user_id: the inbox index (user_id, createdAt) narrows it to the user's
        // recent notifications, so no index of its own is kept up to date on every write.
        let candidates = try await self.collection.find(
            MongoFilter.and([
                .eq("user_id", .objectID(entry.request.userID)),
                .gte("createdAt", .date(now.addingTimeInterval(-self.redeliveryWindow.seconds))),
                .eq(Self.bodyHashField, .string(entry.bodyHash)),
            ]),
            options: FindOptions(sort: ["createdAt": .int32(1), "_id": .int32(1)], limit: 50)
        ).compactMap(Notification.init)
        return self.claims.claimFirst(of: candidates.map(\.id)).flatMap { id in candidates.first { $0.id == id } }
    }

    /// Records a batch of deliveries: marks undelivered ones delivered (and, with `acknowledged`,
    /// their first client ack in the same write) and forgets their body hash (their messages are
    /// acknowledged by now). Returns how many were newly delivered.
    @discardableResult
    public func markDelivered(ids: [BSONObjectID], acknowledged: Bool = false, now: Date = Date()) async throws
        -> Int64
    {
        guard !ids.isEmpty else { return 0 }
        var fields: BSONDocument = ["delivered": .bool(true), "delivered_at": .date(now), "updatedAt": .date(now)]
        if acknowledged {
            fields["acknowledged_at"] = .date(now)
        }
        var delivered: Int64 = 0
        for chunk in Self.updateChunks(ids) {
            delivered += try await self.collection.updateMany(
                MongoFilter.and([.in("_id", chunk.map { .objectID($0) }), .eq("delivered", .bool(false))]),
                MongoUpdate.set(fields).unset([Self.bodyHashField])
            ).modifiedCount
        }
        self.claims.release(ids)
        return delivered
    }

    /// Most ids in the `$in` of one update: the embedded store matches each candidate against the
    /// list one element at a time (twice per document), so an update's cost grows with the square
    /// of its list; at 50 that part is small beside the rewrite (measured: 0.63 ms a document with
    /// lists of 200, 0.54 with 100, 0.49 to 0.50 with 20 to 50, 0.57 with 5).
    static let updateChunkSize = 50

    /// `ids` in lists of at most ``updateChunkSize``, in order.
    static func updateChunks(_ ids: [BSONObjectID]) -> [ArraySlice<BSONObjectID>] {
        stride(from: 0, to: ids.count, by: Self.updateChunkSize).map {
            ids[$0..<min($0 + Self.updateChunkSize, ids.count)]
        }
    }

    /// Forgets the body hash of notifications whose messages are acknowledged (the user was offline:
    /// no delivery will clear it), so that no later redelivery of an identical message matches them.
    public func forgetBodyHashes(ids: [BSONObjectID]) async throws {
        guard !ids.isEmpty else { return }
        for chunk in Self.updateChunks(ids) {
            try await self.collection.updateMany(
                MongoFilter.and([.in("_id", chunk.map { .objectID($0) }), .exists(Self.bodyHashField)]),
                MongoUpdate().unset([Self.bodyHashField])
            )
        }
        self.claims.release(ids)
    }

    /// Records the first client acknowledgement of each of a batch of pushes.
    public func markAcknowledged(ids: [BSONObjectID], now: Date = Date()) async throws {
        guard !ids.isEmpty else { return }
        for chunk in Self.updateChunks(ids) {
            try await self.collection.updateMany(
                MongoFilter.and([.in("_id", chunk.map { .objectID($0) }), .eq("acknowledged_at", .null)]),
                .set(["acknowledged_at": .date(now)])
            )
        }
    }

    /// The document the flow stores for `request` (COMPAT.md 3.1, plus `message_id` and
    /// `message_hash` when given); public for benchmarks that write the flow's documents directly.
    public static func document(
        _ request: CreateNotificationRequest.Valid, messageID: String?, now: Date, hash: String?
    )
        -> BSONDocument
    {
        var document: BSONDocument = [
            "_id": .objectID(BSONObjectID.generate()),
            "user_id": .objectID(request.userID),
            "type": .string(request.type),
            "title": .string(request.title),
            "message": .string(request.message),
            "delivered": .bool(false),
            "delivered_at": .null,
            "read": .bool(false),
            "read_at": .null,
            "createdAt": .date(now),
            "updatedAt": .date(now),
            "__v": .int32(0),
        ]
        if let messageID {
            document["message_id"] = .string(messageID)
        }
        if let hash {
            document[Self.bodyHashField] = .string(hash)
        }
        return document
    }
}

extension Duration {
    var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }
}
