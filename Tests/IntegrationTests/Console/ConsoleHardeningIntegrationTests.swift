import AMQPClient
import AMQPProtocol
import Foundation
import Logging
import Messaging
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import ServiceLifecycle
import Testing

@testable import Console

/// The review's findings that need the stack: the throughput write is one step, and a dead-letter
/// read stops at its byte budget.
@Suite struct ConsoleHardeningIntegrationTests {
    /// Redis, with every second command of the test failing before it is sent: what a connection
    /// lost between two commands (or a process stopped between them) looks like.
    struct CutEverySecondCommand: ThroughputRedis {
        let redis: RedisClient
        let sent = NIOLockedValueBox(0)

        func send(_ arguments: [RESPArgument]) async throws -> RESPValue {
            let number = self.sent.withLockedValue { count -> Int in
                count += 1
                return count
            }
            guard number % 2 == 1 else { throw RedisError(.connectionClosed, "cut by the test") }
            return try await self.redis.send(arguments)
        }
    }

    /// Each count is added together with its key's lifetime: a cut between commands can neither
    /// leave a key that never expires nor make the retry count twice.
    @Test func aBucketsCountAndLifetimeAreWrittenInOneStep() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(uri: ConsoleDataIntegrationTests.redisURI))
        defer { redis.shutdown() }
        let queue = TestEnvironment.uniqueName("test.throughput-atomic")
        let recorder = ThroughputRecorder()
        let at = Date()
        recorder.record(queue: queue, kind: .processed, count: 7, at: at)
        let key = ThroughputRecorder.redisKey(
            queue: queue, kind: .processed, bucket: ThroughputRecorder.bucket(of: at))
        defer { Task { _ = try? await redis.del([key]) } }
        await recorder.flush(to: CutEverySecondCommand(redis: redis))
        // Whatever the cut left pending goes out on the next, uncut, flush.
        await recorder.flush(to: redis)
        let count = try await redis.send(["GET", .string(key)]).string
        let ttl = try await redis.send(["TTL", .string(key)])
        _ = try await redis.del([key])
        #expect(count == "7")
        guard case .integer(let seconds) = ttl else {
            Issue.record("TTL answered \(ttl)")
            return
        }
        #expect((1...Int64(ThroughputRecorder.keyLifetimeSeconds)).contains(seconds), "TTL \(seconds)")
    }

    /// Letters are read until their bodies exceed the byte budget; the page then says the queue's
    /// real depth and why it shows fewer.
    @Test func aDeadLetterReadStopsAtItsByteBudget() async throws {
        let queue = TestEnvironment.uniqueName("test.console-budget")
        let dlq = "\(queue).dlq"
        let connection = try await AMQPConnection.connect(
            configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI))
        let channel = try await connection.openChannel()
        try await channel.queueDeclare(dlq, durable: false, autoDelete: false)
        for n in 1...4 {
            try await channel.publish(
                ByteBuffer(repeating: UInt8(ascii: "a"), count: 100), routingKey: dlq,
                properties: AMQPBasicProperties(messageID: "budget-\(n)"))
        }
        try await eventually("four letters in \(dlq)") { try await MessagingHarness.depth(of: dlq) == 4 }
        let client = try MessagingHarness.makeClient()
        let letters = DeadLetterQueue(client: client, topology: QueueTopology(queue: queue))
        let result: Result<[(ids: [String], reached: Bool)], any Error> = await Self.withClient(client) {
            var reads: [(ids: [String], reached: Bool)] = []
            // 150 bytes: the second letter crosses it, and is the last read.
            let stopped = try await letters.list(limit: 10, byteBudget: 150)
            reads.append((stopped.letters.map(\.id), stopped.reachedByteBudget))
            let whole = try await letters.list(limit: 10, byteBudget: 1_000)
            reads.append((whole.letters.map(\.id), whole.reachedByteBudget))
            let counted = try await letters.list(limit: 3, byteBudget: 1_000)
            reads.append((counted.letters.map(\.id), counted.reachedByteBudget))
            return reads
        }
        let depthAfter = try await MessagingHarness.depth(of: dlq)
        try await channel.queueDelete(dlq)
        await connection.close()
        let reads = try result.get()
        #expect(reads[0].ids == ["budget-1", "budget-2"])
        #expect(reads[0].reached)
        #expect(reads[1].ids == ["budget-1", "budget-2", "budget-3", "budget-4"])
        #expect(!reads[1].reached)
        #expect(reads[2].ids.count == 3)
        #expect(!reads[2].reached)
        // Reading puts every letter back.
        #expect(depthAfter == 4)
    }

    static func withClient<Value: Sendable>(
        _ client: AMQPClient, _ body: @Sendable () async throws -> Value
    ) async -> Result<Value, any Error> {
        let group = ServiceGroup(configuration: .init(services: [client], logger: Logger(label: "test.group")))
        return await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try? await group.run() }
            let result: Result<Value, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            await tasks.waitForAll()
            return result
        }
    }
}
