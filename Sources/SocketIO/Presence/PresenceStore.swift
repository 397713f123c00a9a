import Logging
import Metrics
import RedisClient

/// Where presence lives in Redis: the key of a user's set of live sockets and the key each live
/// instance keeps, each a prefix followed by the user's or the instance's id. The application names
/// them (other programs may read them, e.g. `EXISTS <user key>` for "is online").
public struct PresenceKeys: Sendable, Equatable {
    public var userPrefix: String
    public var instancePrefix: String

    public init(userPrefix: String, instancePrefix: String) {
        self.userPrefix = userPrefix
        self.instancePrefix = instancePrefix
    }

    /// The set of `userID`'s live sockets.
    public func user(_ userID: String) -> String { self.userPrefix + userID }
    /// The key that says instance `instanceID` is alive.
    public func instance(_ instanceID: String) -> String { self.instancePrefix + instanceID }
}

/// Who is online, in Redis: per user a set (``PresenceKeys/user(_:)``) of socket ids, non-empty
/// while the user has a live socket on any instance.
///
/// Members are `<instance>:<socket>`. The set's expiry (`ttl`) is written at connect and again by
/// ``refresh(_:)`` while sockets live, so a crashed instance's entries age out; ``SocketIOServer``
/// also calls ``refresh(_:)`` as soon as the Redis connection comes back, so a Redis restart is
/// repaired at once. Each live instance also keeps its ``PresenceKeys/instance(_:)`` key;
/// when a socket leaves, members of instances without that key are removed at once.
public struct PresenceStore: Sendable {
    public let redis: RedisClient
    public let keys: PresenceKeys
    public let instanceID: String
    /// How long entries live without a refresh; refresh at a third of it.
    public let ttlSeconds: Int
    let logger: Logger

    public init(
        redis: RedisClient, keys: PresenceKeys, instanceID: String, ttlSeconds: Int = 90,
        logger: Logger = Logger(label: "socket.io.presence")
    ) {
        self.redis = redis
        self.keys = keys
        self.instanceID = instanceID
        self.ttlSeconds = ttlSeconds
        self.logger = logger
    }

    func member(_ socketID: String) -> String { "\(self.instanceID):\(socketID)" }

    /// Records a socket of `userID`.
    public func connected(userID: String, socketID: String) async throws {
        try await self.redis.set(self.keys.instance(self.instanceID), "1", expireSeconds: self.ttlSeconds)
        try await self.redis.sadd(self.keys.user(userID), [self.member(socketID)], expireSeconds: self.ttlSeconds)
    }

    /// Forgets a socket; also removes members left by instances that are gone.
    public func disconnected(userID: String, socketID: String) async throws {
        let key = self.keys.user(userID)
        try await self.redis.srem(key, [self.member(socketID)])
        let members = try await self.redis.smembers(key)
        var dead: [String] = []
        for member in members {
            guard let instance = member.split(separator: ":", maxSplits: 1).first.map(String.init) else { continue }
            if instance != self.instanceID, try await self.redis.exists([self.keys.instance(instance)]) == 0 {
                dead.append(member)
            }
        }
        if !dead.isEmpty {
            try await self.redis.srem(key, dead)
        }
    }

    /// Re-writes every live socket of this instance and the entries' expiry (call every `ttl / 3`).
    public func refresh(_ socketsByUser: [String: [String]]) async throws {
        try await self.redis.set(self.keys.instance(self.instanceID), "1", expireSeconds: self.ttlSeconds)
        for (userID, sockets) in socketsByUser where !sockets.isEmpty {
            try await self.redis.sadd(self.keys.user(userID), sockets.map(self.member), expireSeconds: self.ttlSeconds)
        }
    }

    /// Whether the user has a live socket on any instance (what `EXISTS` on its key sees).
    public func isOnline(userID: String) async throws -> Bool {
        try await self.redis.scard(self.keys.user(userID)) > 0
    }

    /// Local sockets first, then Redis; when Redis is down, local only, logged and counted
    /// (`websocket.presence.redis_unavailable`); never throws on the push path.
    public func isUserConnected(userID: String, hasLocalSocket: Bool) async -> Bool {
        if hasLocalSocket { return true }
        do {
            return try await self.isOnline(userID: userID)
        } catch {
            self.logger.warning(
                "presence: Redis unavailable; answering from local sockets", metadata: ["error": "\(error)"])
            Counter(label: "websocket.presence.redis_unavailable").increment()
            return false
        }
    }
}
