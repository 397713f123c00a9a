import NIOConcurrencyHelpers
import RedisClient

/// Remembers which requests were sent, so a redelivered request is not mailed twice within the
/// idempotency window.
public protocol SentEmailLedger: Sendable {
    /// Claims `key` for sending.
    func claim(_ key: String) async throws -> SentEmailClaim
    /// The mail went out: keep the key for the window.
    func markSent(_ key: String) async throws
    /// The send failed: free the key so that a retry can send.
    func release(_ key: String) async throws
}

/// What ``SentEmailLedger/claim(_:)`` found.
public enum SentEmailClaim: Sendable, Equatable {
    /// Nobody sent or is sending this request: go ahead.
    case claimed
    /// Already sent within the window: acknowledge without sending.
    case alreadySent
    /// Another delivery of the same request is being sent right now.
    case inProgress
}

/// The ledger in Redis, shared by every worker instance: `SET key sending NX EX <claim TTL>`, then
/// `SET key sent EX <window>` after the send, `DEL key` after a failure.
public struct RedisSentEmailLedger: SentEmailLedger {
    let redis: RedisClient
    let window: Duration
    let claimTTL: Duration
    let prefix: String

    /// - Parameters:
    ///   - window: how long a sent request is remembered.
    ///   - claimTTL: how long a claim outlives a worker that died while sending.
    public init(
        redis: RedisClient, window: Duration, claimTTL: Duration = .seconds(180),
        prefix: String = "decode-async:email:sent:"
    ) {
        self.redis = redis
        self.window = window
        self.claimTTL = claimTTL
        self.prefix = prefix
    }

    public func claim(_ key: String) async throws -> SentEmailClaim {
        let stored = try await self.redis.send([
            "SET", .string(self.prefix + key), "sending", "NX", "EX", .string(String(Self.seconds(self.claimTTL))),
        ])
        if stored.string == "OK" {
            return .claimed
        }
        return try await self.redis.get(self.prefix + key) == "sent" ? .alreadySent : .inProgress
    }

    public func markSent(_ key: String) async throws {
        try await self.redis.set(self.prefix + key, "sent", expireSeconds: Self.seconds(self.window))
    }

    public func release(_ key: String) async throws {
        try await self.redis.del([self.prefix + key])
    }

    static func seconds(_ duration: Duration) -> Int {
        max(1, Int(duration.components.seconds))
    }
}

/// The ledger in this process's memory (one worker instance, or no Redis configured): bounded,
/// entries expire after the window.
public final class InMemorySentEmailLedger: SentEmailLedger {
    private enum Entry {
        case sending
        case sent(until: ContinuousClock.Instant)
    }

    private let window: Duration
    private let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let entries = NIOLockedValueBox([String: Entry]())

    public convenience init(window: Duration, capacity: Int = 100_000) {
        self.init(window: window, capacity: capacity, now: { .now })
    }

    /// With the time read from `now` (tests move it by hand).
    init(window: Duration, capacity: Int = 100_000, now: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.window = window
        self.capacity = max(1, capacity)
        self.now = now
    }

    public func claim(_ key: String) async throws -> SentEmailClaim {
        let now = self.now()
        return self.entries.withLockedValue { entries in
            switch entries[key] {
            case .sending:
                return .inProgress
            case .sent(let until) where until > now:
                return .alreadySent
            case .sent, nil:
                if entries.count >= self.capacity {
                    entries = entries.filter { _, entry in
                        if case .sent(let until) = entry { return until > now }
                        return true
                    }
                }
                entries[key] = .sending
                return .claimed
            }
        }
    }

    public func markSent(_ key: String) async throws {
        let until = self.now() + self.window
        self.entries.withLockedValue { $0[key] = .sent(until: until) }
    }

    public func release(_ key: String) async throws {
        _ = self.entries.withLockedValue { $0.removeValue(forKey: key) }
    }
}
