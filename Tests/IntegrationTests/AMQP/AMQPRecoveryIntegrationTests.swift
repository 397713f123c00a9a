import AMQPClient
import AMQPProtocol
import Logging
import NIOCore
import Testing

/// The recovering client when RabbitMQ drops connections or restarts.
@Suite("AMQP recovery against RabbitMQ")
struct AMQPRecoveryIntegrationTests {
    func makeClient() throws -> AMQPClient {
        var connection = try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)
        connection.connectionName = "decode-async-recovery-test"
        return AMQPClient(
            configuration: .init(
                connection: connection,
                initialBackoff: .milliseconds(100),
                maximumBackoff: .seconds(1),
                publishWaitTimeout: .seconds(60)
            )
        )
    }

    /// Runs `body` while `client` runs, then shuts the client down.
    func withRunningClient<Result: Sendable>(
        _ client: AMQPClient,
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            do {
                let result = try await body()
                client.beginShutdown()
                try await group.waitForAll()
                return result
            } catch {
                client.beginShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    @Test func consumerAndPublisherSurviveAForcedClose() async throws {
        try await BrokerLock.exclusive {
            let client = try self.makeClient()
            let queue = TestEnvironment.uniqueName("test.recovery")
            try await self.withRunningClient(client) {
                try await client.declare([
                    .queue(name: queue, durable: false, exclusive: false, autoDelete: false, arguments: [:])
                ])
                let consumer = client.consume(queue: queue, prefetch: 5)
                for index in 0..<10 {
                    try await client.publish(ByteBuffer(string: "before \(index)"), routingKey: queue)
                }
                var received = Set<String>()
                var iterator = consumer.makeAsyncIterator()
                while received.count < 10, let delivery = await iterator.next() {
                    received.insert(String(buffer: delivery.delivery.body))
                    delivery.ack()
                }
                try await TestEnvironment.run([
                    "scripts/stack", "rabbitmqctl", "close_all_connections", "recovery test",
                ])
                for index in 0..<10 {
                    try await client.publish(ByteBuffer(string: "after \(index)"), routingKey: queue)
                }
                while received.count < 20, let delivery = await iterator.next() {
                    received.insert(String(buffer: delivery.delivery.body))
                    delivery.ack()
                }
                #expect(received == Set((0..<10).map { "before \($0)" } + (0..<10).map { "after \($0)" }))
                #expect(client.connectionCount >= 2)
                await consumer.cancel()
                try await client.withChannel { try await $0.queueDelete(queue) }
            }
        }
    }

    @Test func brokerRestartDuringConfirmedPublishesLosesNothing() async throws {
        try await BrokerLock.exclusive {
            let client = try self.makeClient()
            let queue = TestEnvironment.uniqueName("test.restart")
            let restart = RestartProgress()
            let confirmedBeforeDown = Recorder<String>()
            let confirmed = try await self.withRunningClient(client) {
                try await client.declare([.queue(queue)])
                return try await withThrowingTaskGroup(of: Set<String>.self) { group in
                    group.addTask {
                        // Publish until the broker went down and came back, then 50 more.
                        var confirmed = Set<String>()
                        var index = 0
                        var stopAt = Int.max
                        while index < stopAt {
                            let id = "message-\(index)"
                            try await Self.publishUntilConfirmed(id, queue: queue, client: client)
                            confirmed.insert(id)
                            if await !restart.hasBegun {
                                await confirmedBeforeDown.append(id)
                            }
                            index += 1
                            if stopAt == .max, await restart.isDone {
                                stopAt = index + 50
                            }
                        }
                        return confirmed
                    }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(300))
                        await restart.begin()
                        try await TestEnvironment.run(["scripts/stack", "down", "rabbitmq"])
                        try await TestEnvironment.run(["scripts/stack", "up", "rabbitmq"])
                        await restart.finish()
                        return []
                    }
                    var confirmed = Set<String>()
                    for try await result in group {
                        confirmed.formUnion(result)
                    }
                    return confirmed
                }
            }
            // The restart came while publishing went on: messages were confirmed before the broker went
            // down (the loop itself guarantees those after it came back).
            #expect(await confirmedBeforeDown.count > 0)
            #expect(client.connectionCount >= 2)

            // Read back with a plain connection: every confirmed message is in the durable queue.
            let connection = try await AMQPConnection.connect(
                configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)
            )
            let channel = try await connection.openChannel()
            var stored = Set<String>()
            while let result = try await channel.get(queue: queue, noAck: true) {
                stored.insert(String(buffer: result.delivery.body))
            }
            #expect(confirmed.subtracting(stored).isEmpty)
            try await channel.queueDelete(queue)
            await connection.close()
        }
    }

    /// Publishes one persistent message, again and again until the broker confirms it.
    static func publishUntilConfirmed(_ id: String, queue: String, client: AMQPClient) async throws {
        var attempts = 0
        while true {
            do {
                try await client.publish(
                    ByteBuffer(string: id),
                    routingKey: queue,
                    mandatory: true,
                    properties: AMQPBasicProperties(deliveryMode: 2, messageID: id)
                )
                return
            } catch {
                attempts += 1
                if attempts > 300 { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @Test func publishFailsClearlyWhenNoBrokerAnswers() async throws {
        var connection = try AMQPConnectionConfiguration(uri: "amqp://guest:guest@127.0.0.1:1")
        connection.connectionTimeout = .milliseconds(200)
        let client = AMQPClient(
            configuration: .init(
                connection: connection, initialBackoff: .milliseconds(50), publishWaitTimeout: .milliseconds(300))
        )
        try await self.withRunningClient(client) {
            let error = await #expect(throws: AMQPClientError.self) {
                try await client.publish(ByteBuffer(string: "x"), routingKey: "q")
            }
            #expect(error?.code == .notConnected)
        }
    }
}

/// Whether the broker restart of a test has finished.
actor RestartProgress {
    private(set) var hasBegun = false
    private(set) var isDone = false

    func begin() {
        self.hasBegun = true
    }

    func finish() {
        self.isDone = true
    }
}

/// `connection.blocked` / `connection.unblocked` when RabbitMQ raises and clears a memory alarm.
@Suite("AMQP flow control against RabbitMQ")
struct AMQPBlockedIntegrationTests {
    @Test func memoryAlarmBlocksAndUnblocksPublishers() async throws {
        try await BrokerLock.exclusive {
            let connection = try await AMQPConnection.connect(
                configuration: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)
            )
            let channel = try await connection.openChannel()
            let queue = TestEnvironment.uniqueName("test.blocked")
            try await channel.queueDeclare(queue, durable: false, autoDelete: true)
            try await channel.publish(ByteBuffer(string: "before"), routingKey: queue)
            #expect(connection.blocked == nil)
            do {
                try await TestEnvironment.run(["scripts/stack", "rabbitmqctl", "set_vm_memory_high_watermark", "0"])
                // The broker blocks a connection once it publishes during the alarm.
                try await channel.publish(ByteBuffer(string: "during"), routingKey: queue)
                try await eventually("connection.blocked arrived") { connection.blocked != nil }
                #expect(connection.blocked?.isEmpty == false)
            } catch {
                _ = try? await TestEnvironment.run([
                    "scripts/stack", "rabbitmqctl", "set_vm_memory_high_watermark", "0.4",
                ])
                throw error
            }
            try await TestEnvironment.run(["scripts/stack", "rabbitmqctl", "set_vm_memory_high_watermark", "0.4"])
            try await eventually("connection.unblocked arrived") { connection.blocked == nil }
            #expect(connection.isOpen)
            await connection.close()
        }
    }
}
