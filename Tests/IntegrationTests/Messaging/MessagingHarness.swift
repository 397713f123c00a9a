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

    /// Runs `body` while the services run, then shuts them down gracefully, runs `afterShutdown`
    /// (the consumer's connection is closed by then, the queues still exist) and deletes the queues.
    static func run<Result: Sendable>(
        queue: String,
        retry: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(200), factor: 2, maxRetries: 2, jitter: 0),
        drainTimeout: Duration = .seconds(10),
        handlers: [MessageHandler],
        afterShutdown: (QueueTopology) async throws -> Void = { _ in },
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
            var checkError: (any Error)?
            do {
                try await afterShutdown(topology)
            } catch {
                checkError = error
            }
            try? await harness.deleteQueues()
            let result = try outcome.get()
            if let checkError { throw checkError }
            return result
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

    /// What the broker holds for `queue`: messages waiting for a consumer, and messages delivered
    /// but not yet acknowledged. Read with `rabbitmqctl list_queues`, which asks the queue itself; a
    /// passive `queue.declare` counts only ready messages and so misses a delivery never acked.
    ///
    /// After the consumer's connection closed, a delivery it never acked is counted either way:
    /// as unacknowledged until the broker notices the closed channel, then as ready again.
    static func counts(of queue: String) async throws -> QueueCounts {
        let output = try await TestEnvironment.run([
            "scripts/stack", "rabbitmqctl", "list_queues", "-q", "--no-table-headers",
            "name", "messages_ready", "messages_unacknowledged",
        ])
        for line in output.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.count == 3, fields[0] == queue, let ready = Int(fields[1]), let unacknowledged = Int(fields[2]) {
                return QueueCounts(ready: ready, unacknowledged: unacknowledged)
            }
        }
        throw TestEnvironment.CommandFailed(command: "rabbitmqctl list_queues (no line for \(queue))", output: output)
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

/// A queue's messages as the broker counts them (`MessagingHarness.counts(of:)`).
struct QueueCounts: Equatable, Sendable, CustomStringConvertible {
    var ready: Int
    var unacknowledged: Int

    /// Nothing waiting and nothing delivered without an ack.
    static let empty = QueueCounts(ready: 0, unacknowledged: 0)

    var description: String { "\(self.ready) ready, \(self.unacknowledged) unacknowledged" }
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
