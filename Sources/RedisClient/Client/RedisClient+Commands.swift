import NIOCore

/// Typed commands; each is one round trip (pipelined with other tasks' commands).
extension RedisClient {
    /// `PING`: returns when the server answers.
    public func ping() async throws {
        _ = try await self.send(["PING"])
    }

    /// `GET key`: the key's value, or `nil` when the key does not exist.
    /// - Throws: ``RedisError`` `server` (`WRONGTYPE`) when the key does not hold a string.
    public func get(_ key: String) async throws -> String? {
        try await self.send(["GET", .string(key)]).string
    }

    /// `SET key value [EX seconds]`.
    public func set(_ key: String, _ value: String, expireSeconds: Int? = nil) async throws {
        var arguments: [RESPArgument] = ["SET", .string(key), .string(value)]
        if let expireSeconds { arguments += ["EX", .string(String(expireSeconds))] }
        try await self.send(arguments)
    }

    /// Deletes keys; returns how many existed.
    @discardableResult
    public func del(_ keys: [String]) async throws -> Int64 {
        try await self.send(["DEL"] + keys.map { .string($0) }).int ?? 0
    }

    /// How many of `keys` exist.
    public func exists(_ keys: [String]) async throws -> Int64 {
        try await self.send(["EXISTS"] + keys.map { .string($0) }).int ?? 0
    }

    /// Sets a key's time to live; returns whether the key exists.
    @discardableResult
    public func expire(_ key: String, seconds: Int) async throws -> Bool {
        try await self.send(["EXPIRE", .string(key), .string(String(seconds))]).int == 1
    }

    /// Remaining time to live in seconds (-1: none, -2: no key).
    public func ttl(_ key: String) async throws -> Int64 {
        try await self.send(["TTL", .string(key)]).int ?? -2
    }

    /// Adds members to a set; returns how many were new.
    @discardableResult
    public func sadd(_ key: String, _ members: [String]) async throws -> Int64 {
        try await self.send(["SADD", .string(key)] + members.map { .string($0) }).int ?? 0
    }

    /// Adds members to a set and sets the set's time to live, as one atomic step (a server-side
    /// script): the set never exists without its expiry, even when the caller dies between the
    /// two. Returns how many members were new.
    @discardableResult
    public func sadd(_ key: String, _ members: [String], expireSeconds: Int) async throws -> Int64 {
        guard !members.isEmpty else { return 0 }
        let arguments: [RESPArgument] =
            ["EVAL", .string(Self.addAndExpireScript), "1", .string(key), .string(String(expireSeconds))]
            + members.map { .string($0) }
        return try await self.send(arguments).int ?? 0
    }

    /// `SADD KEYS[1] ARGV[2...]` then `EXPIRE KEYS[1] ARGV[1]`; keys and members are arguments,
    /// never part of the script.
    static let addAndExpireScript =
        "local added = redis.call('SADD', KEYS[1], unpack(ARGV, 2)) redis.call('EXPIRE', KEYS[1], ARGV[1]) return added"

    /// Removes members from a set; returns how many were there.
    @discardableResult
    public func srem(_ key: String, _ members: [String]) async throws -> Int64 {
        try await self.send(["SREM", .string(key)] + members.map { .string($0) }).int ?? 0
    }

    /// `SCARD key`: how many members the set has (0 when the key does not exist).
    public func scard(_ key: String) async throws -> Int64 {
        try await self.send(["SCARD", .string(key)]).int ?? 0
    }

    /// `SMEMBERS key`: every member of the set (empty when the key does not exist).
    public func smembers(_ key: String) async throws -> Set<String> {
        Set((try await self.send(["SMEMBERS", .string(key)]).elements ?? []).compactMap(\.string))
    }

    /// Publishes to a channel; returns how many subscribers received it.
    @discardableResult
    public func publish(_ channel: String, _ message: ByteBuffer) async throws -> Int64 {
        try await self.send(["PUBLISH", .string(channel), .bytes(message)]).int ?? 0
    }

    /// Publishes to a shard channel (Redis 7 `SPUBLISH`).
    @discardableResult
    public func spublish(_ channel: String, _ message: ByteBuffer) async throws -> Int64 {
        try await self.send(["SPUBLISH", .string(channel), .bytes(message)]).int ?? 0
    }
}
