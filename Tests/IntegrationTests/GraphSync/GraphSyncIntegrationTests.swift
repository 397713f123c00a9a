import BoltClient
import Foundation
import GraphSync
import Logging
import Messaging
import MongoStore
import Testing

/// The sync flow end to end: messages published as NestJS emits them (pika), consumed by our
/// consumer, written over Bolt to the local graph server, read back with the Python neo4j driver.
@Suite("Graph sync against the local stack")
struct GraphSyncIntegrationTests {
    static func newUserID() -> String {
        (0..<24).map { _ in String("0123456789abcdef".randomElement() ?? "0") }.joined()
    }

    static func document(_ id: String, username: String, displayName: String? = nil, updatedAt: String? = nil)
        -> [String: Any]
    {
        var document: [String: Any] = [
            "_id": id, "username": username, "display_name": displayName ?? username, "role": "user",
            "avatar_ipfs_hash": "bafkreibmridohwxgfwdrju5ixnw26awr22keihoegdn76yymilgsqyx4le",
            "email": "\(username)@example.com", "password_hashed": "$2b$10$abcdefghijklmnopqrstuv", "bio": "Hi",
            "is_active": true, "__v": 0, "last_login": "2025-01-01T00:00:00.000Z",
        ]
        if let updatedAt { document["updatedAt"] = updatedAt }
        return document
    }

    /// Publishes like NestJS `ClientProxy.emit` through pika (no properties at all).
    static func publish(_ queue: String, _ pattern: String, _ data: [String: Any]) async throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: data), as: UTF8.self)
        try await TestEnvironment.run([
            PikaInteropTests.python, PikaInteropTests.peer, "publish-nest", queue, pattern, json,
        ])
    }

    static func nodes(_ id: String) async throws -> [[String: Any]] {
        try await Neo4jPeer.query(
            "MATCH (u:User {user_id: $id}) RETURN u", parameters: ["id": id]
        ).compactMap { ($0["u"] as? [String: Any])?["properties"] as? [String: Any] }
    }

    static func cleanUp(_ ids: [String]) async throws {
        let client = BoltClient(configuration: try Neo4jPeer.configuration())
        _ = try await client.query(
            "UNWIND $ids AS id MATCH (n) WHERE (n:User OR n:UserSyncState) AND n.user_id = id DETACH DELETE n",
            parameters: ["ids": .list(ids.map(BoltValue.string))])
        await client.shutdown()
    }

    /// Runs `body` while the services' batchers run (as the runtime's service group runs them).
    static func running<T: Sendable>(_ services: UserSyncService..., body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask { await service.run() }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Runs the sync's handlers on a fresh queue; `outcomes` records each applied message.
    static func withSync(
        batchSize: Int = 50,
        _ body: (String, Recorder<UserSyncOutcome>, MessagingHarness) async throws -> Void
    ) async throws {
        let bolt = BoltClient(configuration: try Neo4jPeer.configuration())
        let writer = UserGraphWriter(client: bolt, logger: Logger(label: "test.sync"))
        try await writer.ensureSchema()
        let service = UserSyncService(writer: writer, batchSize: batchSize, logger: Logger(label: "test.sync"))
        let outcomes = Recorder<UserSyncOutcome>()
        let handlers = [UserSyncOperation.create, .update].map { operation in
            MessageHandler(pattern: "\(operation.rawValue)_user_request", payload: UserDocument.self) { document, _ in
                await outcomes.append(try await service.handle(document, operation: operation))
            }
        }
        let queue = TestEnvironment.uniqueName("test.neo4j_sync")
        try await Self.running(service) {
            try await BrokerLock.shared {
                try await MessagingHarness.run(queue: queue, handlers: handlers) { harness in
                    try await body(queue, outcomes, harness)
                }
            }
        }
        await bolt.shutdown()
    }

    @Test func nestJSCreateThenUpdateProduceExactlyTheSevenProperties() async throws {
        try await GraphLock.shared {
            let id = Self.newUserID()
            try await Self.withSync { queue, outcomes, _ in
                try await Self.publish(queue, "create_user_request", Self.document(id, username: "alice"))
                try await eventually("the create was applied") { await outcomes.count == 1 }
                var node = try #require(try await Self.nodes(id).first)
                #expect(
                    Set(node.keys) == [
                        "user_id", "username", "role", "display_name", "avatar_ipfs_hash", "following_number",
                        "followers_number",
                    ])
                #expect((node["following_number"] as? [String: Any])?["float"] as? Double == 0.0)
                #expect((node["followers_number"] as? [String: Any])?["float"] as? Double == 0.0)
                #expect(node["username"] as? String == "alice")

                try await Self.publish(
                    queue, "update_user_request", Self.document(id, username: "alice2", displayName: "Alice Two"))
                try await eventually("the update was applied") { await outcomes.count == 2 }
                node = try #require(try await Self.nodes(id).first)
                #expect(node["username"] as? String == "alice2")
                #expect(node["display_name"] as? String == "Alice Two")
                #expect(node["email"] == nil)
                #expect(await outcomes.values == [.created, .updated])
            }
            try await Self.cleanUp([id])
        }
    }

    @Test func updateBeforeCreateCreatesAndALateCreateChangesNothing() async throws {
        try await GraphLock.shared {
            let id = Self.newUserID()
            try await Self.withSync { queue, outcomes, _ in
                try await Self.publish(queue, "update_user_request", Self.document(id, username: "first"))
                try await eventually("the update was applied") { await outcomes.count == 1 }
                try await Self.publish(queue, "create_user_request", Self.document(id, username: "late-create"))
                try await eventually("the create was applied") { await outcomes.count == 2 }
                let nodes = try await Self.nodes(id)
                #expect(nodes.count == 1)
                #expect(nodes.first?["username"] as? String == "first")
                #expect((nodes.first?["followers_number"] as? [String: Any])?["float"] as? Double == 0.0)
                #expect(await outcomes.values == [.created, .alreadyExists])
            }
            try await Self.cleanUp([id])
        }
    }

    @Test func aStaleUpdateNeverOverwritesANewerOne() async throws {
        try await GraphLock.shared {
            let id = Self.newUserID()
            try await Self.withSync { queue, outcomes, _ in
                try await Self.publish(
                    queue, "update_user_request",
                    Self.document(id, username: "newer", updatedAt: "2025-06-01T10:00:00.000Z"))
                try await eventually("the newer update was applied") { await outcomes.count == 1 }
                try await Self.publish(
                    queue, "update_user_request",
                    Self.document(id, username: "older", updatedAt: "2025-06-01T09:59:59.999Z"))
                try await eventually("the older update was handled") { await outcomes.count == 2 }
                #expect(try await Self.nodes(id).first?["username"] as? String == "newer")
                #expect(await outcomes.values == [.created, .stale])
                let state = try await Neo4jPeer.query(
                    "MATCH (s:UserSyncState {user_id: $id}) RETURN s.source_updated_at AS t", parameters: ["id": id])
                #expect(state.first?["t"] as? Int == 1_748_772_000_000)
            }
            try await Self.cleanUp([id])
        }
    }

    @Test func duplicatesAndConcurrentCreatesLeaveOneNode() async throws {
        try await GraphLock.shared {
            let id = Self.newUserID()
            try await Self.withSync(batchSize: 4) { queue, outcomes, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for n in 0..<8 {
                        group.addTask {
                            try await Self.publish(
                                queue, "create_user_request", Self.document(id, username: "racer\(n)"))
                        }
                    }
                    try await group.waitForAll()
                }
                try await eventually("every create was handled") { await outcomes.count == 8 }
                #expect(try await Self.nodes(id).count == 1)
                let values = await outcomes.values
                #expect(values.filter { $0 == .created }.count == 1)
                #expect(values.filter { $0 == .alreadyExists }.count == 7)
            }
            try await Self.cleanUp([id])
        }
    }

    @Test func cypherInAUsernameIsStoredLiterally() async throws {
        try await GraphLock.shared {
            let id = Self.newUserID()
            let username = #"x"}) MATCH (n) DETACH DELETE n //'\"#
            try await Self.withSync { queue, outcomes, _ in
                try await Self.publish(queue, "create_user_request", Self.document(id, username: username))
                try await eventually("the create was applied") { await outcomes.count == 1 }
                #expect(try await Self.nodes(id).first?["username"] as? String == username)
            }
            try await Self.cleanUp([id])
        }
    }

    @Test func invalidPayloadsAreDeadLetteredAndNeverReachTheGraph() async throws {
        try await GraphLock.shared {
            let id = Self.newUserID()
            let hugeID = Self.newUserID()
            try await Self.withSync { queue, _, harness in
                try await Self.publish(queue, "create_user_request", Self.document("not-an-object-id", username: "bad"))
                try await eventually("the bad id was dead-lettered") {
                    try await MessagingHarness.depth(of: "\(queue).dlq") == 1
                }
                let output = try await TestEnvironment.run([
                    PikaInteropTests.python, PikaInteropTests.peer, "get", "\(queue).dlq",
                ])
                let dead = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
                let headers = try #require(dead["headers"] as? [String: Any])
                #expect(headers["x-death-reason"] as? String == "permanent")
                #expect(
                    (headers["x-last-error"] as? String)?.contains("_id is not a 24-character hex ObjectId") == true)

                try await Self.publish(
                    queue, "create_user_request",
                    Self.document(id, username: "long", displayName: String(repeating: "d", count: 300)))
                try await eventually("the overlong name was dead-lettered") {
                    try await MessagingHarness.depth(of: "\(queue).dlq") == 1
                }

                // Too long for a command line: published raw, with no properties, as NestJS emits.
                let twoMegabytes = String(repeating: "x", count: 2 << 20)
                let envelope: [String: Any] = [
                    "pattern": "create_user_request",
                    "data": Self.document(hugeID, username: "huge", displayName: twoMegabytes),
                ]
                try await harness.publishRaw(
                    String(decoding: try JSONSerialization.data(withJSONObject: envelope), as: UTF8.self))
                try await eventually("the 2 MB message was dead-lettered") {
                    try await MessagingHarness.depth(of: "\(queue).dlq") == 2
                }
            }
            #expect(try await Self.nodes(id).isEmpty)
            #expect(try await Self.nodes(hugeID).isEmpty)
            try await Self.cleanUp([id, hugeID])
        }
    }

    @Test func bulkSyncWritesMongoUsersAndCheckFindsPlantedDifferences() async throws {
        try await GraphLock.shared {
            try await MongoLock.shared {
                let mongo = try MongoClient(uri: MongoClientIntegrationTests.uri, database: "decode_async_tests")
                let collection = try mongo.collection(TestEnvironment.uniqueName("users"))
                let bolt = BoltClient(configuration: try Neo4jPeer.configuration())
                let writer = UserGraphWriter(client: bolt, logger: Logger(label: "test.bulk"))
                try await writer.ensureSchema()
                let users = 2_000
                let ids = (0..<users).map { _ in BSONObjectID.generate() }
                _ = try await collection.insertMany(
                    ids.enumerated().map { index, id in
                        [
                            "_id": .objectID(id), "username": .string("bulk\(index)"),
                            "display_name": .string("Bulk \(index)"),
                            "role": .string("user"), "avatar_ipfs_hash": .string("bafk"),
                            "email": .string("b\(index)@example.com"),
                            "updatedAt": .datetime(1_750_000_000_000),
                        ]
                    })
                let source = MongoUserSource(collection: collection)
                let report = try await BulkSync(source: source, writer: writer, batchSize: 100).run(ids: nil)
                #expect(report.read == users)
                #expect(report.created == users)
                let hex = ids.map(\.description)
                let count = try await Neo4jPeer.query(
                    "MATCH (u:User) WHERE u.user_id IN $ids RETURN count(u) AS c", parameters: ["ids": hex])
                #expect(count.first?["c"] as? Int == users)

                let check = ConsistencyCheck(source: source, writer: writer, pageSize: 100)
                #expect(try await check.run().isEmpty)
                _ = try await collection.updateOne(.eq("_id", .objectID(ids[3])), .set(["role": .string("admin")]))
                _ = try await bolt.query(
                    "MATCH (u:User {user_id: $id}) DETACH DELETE u", parameters: ["id": .string(hex[7])])
                let differences = try await check.run()
                #expect(differences.map(\.userID) == [hex[3], hex[7]].sorted())
                #expect(differences.first { $0.userID == hex[3] }?.fields?.keys.sorted() == ["role"])
                #expect(differences.first { $0.userID == hex[7] }?.fields == nil)

                // The fix: update_user_request per difference, applied by the sync like any message.
                let repairs = try await check.repairMessages(for: differences)
                #expect(repairs.map(\.id) == [hex[3], hex[7]].sorted())
                #expect(repairs.first { $0.id == hex[3] }?.role == "admin")
                try await Self.withSync { queue, outcomes, harness in
                    let publisher = MessagePublisher(client: harness.client)
                    for repair in repairs {
                        try await publisher.emit(pattern: "update_user_request", data: repair, queue: queue)
                    }
                    try await eventually("the repairs were applied") { await outcomes.count == 2 }
                    #expect(Set(await outcomes.values) == [.updated, .created])
                }
                #expect(try await check.run().isEmpty)

                _ = try await collection.deleteMany(MongoFilter())
                try await mongo.shutdown()
                await bolt.shutdown()
                try await Self.cleanUp(hex)
            }
        }
    }
}

extension GraphSyncIntegrationTests {
    /// Two instances (separate pools, separate batchers) creating the same user at once: the
    /// uniqueness constraint and MERGE leave one node; a losing transaction is a retryable error.
    @Test func twoInstancesRacingOnOneUserLeaveOneNode() async throws {
        try await GraphLock.shared {
            let id = Self.newUserID()
            let clients = try [
                BoltClient(configuration: Neo4jPeer.configuration()),
                BoltClient(configuration: Neo4jPeer.configuration()),
            ]
            let services = clients.map { client in
                UserSyncService(
                    writer: UserGraphWriter(client: client, logger: Logger(label: "test.race")), batchSize: 1,
                    logger: Logger(label: "test.race"))
            }
            try await services[0].writer.ensureSchema()
            let document = UserDocument(id: .string(id), username: .string("racer"))
            let outcomes = try await Self.running(services[0], services[1]) {
                try await withThrowingTaskGroup(of: UserSyncOutcome.self) { group in
                    for n in 0..<10 {
                        group.addTask {
                            // What the consumer does with a transient failure: try again.
                            for _ in 0..<20 {
                                do {
                                    return try await services[n % 2].handle(document, operation: .create)
                                } catch let error as MessageHandlingError where error.disposition == .transient {
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                            }
                            throw MessageHandlingError.permanent("still failing after 20 attempts")
                        }
                    }
                    var outcomes: [UserSyncOutcome] = []
                    for try await outcome in group { outcomes.append(outcome) }
                    return outcomes
                }
            }
            #expect(outcomes.filter { $0 == .created }.count == 1)
            #expect(outcomes.filter { $0 == .alreadyExists }.count == 9)
            #expect(try await Self.nodes(id).count == 1)
            let states = try await Neo4jPeer.query(
                "MATCH (s:UserSyncState {user_id: $id}) RETURN count(s) AS c", parameters: ["id": id])
            #expect(states.first?["c"] as? Int == 1)
            for client in clients { await client.shutdown() }
            try await Self.cleanUp([id])
        }
    }
}
