import AMQPClient
import AMQPProtocol
import CoreMetrics
import Foundation
import Logging
import Messaging
import NIOCore
import RedisClient
import ServiceLifecycle
import Testing

@testable import Console

/// The console's reads and operations against the stack's RabbitMQ and Redis, on queues and keys
/// of the test's own: the same `DeadLetterQueue` code as `decode-async dlq`, newest first, paged.
@Suite struct ConsoleDataIntegrationTests {
    static var redisURI: String { ProcessInfo.processInfo.environment["REDIS_URI"] ?? "redis://127.0.0.1:6379" }

    static func data(_ client: AMQPClient, queue: String) -> ConsoleData {
        ConsoleData(
            broker: client, queues: [queue], management: nil, redis: nil, mongo: nil, graph: nil,
            logger: Logger(label: "test.console"))
    }

    @Test func deadLettersArePagedNewestFirstAndDeletedReplayedAndPurged() async throws {
        try await BrokerLock.shared {
            let queue = TestEnvironment.uniqueName("test.console")
            let handler = MessageHandler(pattern: "always_fails", payload: [String: Int].self) { payload, _ in
                throw MessageHandlingError.permanent("refused \(payload["n"] ?? -1)")
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { harness in
                for n in 1...3 {
                    try await harness.publishRaw(
                        #"{"pattern":"always_fails","data":{"n":\#(n)}}"#,
                        properties: AMQPBasicProperties(messageID: "m\(n)"))
                    // One at a time, so that the DLQ's order is the publishing order.
                    try await eventually("letter \(n) is dead-lettered") {
                        try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == UInt32(n)
                    }
                }
                try await harness.publishRaw(#"{"pattern":"always_fails","data":{"n":4}}"#)
                try await eventually("the letter without message_id is dead-lettered") {
                    try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 4
                }
                let console = Self.data(harness.client, queue: queue)

                let stats = try #require(await console.overview().queues.first)
                #expect(stats.queue == queue)
                #expect(stats.exists)
                #expect(stats.consumers == 1)
                #expect(stats.deadLetters == 4)
                #expect(stats.retryQueues.map(\.name) == ["\(queue).retry.1", "\(queue).retry.2"])
                #expect(stats.unacknowledged == nil)

                let first = try await console.deadLetterPage(queue: queue, page: 1, pageSize: 3)
                #expect(first.total == 4)
                #expect(first.pages == 2)
                let anonymous = try #require(first.items.first)
                #expect(anonymous.messageID == nil)
                #expect(anonymous.id.hasPrefix("sha256:"))
                #expect(first.items.dropFirst().map(\.id) == ["m3", "m2"])
                #expect(first.items[1].reason == "refused 3")
                #expect(first.items[1].pattern == "always_fails")
                #expect(first.items[1].body.contains("\"n\" : 3"))
                let second = try await console.deadLetterPage(queue: queue, page: 2, pageSize: 3)
                #expect(second.items.map(\.id) == ["m1"])
                // Reading does not consume.
                #expect(try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 4)

                #expect(try await console.delete(queue: queue, ids: ["m2", anonymous.id]) == 2)
                let afterDelete = try await console.deadLetterPage(queue: queue, page: 1, pageSize: 10)
                #expect(afterDelete.items.map(\.id) == ["m3", "m1"])

                // A replayed letter that fails again comes back with its new reason.
                #expect(try await console.replay(queue: queue, ids: ["m1"]) == 1)
                try await eventually("m1 is dead-lettered again, now the newest") {
                    try await console.deadLetterPage(queue: queue, page: 1, pageSize: 10).items.map(\.id) == [
                        "m1", "m3",
                    ]
                }
                let again = try #require(try await console.deadLetter(queue: queue, id: "m1"))
                #expect(again.reason == "refused 1")
                #expect(again.replayCount == 1)
                #expect(try await console.deadLetter(queue: queue, id: "m3")?.replayCount == 0)

                #expect(try await console.purge(queue: queue) == 2)
                #expect(try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 0)
                await #expect(throws: ConsoleError.unknownQueue("email_queue")) {
                    try await console.purge(queue: "email_queue")
                }
            }
        }
    }

    @Test func throughputCountsAddUpInRedisAcrossRecorders() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(uri: Self.redisURI))
        defer { redis.shutdown() }
        let queue = TestEnvironment.uniqueName("test.throughput")
        let factories = [ThroughputRecorder(), ThroughputRecorder()]
        // Two "instances" count the same queue.
        for (index, recorder) in factories.enumerated() {
            let dimensions = [("queue_name", queue), ("message_type", "t")]
            recorder.metricsFactory.makeCounter(label: "queue.message.consumed", dimensions: dimensions)
                .increment(by: Int64(index + 2))
            recorder.metricsFactory.makeCounter(label: "queue.message.dead_lettered", dimensions: dimensions)
                .increment(by: 1)
            await recorder.flush(to: redis)
        }
        let series = try await ThroughputRecorder.series(queue: queue, redis: redis)
        #expect(series.processed.count == ThroughputRecorder.bucketCount)
        // Both flushes may straddle a bucket boundary: the sums are what is certain.
        #expect(series.processed.reduce(0, +) == 5)
        #expect(series.deadLettered.reduce(0, +) == 2)
        let keys = try await redis.send(["KEYS", .string("decode-async:throughput:\(queue):*")])
        if case .array(let names?) = keys {
            _ = try await redis.del(names.compactMap(\.string))
        }
    }

    /// Online users and sockets, counted from the presence sets in a Redis database of the test's
    /// own (so the figures are exact while other presence comes and goes in database 0).
    @Test func presenceCountsUsersWithSocketsAndTheirSockets() async throws {
        let base = Self.redisURI.replacingOccurrences(of: #"/\d+$"#, with: "", options: .regularExpression)
        let redis = RedisClient(configuration: try RedisConfiguration(uri: base + "/11"))
        defer { redis.shutdown() }
        if case .array(let stale?) = try await redis.send(["KEYS", "user_sockets:*"]), !stale.isEmpty {
            _ = try await redis.del(stale.compactMap(\.string))
        }
        let users = (1...3).map { _ in TestEnvironment.uniqueName("console-user") }
        for (index, user) in users.enumerated() {
            try await redis.sadd("user_sockets:\(user)", (0...index).map { "instance-a:socket-\($0)" })
        }
        // A key that is not a presence set, and an empty user (no key at all once its last socket left).
        try await redis.sadd("other:\(users[0])", ["x"])
        let client = try MessagingHarness.makeClient()
        let console = ConsoleData(
            broker: client, queues: [], management: nil, redis: redis, mongo: nil, graph: nil,
            logger: Logger(label: "test.console"))
        let stats = await console.presence()
        _ = try await redis.del(users.map { "user_sockets:\($0)" } + ["other:\(users[0])"])
        #expect(stats.error == nil)
        #expect(stats.users == 3)
        #expect(stats.sockets == 6)
    }

    /// A retry queue declared after the console first looked (a flow's retry count raised) shows
    /// once the console looks beyond the known ones again (every `retryProbeInterval`), not on every
    /// update in between.
    @Test func aRetryQueueDeclaredLaterShows() async throws {
        let queue = TestEnvironment.uniqueName("test.console-retries")
        let connection = try await AMQPConnection.connect(
            configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI))
        let channel = try await connection.openChannel()
        try await channel.queueDeclare(queue, durable: false, autoDelete: false)
        let client = try MessagingHarness.makeClient()
        let console = Self.data(client, queue: queue)
        let group = ServiceGroup(configuration: .init(services: [client], logger: Logger(label: "test.group")))
        let start = Date()
        let (before, between, after) = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let before = await console.stats(of: queue, now: start)
            try await channel.queueDeclare("\(queue).retry.1", durable: false, autoDelete: false)
            let between = await console.stats(of: queue, now: start.addingTimeInterval(1))
            let after = await console.stats(
                of: queue, now: start.addingTimeInterval(ConsoleData.retryProbeInterval))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return (before, between, after)
        }
        for name in [queue, "\(queue).retry.1"] {
            try await channel.queueDelete(name)
        }
        await connection.close()
        #expect(before.exists)
        #expect(before.retryQueues.isEmpty)
        #expect(between.retryQueues.isEmpty)
        #expect(after.retryQueues.map(\.name) == ["\(queue).retry.1"])
    }
}
