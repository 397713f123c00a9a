import AMQPClient
import Messaging

/// The queues a bench run declared, deleted when it ends, so that runs leave nothing behind.
enum BenchQueues {
    /// Deletes the main, retry and dead-letter queues of `topology`.
    static func delete(_ topology: QueueTopology, broker: AMQPConnectionConfiguration) async throws {
        let connection = try await AMQPConnection.connect(configuration: broker)
        let channel = try await connection.openChannel()
        for queue in topology.queues {
            try await channel.queueDelete(queue)
        }
        await connection.close()
    }
}
