import Foundation
import NotificationService
import RedisClient
import SocketIO
import Testing

/// Presence in the local Redis, with the original's keys.
@Suite("Presence in Redis")
struct PresenceStoreIntegrationTests {
    func client() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(uri: RedisIntegrationTests.uri))
    }

    @Test func setIsNonEmptyExactlyWhileASocketLives() async throws {
        let redis = try self.client()
        defer { redis.shutdown() }
        let userID = TestEnvironment.uniqueName("user")
        let a = PresenceStore(
            redis: redis, keys: NotificationGateway.presenceKeys, instanceID: "a-\(userID)", ttlSeconds: 60)
        let b = PresenceStore(
            redis: redis, keys: NotificationGateway.presenceKeys, instanceID: "b-\(userID)", ttlSeconds: 60)
        let key = "user_sockets:\(userID)"
        #expect(try await a.isOnline(userID: userID) == false)
        try await a.connected(userID: userID, socketID: "s1")
        try await b.connected(userID: userID, socketID: "s2")
        #expect(try await redis.exists([key]) == 1)
        #expect(try await redis.smembers(key) == ["a-\(userID):s1", "b-\(userID):s2"])
        #expect(try await redis.ttl(key) > 50)
        // Online through another instance's socket: Redis answers, not the local sockets.
        #expect(await a.isUserConnected(userID: userID, hasLocalSocket: false))
        try await a.disconnected(userID: userID, socketID: "s1")
        #expect(try await b.isOnline(userID: userID))
        try await b.disconnected(userID: userID, socketID: "s2")
        #expect(try await redis.exists([key]) == 0)
        #expect(await a.isUserConnected(userID: userID, hasLocalSocket: false) == false)
        #expect(await a.isUserConnected(userID: userID, hasLocalSocket: true))
    }

    @Test func membersOfACrashedInstanceAreRemovedAndRefreshRepairs() async throws {
        let redis = try self.client()
        defer { redis.shutdown() }
        let userID = TestEnvironment.uniqueName("user")
        let live = PresenceStore(
            redis: redis, keys: NotificationGateway.presenceKeys, instanceID: "live-\(userID)", ttlSeconds: 60)
        let crashed = PresenceStore(
            redis: redis, keys: NotificationGateway.presenceKeys, instanceID: "crashed-\(userID)", ttlSeconds: 60)
        try await crashed.connected(userID: userID, socketID: "old")
        try await live.connected(userID: userID, socketID: "new")
        // The crashed instance stops refreshing; its liveness key expires.
        try await redis.del(["presence_instance:crashed-\(userID)"])
        try await live.disconnected(userID: userID, socketID: "new")
        #expect(try await redis.exists(["user_sockets:\(userID)"]) == 0)

        // A Redis flush (or restart) is repaired by the next refresh.
        try await live.connected(userID: userID, socketID: "again")
        try await redis.del(["user_sockets:\(userID)"])
        #expect(try await live.isOnline(userID: userID) == false)
        try await live.refresh([userID: ["again"]])
        #expect(try await live.isOnline(userID: userID))
        try await live.disconnected(userID: userID, socketID: "again")
    }

    @Test func redisDownMeansLocalOnlyNotAnError() async throws {
        // A user online on another instance: with Redis up, the push path sees it...
        let live = try self.client()
        defer { live.shutdown() }
        let userID = TestEnvironment.uniqueName("user")
        let elsewhere = PresenceStore(
            redis: live, keys: NotificationGateway.presenceKeys, instanceID: "elsewhere-\(userID)", ttlSeconds: 60)
        try await elsewhere.connected(userID: userID, socketID: "s1")
        let here = PresenceStore(
            redis: live, keys: NotificationGateway.presenceKeys, instanceID: "here-\(userID)", ttlSeconds: 60)
        #expect(await here.isUserConnected(userID: userID, hasLocalSocket: false))

        // ...with Redis unreachable it answers from local sockets alone instead of failing the push.
        var configuration = try RedisConfiguration(uri: "redis://127.0.0.1:1")
        configuration.connectTimeout = .milliseconds(200)
        let down = RedisClient(configuration: configuration)
        defer { down.shutdown() }
        let cutOff = PresenceStore(
            redis: down, keys: NotificationGateway.presenceKeys, instanceID: "here-\(userID)", ttlSeconds: 60)
        await #expect(throws: (any Error).self) { try await cutOff.isOnline(userID: userID) }
        #expect(await cutOff.isUserConnected(userID: userID, hasLocalSocket: false) == false)
        #expect(await cutOff.isUserConnected(userID: userID, hasLocalSocket: true))
        try await elsewhere.disconnected(userID: userID, socketID: "s1")
    }
}
