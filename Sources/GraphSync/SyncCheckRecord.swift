import AMQPClient
import Foundation
import Messaging
import MongoStore

/// The last consistency check, kept in MongoDB (collection `sync_checks`, one document) by
/// `decode-async sync check` and by the operations console, so that any console shows the last
/// result whichever process ran it.
public struct SyncCheckRecord: Sendable, Equatable {
    public static let collection = "sync_checks"
    /// The most differences kept in the record.
    public static let keptDifferences = 20

    public var checkedAt: Date
    public var checkedUsers: Int
    public var differing: Int
    /// The first ``keptDifferences`` differences, as `sync check` prints them.
    public var firstDifferences: [String]
    /// How many `update_user_request` a fix emitted; nil: no fix was asked.
    public var repairsEmitted: Int?
    /// `cli` or `console`.
    public var ranBy: String

    public init(
        checkedAt: Date, checkedUsers: Int, differences: [ConsistencyCheck.Difference], repairsEmitted: Int?,
        ranBy: String
    ) {
        self.checkedAt = checkedAt
        self.checkedUsers = checkedUsers
        self.differing = differences.count
        self.firstDifferences = differences.prefix(Self.keptDifferences).map(\.description)
        self.repairsEmitted = repairsEmitted
        self.ranBy = ranBy
    }

    var document: BSONDocument {
        var document: BSONDocument = [
            "checked_at": .date(self.checkedAt),
            "checked_users": .int64(Int64(self.checkedUsers)),
            "differing": .int64(Int64(self.differing)),
            "first_differences": .array(self.firstDifferences.map(BSON.string)),
            "ran_by": .string(self.ranBy),
        ]
        if let repairsEmitted {
            document["repairs_emitted"] = .int64(Int64(repairsEmitted))
        }
        return document
    }

    init?(document: BSONDocument) {
        guard let checkedAt = document["checked_at"]?.dateValue else { return nil }
        self.checkedAt = checkedAt
        self.checkedUsers = Self.int(document["checked_users"]) ?? 0
        self.differing = Self.int(document["differing"]) ?? 0
        var differences: [String] = []
        if case .array(let values) = document["first_differences"] {
            for case .string(let text) in values {
                differences.append(text)
            }
        }
        self.firstDifferences = differences
        self.repairsEmitted = Self.int(document["repairs_emitted"])
        if case .string(let ranBy) = document["ran_by"] { self.ranBy = ranBy } else { self.ranBy = "?" }
    }

    private static func int(_ value: BSON?) -> Int? {
        switch value {
        case .int32(let value): Int(value)
        case .int64(let value): Int(value)
        case .double(let value): Int(value)
        default: nil
        }
    }

    /// Replaces the stored record.
    public func save(in client: MongoClient) async throws {
        let collection = try client.collection(Self.collection)
        try await collection.updateOne(
            MongoFilter.eq("_id", .string("last")), MongoUpdate.set(self.document), upsert: true)
    }

    /// The stored record, if a check ever ran.
    public static func load(from client: MongoClient) async throws -> SyncCheckRecord? {
        let collection = try client.collection(Self.collection)
        return try await collection.findOne(["_id": .string("last")]).flatMap(SyncCheckRecord.init(document:))
    }
}

extension ConsistencyCheck {
    /// `sync check --fix` and the console's **Fix**: one `update_user_request` per repair to
    /// `neo4j_sync_queue` (the running sync applies them). Returns how many were emitted.
    public static func emitRepairs(_ repairs: [UserSyncMessage], client: AMQPClient) async throws -> Int {
        try await client.declare([.queue(UserSyncService.queue)])
        let publisher = MessagePublisher(client: client)
        for message in repairs {
            try await publisher.emit(pattern: "update_user_request", data: message, queue: UserSyncService.queue)
        }
        return repairs.count
    }
}
