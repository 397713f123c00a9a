import AMQPClient
import AMQPProtocol
import Testing

/// A `ServiceGroup` cancels every service when one throws; the recovering client must then return
/// from `run()` instead of keeping its connection (which once hung `serve`, deaf to SIGTERM).
@Suite("AMQP client cancellation against RabbitMQ")
struct AMQPClientCancellationIntegrationTests {
    @Test func runReturnsWhenItsTaskIsCancelledWhileConnected() async throws {
        try await BrokerLock.shared {
            let client = AMQPClient(
                configuration: .init(connection: try AMQPConnectionConfiguration(uri: TestEnvironment.rabbitMQURI)))
            let (ended, endedContinuation) = AsyncStream.makeStream(of: Void.self)
            let run = Task {
                try? await client.run()
                endedContinuation.finish()
            }
            let queue = TestEnvironment.uniqueName("test.cancel")
            // Returns once connected; the exclusive queue goes with the connection.
            try await client.declare([
                .queue(name: queue, durable: false, exclusive: true, autoDelete: false, arguments: [:])
            ])
            let consumer = client.consume(queue: queue, prefetch: 1)
            run.cancel()
            // A bounded wait for run() to end, not a measure of its speed.
            let returned = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for await _ in ended {}
                    return !Task.isCancelled
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(30))
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(returned, "run() still running 30 s after its task was cancelled")
            if returned {
                #expect(!client.isConnected)
                var deliveries = consumer.makeAsyncIterator()
                let delivery = await deliveries.next()
                #expect(delivery == nil, "the consumer's deliveries did not end")
            } else {
                client.beginShutdown()
            }
        }
    }
}
