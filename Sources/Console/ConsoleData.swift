import AMQPClient
import Foundation
import GraphSync
import Logging
import Messaging
import MongoStore
import NIOConcurrencyHelpers
import RedisClient

/// What the console reads and changes. Everything comes from state the decode-async processes
/// share (RabbitMQ, Redis, MongoDB, the graph), so one console serves every instance.
public final class ConsoleData: Sendable {
    /// The graph check's clients; nil when `NEO4J_URI` or `MONGO_URI` is unset.
    public struct Graph: Sendable {
        public var source: MongoUserSource
        public var writer: UserGraphWriter

        public init(source: MongoUserSource, writer: UserGraphWriter) {
            self.source = source
            self.writer = writer
        }
    }

    /// Most dead letters read from one DLQ for the page (the oldest ones).
    public static let deadLetterReadLimit = 1_000
    /// Most body bytes held from one read of a DLQ: reading stops once the letters read exceed it.
    public static let deadLetterByteBudget = 8 << 20
    /// Most retry queues looked for per queue (`<queue>.retry.1` ...).
    static let maxRetryQueues = 20
    /// How often the retry queues beyond those known are looked for (a retry count raised while the
    /// console runs); in between, each update reads only the known ones, so a queue without retry
    /// queues costs no refused passive declare per update.
    static let retryProbeInterval: TimeInterval = 30

    let broker: AMQPClient
    public let queues: [String]
    let management: ManagementAPI?
    let redis: RedisClient?
    let mongo: MongoClient?
    let graph: Graph?
    let logger: Logger
    /// How many retry queues each queue had when last looked for beyond them, and when.
    private let retryQueues = NIOLockedValueBox<[String: (count: Int, probedAt: Date)]>([:])
    private let graphRunning = NIOLockedValueBox(false)
    /// Dead-letter operations of one queue run one at a time: a listing holds the letters it read
    /// (unacknowledged) until it is done, and a replay or delete running meanwhile would not see them.
    private let gate = KeyedGate()
    /// Each queue's letters as last read, with the dead-letter queue's depth then (see ``snapshot(of:)``).
    private let snapshots = NIOLockedValueBox<[String: LetterSnapshot]>([:])

    /// What a read of a dead-letter queue found: the letters, their previews, and the queue's depth.
    private struct LetterSnapshot: Sendable {
        var depth: UInt32
        var readAt: ContinuousClock.Instant
        var letters: [DeadLetterQueue.Letter]
        var previews: [DeadLetterView]
        /// What stopped the read before the end of the queue, if anything.
        var readLimit: ReadLimit?
    }

    /// How long a queue's letters are shown from the last read while its depth stays the same.
    static let snapshotMaxAge = Duration.seconds(30)

    public init(
        broker: AMQPClient, queues: [String], management: ManagementAPI?, redis: RedisClient?, mongo: MongoClient?,
        graph: Graph?, logger: Logger
    ) {
        self.broker = broker
        self.queues = queues
        self.management = management
        self.redis = redis
        self.mongo = mongo
        self.graph = graph
        self.logger = logger
    }

    // MARK: Overview

    public func overview(now: Date = Date()) async -> Overview {
        async let queues = self.queueStats(now: now)
        async let presence = self.presence()
        async let notifications = self.notificationStats(now: now)
        async let graph = self.graphState()
        async let throughput = self.throughput(now: now)
        return Overview(
            generatedAt: ISO8601DateFormatter().string(from: now),
            management: self.management != nil,
            queues: await queues,
            presence: await presence,
            notifications: await notifications,
            graph: await graph,
            throughput: await throughput)
    }

    func queueStats(now: Date) async -> [QueueStats] {
        await withTaskGroup(of: (Int, QueueStats).self) { group in
            for (index, queue) in self.queues.enumerated() {
                group.addTask { (index, await self.stats(of: queue, now: now)) }
            }
            var results: [(Int, QueueStats)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Depths by passive `queue.declare` (ready messages, consumers); unacknowledged messages and
    /// rates from the management API when it is configured.
    func stats(of queue: String, now: Date = Date()) async -> QueueStats {
        let topology = QueueTopology(queue: queue)
        var stats = QueueStats(queue: queue)
        do {
            let main = try await self.depth(queue)
            stats.ready = main?.messages
            stats.consumers = main?.consumers
            stats.exists = main != nil
            stats.deadLetters = try await self.depth(topology.deadLetterQueue).map { Int($0.messages) }
            let known = self.retryQueues.withLockedValue { $0[queue] }
            let probing = known.map { now.timeIntervalSince($0.probedAt) >= Self.retryProbeInterval } ?? true
            var retries: [RetryQueueStats] = []
            for attempt in 1...Self.maxRetryQueues {
                if let known, !probing, attempt > known.count { break }
                guard let depth = try await self.depth(topology.retryQueue(attempt: attempt)) else { break }
                retries.append(RetryQueueStats(name: topology.retryQueue(attempt: attempt), depth: Int(depth.messages)))
            }
            let probedAt = probing ? now : known?.probedAt ?? now
            self.retryQueues.withLockedValue { $0[queue] = (retries.count, probedAt) }
            stats.retryQueues = retries
        } catch {
            stats.error = "RabbitMQ: \(error)"
        }
        if let management = self.management, stats.exists {
            do {
                let figures = try await management.queue(queue)
                stats.unacknowledged = figures.unacknowledged
                stats.publishRate = figures.publishRate ?? 0
                stats.deliverRate = figures.deliverRate ?? 0
            } catch {
                stats.managementError = "\(error)"
            }
        }
        return stats
    }

    /// nil when the queue does not exist.
    private func depth(_ queue: String) async throws -> (messages: Int, consumers: Int)? {
        do {
            let result = try await self.broker.withChannel { channel in
                try await channel.queueDeclare(queue, passive: true)
            }
            return (Int(result.messageCount), Int(result.consumerCount))
        } catch let error as AMQPClientError where error.replyCode == 404 {
            return nil
        }
    }

    /// Users and sockets online, from the presence sets `user_sockets:<id>` every notification
    /// instance writes.
    func presence() async -> PresenceStats {
        guard let redis = self.redis else { return PresenceStats(error: "no Redis configured (REDIS_URI)") }
        do {
            var cursor = "0"
            var users = 0
            var sockets = 0
            var scanned = 0
            repeat {
                let reply = try await redis.send(["SCAN", .string(cursor), "MATCH", "user_sockets:*", "COUNT", "1000"])
                guard case .array(let parts?) = reply, parts.count == 2, let next = parts[0].string,
                    case .array(let keys?) = parts[1]
                else { throw RedisError(.protocolViolation, "unexpected SCAN reply") }
                cursor = next
                // One SCARD per key, all of a page sent at once: the client pipelines them on its
                // connection, so a page costs one round trip, not one per user.
                let counts = try await withThrowingTaskGroup(of: Int64.self) { group in
                    for key in keys.compactMap(\.string) {
                        group.addTask { try await redis.scard(key) }
                    }
                    return try await group.reduce(into: [Int64]()) { $0.append($1) }
                }
                for count in counts where count > 0 {
                    users += 1
                    sockets += Int(count)
                }
                scanned += keys.count
            } while cursor != "0" && scanned < 100_000
            return PresenceStats(users: users, sockets: sockets)
        } catch {
            return PresenceStats(error: "Redis: \(error)")
        }
    }

    func notificationStats(now: Date) async -> NotificationStats {
        guard let mongo = self.mongo else { return NotificationStats(error: "no MongoDB configured (MONGO_URI)") }
        let since = BSON.date(now.addingTimeInterval(-3600))
        do {
            let collection = try mongo.collection("notifications")
            async let stored = collection.countDocuments(["createdAt": .document(["$gte": since])])
            async let delivered = collection.countDocuments(["delivered_at": .document(["$gte": since])])
            return NotificationStats(storedLastHour: Int(try await stored), deliveredLastHour: Int(try await delivered))
        } catch {
            return NotificationStats(error: "MongoDB: \(error)")
        }
    }

    func throughput(now: Date) async -> [ThroughputSeries] {
        guard let redis = self.redis else { return [] }
        var all: [ThroughputSeries] = []
        for queue in self.queues {
            if let series = try? await ThroughputRecorder.series(queue: queue, redis: redis, now: now) {
                all.append(series)
            }
        }
        return all
    }

    // MARK: Dead letters

    /// Throws ``ConsoleError/unknownQueue`` for a queue the console does not show.
    func deadLetters(of queue: String) throws -> DeadLetterQueue {
        guard self.queues.contains(queue) else { throw ConsoleError.unknownQueue(queue) }
        return DeadLetterQueue(client: self.broker, topology: QueueTopology(queue: queue))
    }

    /// A page of the letters read; `total` is the dead-letter queue's depth, which can be more than
    /// the letters read (``deadLetterReadLimit``, ``deadLetterByteBudget``: `read` and `read_limit`
    /// say so).
    public func deadLetterPage(queue: String, page: Int, pageSize: Int) async throws -> Page<DeadLetterView> {
        let snapshot = try await self.snapshot(of: queue)
        return Page(
            oldestFirst: snapshot.previews, page: page, pageSize: pageSize, total: Int(snapshot.depth),
            readLimit: snapshot.readLimit)
    }

    public func deadLetter(queue: String, id: String) async throws -> DeadLetterView? {
        try await self.snapshot(of: queue).letters.first { $0.id == id }.map { DeadLetterView($0, full: true) }
    }

    /// The queue's letters: read again (taken and put back: AMQP has no browse) only when the
    /// dead-letter queue's depth changed since the last read, an action changed it, or the last read
    /// is older than ``snapshotMaxAge``. The page asks every 2 s; reading up to 1,000 letters each
    /// time would hold them unacked most of the time (a `dlq replay` from a shell would find none)
    /// and pretty-print every body again.
    private func snapshot(of queue: String) async throws -> LetterSnapshot {
        let dlq = try self.deadLetters(of: queue)
        return try await self.gate.run(queue) {
            let depth: UInt32
            do {
                depth = try await dlq.depth()
            } catch let error as AMQPClientError where error.replyCode == 404 {
                depth = 0
            }
            let now = ContinuousClock.now
            if let cached = self.snapshots.withLockedValue({ $0[queue] }), cached.depth == depth,
                now - cached.readAt < Self.snapshotMaxAge
            {
                return cached
            }
            let (letters, readLimit) = try await self.readLetters(queue)
            let snapshot = LetterSnapshot(
                depth: depth, readAt: now, letters: letters, previews: letters.map { DeadLetterView($0) },
                readLimit: readLimit)
            self.snapshots.withLockedValue { $0[queue] = snapshot }
            return snapshot
        }
    }

    /// An action changed the queue's letters: the next page reads them again.
    private func forgetSnapshot(of queue: String) {
        self.snapshots.withLockedValue { $0[queue] = nil }
    }

    private func readLetters(_ queue: String) async throws -> ([DeadLetterQueue.Letter], ReadLimit?) {
        let dlq = try self.deadLetters(of: queue)
        do {
            let (letters, reachedBudget) = try await dlq.list(
                limit: Self.deadLetterReadLimit, byteBudget: Self.deadLetterByteBudget)
            if reachedBudget { return (letters, .bytes) }
            return (letters, letters.count >= Self.deadLetterReadLimit ? .letters : nil)
        } catch let error as AMQPClientError where error.replyCode == 404 {
            return ([], nil)
        }
    }

    /// `dlq replay` of the given letters (all when `ids` is nil).
    public func replay(queue: String, ids: Set<String>?) async throws -> Int {
        let dlq = try self.deadLetters(of: queue)
        defer { self.forgetSnapshot(of: queue) }
        return try await self.gate.run(queue) { try await dlq.replay(messageIDs: ids) }
    }

    public func delete(queue: String, ids: Set<String>) async throws -> Int {
        let dlq = try self.deadLetters(of: queue)
        defer { self.forgetSnapshot(of: queue) }
        return try await self.gate.run(queue) { try await dlq.delete(messageIDs: ids) }
    }

    /// `dlq purge`.
    public func purge(queue: String) async throws -> Int {
        let dlq = try self.deadLetters(of: queue)
        defer { self.forgetSnapshot(of: queue) }
        return Int(try await self.gate.run(queue) { try await dlq.purge() })
    }

    // MARK: Graph

    func graphState() async -> GraphState {
        var state = GraphState(available: self.graph != nil, running: self.graphRunning.withLockedValue { $0 })
        if let mongo = self.mongo {
            do {
                state.lastCheck = try await SyncCheckRecord.load(from: mongo).map(GraphState.Check.init)
            } catch {
                state.error = "MongoDB: \(error)"
            }
        }
        if self.graph == nil {
            state.error = state.error ?? "the graph check needs NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD and MONGO_URI"
        }
        return state
    }

    /// `sync check` (and with `fix`, `sync check --fix`): compares, records the result, emits the
    /// repairs. One at a time per console.
    public func runCheck(fix: Bool) async throws -> GraphState.Check {
        guard let graph = self.graph, let mongo = self.mongo else { throw ConsoleError.graphUnavailable }
        let started = self.graphRunning.withLockedValue { running -> Bool in
            defer { running = true }
            return !running
        }
        guard started else { throw ConsoleError.checkRunning }
        defer { self.graphRunning.withLockedValue { $0 = false } }
        try await graph.writer.ensureSchema()
        let check = ConsistencyCheck(source: graph.source, writer: graph.writer)
        var checked = 0
        let differences = try await check.run { checked = $0 }
        var emitted: Int?
        if fix, !differences.isEmpty {
            let repairs = try await check.repairMessages(for: differences)
            emitted = try await ConsistencyCheck.emitRepairs(repairs, client: self.broker)
        }
        let record = SyncCheckRecord(
            checkedAt: Date(), checkedUsers: checked, differences: differences, repairsEmitted: emitted,
            ranBy: "console")
        try await record.save(in: mongo)
        return GraphState.Check(record)
    }
}

public enum ConsoleError: Error, Equatable, CustomStringConvertible {
    case unknownQueue(String)
    case graphUnavailable
    case checkRunning

    public var description: String {
        switch self {
        case .unknownQueue(let queue): "the console does not show a queue named \(queue)"
        case .graphUnavailable: "the graph check is not configured (NEO4J_URI and MONGO_URI)"
        case .checkRunning: "a check is already running"
        }
    }
}

/// Runs bodies with the same key one after the other, in arrival order.
actor KeyedGate {
    private var busy: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func run<Result: Sendable>(_ key: String, _ body: @Sendable () async throws -> Result) async throws -> Result {
        await self.enter(key)
        defer { self.leave(key) }
        return try await body()
    }

    private func enter(_ key: String) async {
        guard self.busy.contains(key) else {
            self.busy.insert(key)
            return
        }
        await withCheckedContinuation { self.waiting[key, default: []].append($0) }
    }

    private func leave(_ key: String) {
        if var queue = self.waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            self.waiting[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            self.busy.remove(key)
        }
    }
}
