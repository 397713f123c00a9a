import Foundation
import Logging
import NIOCore
import RedisClient
import ServiceLifecycle
import Testing

/// RedisClient against the local Redis: what the server holds and sends afterwards.
@Suite("RedisClient against Redis")
struct RedisIntegrationTests {
    static var uri: String { ProcessInfo.processInfo.environment["REDIS_URI"] ?? "redis://127.0.0.1:6379" }

    func makeClient(database: Int = 0) throws -> RedisClient {
        var configuration = try RedisConfiguration(uri: Self.uri)
        configuration.database = database
        return RedisClient(configuration: configuration)
    }

    /// Members and expiry in one step: a set written this way always has its time to live, and
    /// members with quotes or script syntax are data, never script.
    @Test func setMembersAndExpiryAreWrittenTogether() async throws {
        let client = try self.makeClient()
        defer { client.shutdown() }
        let key = "user_sockets:\(TestEnvironment.uniqueName("test"))"
        let odd = "a') redis.call('FLUSHALL') --"
        #expect(try await client.sadd(key, ["instance-a:sock-1", odd], expireSeconds: 600) == 2)
        let ttl = try await client.ttl(key)
        #expect(ttl > 590 && ttl <= 600)
        #expect(try await client.smembers(key) == ["instance-a:sock-1", odd])
        #expect(try await client.sadd(key, ["instance-a:sock-1"], expireSeconds: 30) == 0)
        #expect(try await client.ttl(key) <= 30)
        #expect(try await client.sadd(key, [], expireSeconds: 30) == 0)
        #expect(try await client.del([key]) == 1)
    }

    @Test func presenceCommandsAsTheGatewayUsesThem() async throws {
        let client = try self.makeClient()
        defer { client.shutdown() }
        let key = "user_sockets:\(TestEnvironment.uniqueName("test"))"
        #expect(try await client.sadd(key, ["instance-a:sock-1", "instance-a:sock-2"]) == 2)
        #expect(try await client.expire(key, seconds: 86_400))
        #expect(try await client.scard(key) == 2)
        #expect(try await client.exists([key]) == 1)
        #expect(try await client.ttl(key) > 86_000)
        #expect(try await client.srem(key, ["instance-a:sock-1"]) == 1)
        #expect(try await client.smembers(key) == ["instance-a:sock-2"])
        #expect(try await client.srem(key, ["instance-a:sock-2"]) == 1)
        #expect(try await client.exists([key]) == 0)
        try await client.set("\(key):plain", "v", expireSeconds: 10)
        #expect(try await client.get("\(key):plain") == "v")
        #expect(try await client.del(["\(key):plain"]) == 1)
        #expect(try await client.get("\(key):plain") == nil)
    }

    @Test func manyCommandsInFlightAreAnsweredInOrder() async throws {
        let client = try self.makeClient()
        defer { client.shutdown() }
        let prefix = TestEnvironment.uniqueName("pipeline")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask {
                    try await client.set("\(prefix):\(index)", "value-\(index)")
                    let value = try await client.get("\(prefix):\(index)")
                    guard value == "value-\(index)" else {
                        throw RedisError(.protocolViolation, "got \(value ?? "nil")")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.del((0..<500).map { "\(prefix):\($0)" }) == 500)
    }

    @Test func serverErrorsAreTyped() async throws {
        let client = try self.makeClient()
        defer { client.shutdown() }
        let key = TestEnvironment.uniqueName("wrongtype")
        try await client.set(key, "string")
        let error = await #expect(throws: RedisError.self) { try await client.sadd(key, ["x"]) }
        #expect(error?.kind == .server)
        #expect(error?.serverCode == "WRONGTYPE")
        #expect(try await client.get(key) == "string")
        try await client.del([key])
    }

    @Test func databaseSelectionIsolatesKeys() async throws {
        let zero = try self.makeClient(database: 0)
        let three = try self.makeClient(database: 3)
        defer {
            zero.shutdown()
            three.shutdown()
        }
        let key = TestEnvironment.uniqueName("db")
        try await three.set(key, "in three")
        #expect(try await zero.get(key) == nil)
        #expect(try await three.get(key) == "in three")
        try await three.del([key])
    }

    @Test func aclUserLogsInAndWrongPasswordIsRefused() async throws {
        let admin = try self.makeClient()
        defer { admin.shutdown() }
        let user = TestEnvironment.uniqueName("acl").replacingOccurrences(of: ".", with: "_")
        try await admin.send(["ACL", "SETUSER", .string(user), "on", ">right-password", "~presence:*", "+@all"])
        var configuration = try RedisConfiguration(uri: Self.uri)
        configuration.username = user
        configuration.password = "right-password"
        let client = RedisClient(configuration: configuration)
        try await client.set("presence:\(user)", "ok")
        #expect(try await client.get("presence:\(user)") == "ok")
        let denied = await #expect(throws: RedisError.self) { try await client.set("other:\(user)", "no") }
        #expect(denied?.serverCode == "NOPERM")
        client.shutdown()
        configuration.password = "wrong-password"
        let refused = RedisClient(configuration: configuration)
        let error = await #expect(throws: RedisError.self) { try await refused.ping() }
        #expect(error?.kind == .authenticationFailed)
        #expect(error.map { String(describing: $0).contains("wrong-password") } == false)
        try await admin.del(["presence:\(user)"])
        try await admin.send(["ACL", "DELUSER", .string(user)])
    }

    @Test func resubscribingRightAfterUnsubscribingStaysSubscribed() async throws {
        let subscriber = try self.makeClient()
        let publisher = try self.makeClient()
        let channel = TestEnvironment.uniqueName("churn")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            let warmup = try await subscriber.subscribe(.channel("\(channel).warmup"))
            try await eventually("subscriber connected") {
                subscriber.confirmedSubscriptions.contains(.channel("\(channel).warmup"))
            }
            await warmup.unsubscribe()
            var live: RedisSubscription?
            for _ in 0..<20 {
                let subscription = try await subscriber.subscribe(.channel(channel))
                await live?.unsubscribe()
                live = subscription
            }
            let subscription = try #require(live)
            try await eventually("the server still has the subscription") {
                (try await publisher.send(["PUBSUB", "NUMSUB", .string(channel)]).elements?.last?.int ?? 0) >= 1
            }
            try await publisher.publish(channel, ByteBuffer(string: "still here"))
            var iterator = subscription.makeAsyncIterator()
            #expect(await iterator.next().map { String(buffer: $0.payload) } == "still here")
            subscriber.shutdown()
            group.cancelAll()
        }
        publisher.shutdown()
    }

    @Test func gracefulShutdownEndsTheSubscriberAndItsSubscriptions() async throws {
        let client = try self.makeClient()
        let group = ServiceGroup(configuration: .init(services: [client], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let subscription = try await client.subscribe(.channel(TestEnvironment.uniqueName("shutdown")))
            try await eventually("subscribed") { client.confirmedSubscriptions.count == 1 }
            await group.triggerGracefulShutdown()
            var iterator = subscription.makeAsyncIterator()
            #expect(await iterator.next() == nil)
            try await tasks.waitForAll()
        }
    }

    @Test func pubSubDeliversAndResubscribesAfterTheConnectionIsKilled() async throws {
        // A name of its own, so the kill below reaches this subscriber and no other test's.
        var configuration = try RedisConfiguration(uri: Self.uri)
        configuration.clientName = TestEnvironment.uniqueName("killed-subscriber")
        let subscriber = RedisClient(configuration: configuration)
        let publisher = try self.makeClient()
        let channel = TestEnvironment.uniqueName("events")
        let events = subscriber.connectionEvents()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            var eventIterator = events.makeAsyncIterator()
            #expect(await eventIterator.next() == .connected)
            let messages = try await subscriber.subscribe(.channel(channel))
            let patterned = try await subscriber.subscribe(.pattern("\(channel).*"))
            let sharded = try await subscriber.subscribe(.shardChannel("\(channel).shard"))
            try await eventually("subscriptions confirmed") { subscriber.confirmedSubscriptions.count == 3 }
            var iterator = messages.makeAsyncIterator()
            var patternIterator = patterned.makeAsyncIterator()
            var shardIterator = sharded.makeAsyncIterator()

            #expect(try await publisher.publish(channel, ByteBuffer(string: "first")) == 1)
            #expect(await iterator.next().map { String(buffer: $0.payload) } == "first")
            try await publisher.publish("\(channel).user_42", ByteBuffer(string: "by pattern"))
            let byPattern = await patternIterator.next()
            #expect(byPattern?.pattern == "\(channel).*")
            #expect(byPattern?.channel == "\(channel).user_42")
            try await publisher.spublish("\(channel).shard", ByteBuffer(string: "sharded"))
            #expect(await shardIterator.next().map { String(buffer: $0.payload) } == "sharded")

            // Kill the subscriber's connection at the server: the client reconnects and resubscribes.
            let clients = try await publisher.send(["CLIENT", "LIST", "TYPE", "pubsub"]).string ?? ""
            let ids = clients.split(separator: "\n")
                .filter { $0.contains(" name=\(configuration.clientName) ") }
                .compactMap { line in line.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3) }
            #expect(ids.count == 1)
            for id in ids {
                try await publisher.send(["CLIENT", "KILL", "ID", .string(String(id))])
            }
            try await eventually("resubscribed after the kill") {
                let subscribers =
                    try await publisher.send(["PUBSUB", "NUMSUB", .string(channel)]).elements?.last?.int ?? 0
                return subscriber.confirmedSubscriptions.count == 3 && subscribers >= 1
            }
            try await publisher.publish(channel, ByteBuffer(string: "after reconnect"))
            #expect(await iterator.next().map { String(buffer: $0.payload) } == "after reconnect")
            // The loss and the return were both reported to connection-event listeners.
            #expect(await eventIterator.next() == .disconnected)
            #expect(await eventIterator.next() == .connected)

            await messages.unsubscribe()
            try await eventually("unsubscribed") {
                (try await publisher.send(["PUBSUB", "NUMSUB", .string(channel)]).elements?.last?.int ?? 1) == 0
            }
            subscriber.shutdown()
            #expect(await eventIterator.next() == nil)
            group.cancelAll()
        }
        publisher.shutdown()
    }
}
