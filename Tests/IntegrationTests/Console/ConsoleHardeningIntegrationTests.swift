import Foundation
import NIOConcurrencyHelpers
import NIOCore
import RedisClient
import Testing

@testable import Console

/// The review's findings that need the stack: the throughput write is one step.
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
}
