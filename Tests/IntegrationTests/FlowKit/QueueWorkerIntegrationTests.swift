import AMQPClient
import FlowKit
import Foundation
import Logging
import Messaging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Testing

/// `QueueWorker`: preparation retried until it succeeds, then the queue consumed; a worker stopped
/// while preparing ends without consuming (it never declared its queue).
@Suite("QueueWorker against RabbitMQ", .serialized)
struct QueueWorkerIntegrationTests {
    struct NotYet: Error {}

    static func worker(queue: String, client: AMQPClient, prepare: @escaping @Sendable () async throws -> Void)
        -> QueueWorker
    {
        let consumer = QueueConsumer(
            configuration: .init(topology: QueueTopology(queue: queue)), client: client,
            handlers: [MessageHandler(pattern: "noop", payload: [String: String].self) { _, _ in }],
            logger: Logger(label: "test.consumer"))
        return QueueWorker(
            consumer: consumer, preparing: "test schema", prepare: prepare,
            backoff: .init(first: .milliseconds(10), limit: .milliseconds(40)), logger: Logger(label: "test.worker"))
    }

    @Test func preparesUntilItSucceedsThenConsumes() async throws {
        let queue = "test.queue-worker.\(UUID().uuidString.prefix(8))"
        let attempts = NIOLockedValueBox(0)
        let client = try MessagingHarness.makeClient()
        let worker = Self.worker(queue: queue, client: client) {
            let attempt = attempts.withLockedValue {
                $0 += 1
                return $0
            }
            if attempt < 3 { throw NotYet() }
        }
        let group = ServiceGroup(configuration: .init(services: [client, worker], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually("the worker consumes after its third preparation") { worker.isReady }
            #expect(attempts.withLockedValue { $0 } == 3)
            #expect(try await MessagingHarness.depth(of: queue) == 0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try? await MessagingHarness.deleteQueues(of: QueueTopology(queue: queue))
    }

    @Test func shutdownWhilePreparingEndsWithoutConsuming() async throws {
        let queue = "test.queue-worker.\(UUID().uuidString.prefix(8))"
        let attempts = NIOLockedValueBox(0)
        let client = try MessagingHarness.makeClient()
        let worker = Self.worker(queue: queue, client: client) {
            attempts.withLockedValue { $0 += 1 }
            throw NotYet()
        }
        let group = ServiceGroup(configuration: .init(services: [client, worker], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually("preparation retried") { attempts.withLockedValue { $0 } >= 2 }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!worker.isReady)
        // The consumer never declared its queue: a passive declare is refused.
        await #expect(throws: (any Error).self) { _ = try await MessagingHarness.depth(of: queue) }
    }
}
