import AMQPClient
import AMQPProtocol
import Logging
import Messaging
import NIOCore
import ServiceLifecycle

/// A recovering client and one queue consumer running in a real `ServiceGroup`, as in production.
struct MessagingHarness {
    let client: AMQPClient
    let consumer: QueueConsumer
    let topology: QueueTopology

    static func makeClient() throws -> AMQPClient {
        AMQPClient(configuration: .init(connection: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)))
    }

    /// Runs `body` while the services run, then shuts them down gracefully and deletes the queues.
    static func run<Result: Sendable>(
        queue: String,
        retry: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(200), factor: 2, maxRetries: 2, jitter: 0),
        drainTimeout: Duration = .seconds(10),
        handlers: [MessageHandler],
        _ body: (MessagingHarness) async throws -> Result
    ) async throws -> Result {
        let topology = QueueTopology(queue: queue, retry: retry)
        let client = try Self.makeClient()
        let consumer = QueueConsumer(
            configuration: .init(
                topology: topology,
                prefetch: 10,
                concurrency: 4,
                drainTimeout: drainTimeout,
                depthPollInterval: .milliseconds(200)
            ),
            client: client,
            handlers: handlers,
            logger: Logger(label: "test.consumer")
        )
        let group = ServiceGroup(
            configuration: .init(services: [client, consumer], logger: Logger(label: "test.group"))
        )
        let harness = MessagingHarness(client: client, consumer: consumer, topology: topology)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let outcome: Swift.Result<Result, any Error>
            do {
                try await eventually("the consumer declared its queues") { consumer.isReady }
                outcome = .success(try await body(harness))
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try? await harness.deleteQueues()
            return try outcome.get()
        }
    }

    /// Message count of a queue, read with a fresh connection.
    static func depth(of queue: String) async throws -> UInt32 {
        let connection = try await AMQPConnection.connect(
            configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)
        )
        let channel = try await connection.openChannel()
        let count = try await channel.queueDeclare(queue, passive: true).messageCount
        await connection.close()
        return count
    }

    /// Publishes a raw body to the main queue, as any producer could.
    func publishRaw(_ body: String, properties: AMQPBasicProperties = AMQPBasicProperties()) async throws {
        try await self.client.publish(ByteBuffer(string: body), routingKey: self.topology.queue, properties: properties)
    }

    func deleteQueues() async throws {
        try await Self.deleteQueues(of: self.topology)
    }

    /// Deletes a topology's main, retry and dead-letter queues.
    static func deleteQueues(of topology: QueueTopology) async throws {
        let connection = try await AMQPConnection.connect(
            configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)
        )
        let channel = try await connection.openChannel()
        for case .queue(let name, _, _, _, _) in topology.steps {
            try await channel.queueDelete(name)
        }
        await connection.close()
    }
}

/// The `create_notification` payload as publishers send it.
struct NotificationPayload: Codable, Sendable, Equatable {
    var userID: String
    var type: String
    var title: String
    var message: String

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case type, title, message
    }
}
