import AMQPClient
import AMQPProtocol
import Logging
import Messaging
import MetricsTestKit
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// Retry and dead-letter copies the broker does not take (their queues deleted under a running
/// consumer, or refusing messages): the original is never acked away.
@Suite("Queue consumer when retry and dead-letter copies are returned")
struct QueueConsumerReturnTests {
    static let invalid = [
        #"{"pattern":"unknown_pattern","data":{}}"#,
        "not json at all",
    ]

    @Test func deletedRetryAndDeadLetterQueuesAreDeclaredAgainAndNothingIsAckedAway() async throws {
        let metrics = TestMetricsBackend.metrics
        try await BrokerLock.shared {
            let queue = TestEnvironment.uniqueName("test.returns")
            let logs = RecordedLogs()
            let handler = MessageHandler(pattern: "create_notification", payload: NotificationPayload.self) { _, _ in
                throw MessageHandlingError.transient("database unavailable")
            }
            let retry = RetryPolicy(baseDelay: .milliseconds(100), factor: 2, maxRetries: 3, jitter: 0)
            let total = 15
            try await Self.run(queue: queue, retry: retry, handlers: [handler], logs: logs) { harness in
                // An operator's cleanup while the consumer runs.
                try await Self.deleteQueues(harness.topology.steps.dropFirst())
                // NestJS-style (no properties): 10 invalid messages to dead-letter, 5 failing ones to retry.
                for index in 0..<10 {
                    try await harness.publishRaw(Self.invalid[index % 2])
                }
                let failing =
                    #"{"pattern":"create_notification","data":{"user_id":"u","type":"t","title":"a","message":"m"}}"#
                for _ in 0..<5 {
                    try await harness.publishRaw(failing)
                }
                // The DLQ is missing until the consumer declares it again.
                try await eventually("every message is dead-lettered", timeout: .seconds(30)) {
                    (try? await Self.depth(of: harness.topology.deadLetterQueue)) == UInt32(total)
                }
            } afterStop: { harness in
                let held = try await Self.held(by: harness.topology)
                let deadLetters = try await Self.depth(of: harness.topology.deadLetterQueue)
                #expect(held == total)
                #expect(deadLetters == UInt32(total))
            }
            #expect(logs.count(of: "message dead-lettered") == total)
            #expect(Self.total(metrics, "queue.message.requeued", queue: queue) == 0)
        }
    }

    @Test func copyRefusedEvenAfterDeclaringAgainReturnsTheMessageToItsQueue() async throws {
        let metrics = TestMetricsBackend.metrics
        try await BrokerLock.shared {
            let queue = TestEnvironment.uniqueName("test.requeue")
            let logs = RecordedLogs()
            let count = 5
            try await Self.run(queue: queue, retry: RetryPolicy(maxRetries: 0), handlers: [], logs: logs) { harness in
                // The DLQ replaced by one that refuses every message and that our declaration conflicts with.
                let deadLetterQueue = harness.topology.deadLetterQueue
                try await Self.deleteQueues([.queue(deadLetterQueue)])
                _ = try await Self.withChannel { channel in
                    try await channel.queueDeclare(
                        deadLetterQueue,
                        arguments: ["x-max-length": .int32(0), "x-overflow": .longString("reject-publish")]
                    )
                }
                for index in 0..<count {
                    try await harness.publishRaw(Self.invalid[index % 2])
                }
                try await eventually("every message was returned to its queue at least once") {
                    Self.total(metrics, "queue.message.requeued", queue: queue, reason: "dead_letter_failed") >= count
                }
            } afterStop: { harness in
                try await eventually("the consumer's unacked messages are back in the queue") {
                    try await Self.depth(of: queue) == UInt32(count)
                }
                #expect(try await Self.held(by: harness.topology) == count)
                #expect(try await Self.depth(of: harness.topology.deadLetterQueue) == 0)
            }
            #expect(logs.count(of: "message dead-lettered") == 0)
            #expect(
                logs.count(of: "copy not stored after declaring the queues again; returning the message to the queue")
                    >= count)
        }
    }

    // MARK: Helpers

    /// Runs a client and a consumer as `MessagingHarness` does, then `afterStop` once both stopped
    /// (unacked messages are back in their queues), then deletes the queues.
    static func run(
        queue: String,
        retry: RetryPolicy,
        handlers: [MessageHandler],
        logs: RecordedLogs,
        _ body: (MessagingHarness) async throws -> Void,
        afterStop: (MessagingHarness) async throws -> Void
    ) async throws {
        let topology = QueueTopology(queue: queue, retry: retry)
        let client = try MessagingHarness.makeClient()
        let consumer = QueueConsumer(
            configuration: .init(topology: topology, prefetch: 10, concurrency: 4, depthPollInterval: .seconds(1)),
            client: client,
            handlers: handlers,
            logger: Logger(label: "test.consumer") { _ in RecordingLogHandler(logs: logs) }
        )
        let group = ServiceGroup(
            configuration: .init(services: [client, consumer], logger: Logger(label: "test.group")))
        let harness = MessagingHarness(client: client, consumer: consumer, topology: topology)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let outcome: Result<Void, any Error>
            do {
                try await eventually("the consumer declared its queues") { consumer.isReady }
                try await body(harness)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            if case .failure(let error) = outcome {
                try? await harness.deleteQueues()
                throw error
            }
        }
        do {
            try await afterStop(harness)
        } catch {
            try? await harness.deleteQueues()
            throw error
        }
        try await harness.deleteQueues()
    }

    static func withChannel<Result: Sendable>(_ body: (AMQPChannel) async throws -> Result) async throws -> Result {
        let connection = try await AMQPConnection.connect(
            configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI))
        do {
            let result = try await body(try await connection.openChannel())
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    static func deleteQueues(_ steps: some Sequence<AMQPTopologyStep>) async throws {
        try await Self.withChannel { channel in
            for case .queue(let name, _, _, _, _) in steps {
                try await channel.queueDelete(name)
            }
        }
    }

    /// Ready messages in a queue (passive `queue.declare`).
    static func depth(of queue: String) async throws -> UInt32 {
        try await Self.withChannel { try await $0.queueDeclare(queue, passive: true).messageCount }
    }

    /// Messages in the main, retry and dead-letter queues together.
    static func held(by topology: QueueTopology) async throws -> Int {
        var count = 0
        for case .queue(let name, _, _, _, _) in topology.steps {
            count += Int(try await Self.depth(of: name))
        }
        return count
    }

    static func total(_ metrics: TestMetrics, _ label: String, queue: String, reason: String? = nil) -> Int {
        metrics.counters(label: label)
            .filter { counter in
                counter.dimensions.contains { $0 == ("queue_name", queue) }
                    && (reason.map { reason in counter.dimensions.contains { $0 == ("reason", reason) } } ?? true)
            }
            .reduce(0) { $0 + Int($1.totalValue) }
    }
}

/// Log messages of the consumer, to check what it said.
final class RecordedLogs: Sendable {
    private let messages = Mutex<[String]>([])

    func append(_ message: String) {
        self.messages.withLock { $0.append(message) }
    }

    func count(of message: String) -> Int {
        self.messages.withLock { $0.filter { $0 == message }.count }
    }
}

struct RecordingLogHandler: LogHandler {
    let logs: RecordedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.logs.append(event.message.description)
    }
}
