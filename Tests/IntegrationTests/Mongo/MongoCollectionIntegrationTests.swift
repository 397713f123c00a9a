import Foundation
import MongoStore
import Testing

/// Every collection operation against the local MongoDB-compatible server.
@Suite("MongoStore collection API against the local server")
struct MongoCollectionIntegrationTests {
    struct Item: Codable, Equatable {
        var name: String
        var rank: Int
        var group: String
    }

    func withCollection(
        exclusive: Bool = false,
        _ body: (MongoClient, MongoCollection) async throws -> Void
    ) async throws {
        if exclusive {
            try await MongoLock.exclusive { try await self.run(body) }
        } else {
            try await MongoLock.shared { try await self.run(body) }
        }
    }

    private func run(_ body: (MongoClient, MongoCollection) async throws -> Void) async throws {
        let client = try MongoClient(uri: MongoClientIntegrationTests.uri, database: "decode_async_tests")
        let collection = try client.collection(TestEnvironment.uniqueName("items"))
        do {
            try await body(client, collection)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test func insertManyAndFindWithSortSkipLimitProjection() async throws {
        try await self.withCollection { _, collection in
            let items = (0..<10).map { Item(name: "item-\($0)", rank: $0, group: $0 % 2 == 0 ? "even" : "odd") }
            let ids = try await collection.insertMany(try items.map { try BSONEncoder().encode($0) })
            #expect(ids.count == 10)
            let page = try await collection.find(
                .eq("group", .string("even")),
                as: Item.self,
                options: FindOptions(sort: ["rank": .int32(-1)], skip: 1, limit: 2)
            )
            #expect(page.map(\.rank) == [6, 4])
            let projected = try await collection.find(
                .gte("rank", .int64(8)),
                options: FindOptions(sort: ["rank": .int32(1)], projection: ["name": .int32(1), "_id": .int32(0)])
            )
            #expect(projected == [["name": .string("item-8")], ["name": .string("item-9")]])
            #expect(
                try await collection.countDocuments(
                    MongoFilter.in("rank", [.int64(1), .int64(2), .int64(99)]).document) == 2)
        }
    }

    @Test func updatesAndFindOneAndUpdate() async throws {
        try await self.withCollection { _, collection in
            try await collection.insertMany([
                ["name": .string("a"), "read": .bool(false), "n": .int32(1)],
                ["name": .string("b"), "read": .bool(false), "n": .int32(2)],
            ])
            let many = try await collection.updateMany(.eq("read", .bool(false)), .set(["read": .bool(true)]))
            #expect(many.matchedCount == 2 && many.modifiedCount == 2 && many.upsertedID == nil)
            let one = try await collection.updateOne(.eq("name", .string("a")), MongoUpdate().inc(["n": .int32(10)]))
            #expect(one.modifiedCount == 1)
            let upsert = try await collection.updateOne(
                .eq("name", .string("c")),
                MongoUpdate.set(["read": .bool(false)]).setOnInsert(["n": .int32(0)]),
                upsert: true
            )
            #expect(upsert.upsertedID != nil)
            #expect(try await collection.countDocuments() == 3)

            let before = try await collection.findOneAndUpdate(
                .eq("name", .string("a")), MongoUpdate().inc(["n": .int32(1)]), returning: .before)
            #expect(before?["n"] == .int32(11))
            let after = try await collection.findOneAndUpdate(
                .eq("name", .string("a")), MongoUpdate().inc(["n": .int32(1)]), returning: .after)
            #expect(after?["n"] == .int32(13))
            let none = try await collection.findOneAndUpdate(.eq("name", .string("zzz")), .set(["n": .int32(1)]))
            #expect(none == nil)
            #expect(try await collection.deleteMany(.eq("read", .bool(true))) == 2)
            #expect(try await collection.countDocuments() == 1)
        }
    }

    @Test func indexesUniquePartialAndTTL() async throws {
        try await self.withCollection { _, collection in
            try await collection.createIndexes([
                IndexModel(keys: ["user_id": .int32(1), "createdAt": .int32(-1)], name: "user_created"),
                IndexModel(
                    keys: ["message_id": .int32(1)],
                    name: "message_id_unique",
                    unique: true,
                    partialFilter: .exists("message_id")
                ),
                IndexModel(keys: ["expiresAt": .int32(1)], name: "expires_ttl", expireAfterSeconds: 3600),
            ])
            let indexes = try await collection.listIndexes()
            let byName = Dictionary(
                uniqueKeysWithValues: indexes.compactMap { index -> (String, BSONDocument)? in
                    guard case .string(let name) = index["name"] else { return nil }
                    return (name, index)
                })
            #expect(byName["message_id_unique"]?["unique"] == .bool(true))
            #expect(byName["message_id_unique"]?["partialFilterExpression"] != nil)
            #expect(byName["expires_ttl"]?["expireAfterSeconds"]?.int64Value == 3600)
            #expect(byName["user_created"] != nil)
            // The partial unique index ignores documents without message_id.
            try await collection.insertMany([["x": .int32(1)], ["x": .int32(2)]])
            try await collection.insertOne(["message_id": .string("m")])
            let error = await #expect(throws: MongoError.self) {
                try await collection.insertOne(["message_id": .string("m")])
            }
            #expect(error?.kind == .duplicateKey)
        }
    }

    @Test func aggregateGroups() async throws {
        try await self.withCollection { _, collection in
            try await collection.insertMany(
                (0..<6).map { ["group": .string($0 < 4 ? "a" : "b"), "v": .int32(Int32($0))] })
            let groups = try await collection.aggregate([
                ["$match": .document(["v": .document(["$gte": .int32(1)])])],
                ["$group": .document(["_id": .string("$group"), "count": .document(["$sum": .int32(1)])])],
                ["$sort": .document(["_id": .int32(1)])],
            ])
            #expect(groups.map { $0["_id"] } == [.string("a"), .string("b")])
            #expect(groups.map { $0["count"]?.int64Value } == [3, 2])
        }
    }

    @Test func decodingFailureNamesTheField() async throws {
        try await self.withCollection { _, collection in
            try await collection.insertOne([
                "name": .string("x"), "rank": .string("not a number"), "group": .string("g"),
            ])
            let error = await #expect(throws: MongoError.self) { try await collection.find(.all, as: Item.self) }
            #expect(error?.kind == .bsonDecoding)
            #expect(error?.path == "rank")
        }
    }

    @Test func serverFailureInjectedWithAFailPointIsMapped() async throws {
        try await self.withCollection(exclusive: true) { client, collection in
            let admin = try client.collection("unused", database: "admin")
            _ = try await admin.runWriteCommand([
                "configureFailPoint": .string("failCommand"),
                "mode": .document(["times": .int32(1)]),
                "data": .document(["failCommands": .array([.string("insert")]), "errorCode": .int32(2)]),
            ])
            let error = await #expect(throws: MongoError.self) { try await collection.insertOne(["x": .int32(1)]) }
            #expect(error?.kind == .server)
            #expect(error?.code == 2)
            // The fail point fired once; the next insert works.
            try await collection.insertOne(["x": .int32(2)])
            #expect(try await collection.countDocuments() == 1)
        }
    }

    @Test func manyConcurrentOperationsFromManyTasks() async throws {
        try await self.withCollection { _, collection in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<20 {
                    group.addTask {
                        for index in 0..<10 {
                            try await collection.insertOne(["task": .int32(Int32(task)), "i": .int32(Int32(index))])
                            _ = try await collection.countDocuments(["task": .int32(Int32(task))])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await collection.countDocuments() == 200)
            #expect(try await collection.countDocuments(["task": .int32(7)]) == 10)
        }
    }
}
