import Foundation
import Logging
import MongoStore
import ServiceLifecycle
import Testing

/// MongoStore against the local MongoDB-compatible server: what the server holds afterwards.
@Suite("MongoStore against the local MongoDB server")
struct MongoClientIntegrationTests {
    static var uri: String { ProcessInfo.processInfo.environment["MONGO_URI"] ?? "mongodb://127.0.0.1:27017" }

    func withClient(_ body: (MongoClient) async throws -> Void) async throws {
        try await MongoLock.shared {
            let client = try MongoClient(uri: Self.uri, database: "decode_async_tests")
            do {
                try await body(client)
            } catch {
                try await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    @Test func pingInsertFindCountDelete() async throws {
        try await self.withClient { client in
            try await client.ping()
            let collection = try client.collection(TestEnvironment.uniqueName("notifications"))
            let userID = try #require(BSONObjectID(hex: "665f1c2e9b1d4a0012345678"))
            let created = Date(timeIntervalSince1970: 1_700_000_000.123)
            let id = try await collection.insertOne([
                "user_id": .objectID(userID), "type": .string("new_follow"), "delivered": .bool(false),
                "createdAt": .date(created), "__v": .int32(0),
            ])
            guard case .objectID = id else {
                Issue.record("insertOne did not return an ObjectId: \(id)")
                return
            }
            let found = try #require(try await collection.findOne(["_id": id]))
            #expect(found["user_id"] == .objectID(userID))
            #expect(found["type"] == .string("new_follow"))
            #expect(found["createdAt"]?.dateValue == Date(timeIntervalSince1970: 1_700_000_000.123))
            #expect(found.keys == ["_id", "user_id", "type", "delivered", "createdAt", "__v"])
            #expect(try await collection.countDocuments(["user_id": .objectID(userID)]) == 1)
            // A user-controlled string is a value, never an operator.
            #expect(try await collection.countDocuments(["type": .string(#"{"$ne": null}"#)]) == 0)
            #expect(try await collection.deleteOne(["_id": id]))
            #expect(try await collection.countDocuments() == 0)
        }
    }

    /// In a `ServiceGroup` (as the runtime holds it) the client serves until graceful shutdown, then
    /// stops its thread pool: the group's end is the client's end, with no shutdown call of its own.
    @Test func asAServiceItServesUntilGracefulShutdownThenRefusesWork() async throws {
        try await MongoLock.shared {
            let client = try MongoClient(uri: Self.uri, database: "decode_async_tests")
            let group = ServiceGroup(configuration: .init(services: [client], logger: Logger(label: "test.mongo")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await client.ping()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await #expect(throws: (any Error).self) { try await client.ping() }
        }
    }

    @Test func uniqueIndexViolationIsADuplicateKey() async throws {
        try await self.withClient { client in
            let collection = try client.collection(TestEnvironment.uniqueName("dedup"))
            try await collection.createUniqueIndex(["message_id": .int32(1)], name: "message_id_unique")
            try await collection.insertOne(["message_id": .string("m-1")])
            let error = await #expect(throws: MongoError.self) {
                try await collection.insertOne(["message_id": .string("m-1")])
            }
            #expect(error?.kind == .duplicateKey)
            #expect(error?.code == 11000)
            #expect(error?.index == "message_id_unique")
            #expect(error.map { String(describing: $0).contains("m-1") } == false)
            #expect(try await collection.countDocuments() == 1)
        }
    }

    @Test func unreachableServerIsARetryableNetworkError() async throws {
        let client = try MongoClient(
            uri: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300&connectTimeoutMS=300", database: "x")
        let error = await #expect(throws: MongoError.self) { try await client.ping() }
        #expect(error?.kind == .network)
        #expect(error?.isRetryable == true)
        try await client.shutdown()
    }
}
