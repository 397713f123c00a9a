import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import ServiceLifecycle

/// Per-flow throughput for the console's charts, from each process's own metrics and shared through
/// Redis so that one console sees every instance.
///
/// Every serving process that knows a Redis (`REDIS_URI`, or the notification service's Redis)
/// taps two of its metrics, `queue.message.consumed` (processed) and `queue.message.dead_lettered`,
/// by queue, into 10-second buckets, and every 10 s adds them to Redis (`INCRBY` on
/// `decode-async:throughput:<queue>:<kind>:<bucket start>` and `EXPIRE` of 20 minutes, in one
/// `EVAL`, see ``addScript``). The instances' counts
/// add up in the same keys; the console reads the last 90 buckets (15 minutes) with one `MGET` per
/// queue and kind.
public final class ThroughputRecorder: Sendable {
    public static let bucketSeconds: Int64 = 10
    /// 15 minutes.
    public static let bucketCount = 90
    static let keyLifetimeSeconds = 1_200

    public enum Kind: String, Sendable, CaseIterable {
        case processed
        case deadLettered = "dead_lettered"

        /// The metric counted as this kind.
        var metricLabel: String {
            switch self {
            case .processed: "queue.message.consumed"
            case .deadLettered: "queue.message.dead_lettered"
            }
        }
    }

    struct Key: Hashable {
        var queue: String
        var kind: Kind
        var bucket: Int64
    }

    private let pending = NIOLockedValueBox<[Key: Int64]>([:])

    public init() {}

    /// The bucket (its start, in Unix seconds) holding `date`.
    static func bucket(of date: Date) -> Int64 {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return seconds - seconds % bucketSeconds
    }

    static func redisKey(queue: String, kind: Kind, bucket: Int64) -> String {
        "decode-async:throughput:\(queue):\(kind.rawValue):\(bucket)"
    }

    func record(queue: String, kind: Kind, count: Int64, at date: Date = Date()) {
        guard count > 0 else { return }
        let key = Key(queue: queue, kind: kind, bucket: Self.bucket(of: date))
        self.pending.withLockedValue { $0[key, default: 0] += count }
    }

    /// Takes the counts not yet written.
    func drain() -> [Key: Int64] {
        self.pending.withLockedValue { pending in
            defer { pending = [:] }
            return pending
        }
    }

    /// Adds a count and sets the key's lifetime in one step: Redis runs a script without running
    /// anything else meanwhile, and one command cannot be cut in two by a lost connection or a
    /// stopped process (two commands, `INCRBY` then `EXPIRE`, could leave a key that never
    /// expires, and a retry after a failed `EXPIRE` would count twice).
    static let addScript = """
        local total = redis.call('INCRBY', KEYS[1], ARGV[1])
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        return total
        """

    /// The one command that adds `count` to a bucket's key.
    static func addCommand(key name: String, count: Int64) -> [RESPArgument] {
        [
            "EVAL", .string(Self.addScript), "1", .string(name), .string(String(count)),
            .string(String(keyLifetimeSeconds)),
        ]
    }

    /// Adds the pending counts to Redis; counts that could not be written are kept for the next try.
    public func flush(to redis: RedisClient) async {
        await self.flush(to: RedisCommandSender(redis: redis))
    }

    func flush(to redis: some ThroughputRedis) async {
        for (key, count) in self.drain() {
            do {
                let name = Self.redisKey(queue: key.queue, kind: key.kind, bucket: key.bucket)
                _ = try await redis.send(Self.addCommand(key: name, count: count))
            } catch {
                self.pending.withLockedValue { $0[key, default: 0] += count }
            }
        }
    }

    /// A metrics factory to add to the process's multiplex: it counts the two metrics and ignores
    /// every other one.
    public var metricsFactory: any MetricsFactory { ThroughputMetricsFactory(recorder: self) }

    /// The `Service` that writes to Redis every 10 s and once more at shutdown.
    public func flusher(redis: RedisClient) -> some Service { ThroughputFlusher(recorder: self, redis: redis) }

    // MARK: Reading

    /// The keys of the last ``bucketCount`` complete-or-current buckets of one queue and kind, oldest first.
    static func keys(queue: String, kind: Kind, now: Date) -> (buckets: [Int64], keys: [String]) {
        let last = Self.bucket(of: now)
        let buckets = (0..<Int64(bucketCount)).reversed().map { last - $0 * bucketSeconds }
        return (buckets, buckets.map { Self.redisKey(queue: queue, kind: kind, bucket: $0) })
    }

    /// One queue's series for the chart, read from Redis.
    public static func series(queue: String, redis: RedisClient, now: Date = Date()) async throws -> ThroughputSeries {
        var series = ThroughputSeries(
            queue: queue, bucketSeconds: Int(bucketSeconds), start: 0, processed: [], deadLettered: [])
        for kind in Kind.allCases {
            let (buckets, keys) = Self.keys(queue: queue, kind: kind, now: now)
            series.start = buckets.first ?? 0
            let reply = try await redis.send([.string("MGET")] + keys.map { .string($0) })
            let counts = Self.counts(from: reply, expected: keys.count)
            switch kind {
            case .processed: series.processed = counts
            case .deadLettered: series.deadLettered = counts
            }
        }
        return series
    }

    /// An `MGET` reply as counts (missing keys: 0).
    static func counts(from reply: RESPValue, expected: Int) -> [Int64] {
        guard case .array(let values?) = reply, values.count == expected else {
            return Array(repeating: 0, count: expected)
        }
        return values.map { value in
            switch value {
            case .bulkString(let buffer?): Int64(String(buffer: buffer)) ?? 0
            case .integer(let number): number
            default: 0
            }
        }
    }
}

/// Where the recorder writes: Redis, or in tests a wrapper that fails some commands.
protocol ThroughputRedis: Sendable {
    func send(_ arguments: [RESPArgument]) async throws -> RESPValue
}

struct RedisCommandSender: ThroughputRedis {
    let redis: RedisClient

    func send(_ arguments: [RESPArgument]) async throws -> RESPValue {
        try await self.redis.send(arguments)
    }
}

/// Counts per 10 s of one queue, oldest first.
public struct ThroughputSeries: Codable, Sendable, Equatable {
    public var queue: String
    public var bucketSeconds: Int
    /// The first bucket's start, Unix seconds.
    public var start: Int64
    public var processed: [Int64]
    public var deadLettered: [Int64]

    enum CodingKeys: String, CodingKey {
        case queue
        case bucketSeconds = "bucket_seconds"
        case start, processed
        case deadLettered = "dead_lettered"
    }
}

struct ThroughputFlusher: Service {
    let recorder: ThroughputRecorder
    let redis: RedisClient

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .seconds(ThroughputRecorder.bucketSeconds))
            }
            await self.recorder.flush(to: self.redis)
        }
    }
}

/// Hands out counting handlers for the two metrics and no-op handlers for the rest.
struct ThroughputMetricsFactory: MetricsFactory {
    let recorder: ThroughputRecorder

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let kind = ThroughputRecorder.Kind.allCases.first(where: { $0.metricLabel == label }),
            let queue = dimensions.first(where: { $0.0 == "queue_name" })?.1
        else { return NOOPMetricsHandler.instance }
        return ThroughputCounter(recorder: self.recorder, queue: queue, kind: kind)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        NOOPMetricsHandler.instance
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        NOOPMetricsHandler.instance
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        NOOPMetricsHandler.instance
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

final class ThroughputCounter: CounterHandler, Sendable {
    let recorder: ThroughputRecorder
    let queue: String
    let kind: ThroughputRecorder.Kind

    init(recorder: ThroughputRecorder, queue: String, kind: ThroughputRecorder.Kind) {
        self.recorder = recorder
        self.queue = queue
        self.kind = kind
    }

    func increment(by amount: Int64) {
        self.recorder.record(queue: self.queue, kind: self.kind, count: amount)
    }

    func reset() {}
}
