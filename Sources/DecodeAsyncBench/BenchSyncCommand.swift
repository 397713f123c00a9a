import AMQPClient
import ArgumentParser
import BoltClient
import Foundation
import GraphSync
import Logging
import Messaging
import NIOConcurrencyHelpers
import ServiceLifecycle

extension DecodeAsyncBench {
    /// `decode-async-bench sync`: N `create_user_request` events through the broker and the sync into
    /// the graph, with batching off and on: events/s and event-to-graph latency (publish to commit).
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Sync events per second and event-to-graph latency, batching off and on."
        )

        @Option(help: "Events per run.")
        var events = 2000

        @Option(help: "Batch sizes to compare (1: no batching).")
        var batchSizes: [Int] = [1, 50]

        func run() async throws {
            BenchEnvironment.quietLogs()
            let bolt = try BoltConfiguration(
                uri: BenchEnvironment.neo4jURI, username: BenchEnvironment.neo4jUser,
                password: BenchEnvironment.neo4jPassword)
            var amqp = try AMQPConnectionConfiguration(
                uri: BenchEnvironment.rabbitMQURI)
            amqp.connectionName = "decode-async-bench-sync"
            for batchSize in self.batchSizes {
                try await self.measure(batchSize: max(1, batchSize), bolt: bolt, amqp: amqp)
            }
        }

        private func measure(batchSize: Int, bolt: BoltConfiguration, amqp: AMQPConnectionConfiguration) async throws {
            let logger = Logger(label: "bench.sync")
            let client = BoltClient(configuration: bolt, logger: logger)
            let writer = UserGraphWriter(client: client, logger: logger)
            try await writer.ensureSchema()
            let service = UserSyncService(writer: writer, batchSize: batchSize, logger: logger)
            let applied = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
            let handlers = [
                MessageHandler(pattern: "create_user_request", payload: UserDocument.self) { document, _ in
                    try await service.handle(document, operation: .create)
                    if let id = document.id.stringValue {
                        applied.withLockedValue { $0[id] = .now }
                    }
                }
            ]
            let queue = "bench.neo4j_sync.\(UUID().uuidString.prefix(8).lowercased())"
            let broker = AMQPClient(configuration: .init(connection: amqp), logger: logger)
            let concurrency = max(10, batchSize)
            let consumer = QueueConsumer(
                configuration: .init(
                    topology: QueueTopology(queue: queue), prefetch: UInt16(concurrency * 2), concurrency: concurrency),
                client: broker, handlers: handlers, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [broker, service, consumer], logger: logger))
            let ids = (0..<self.events).map { _ in (0..<24).map { _ in "0123456789abcdef".randomElement() ?? "0" } }
                .map { String($0) }
            let sentBox = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                while !consumer.isReady { try await Task.sleep(for: .milliseconds(20)) }
                let publisher = MessagePublisher(client: broker)
                let start = ContinuousClock.now
                // 64 confirmed publishes in flight, so the publisher does not bound the figures.
                try await withThrowingTaskGroup(of: Void.self) { publishes in
                    for (index, id) in ids.enumerated() {
                        if index >= 64 { try await publishes.next() }
                        publishes.addTask {
                            sentBox.withLockedValue { $0[id] = .now }
                            let document = [
                                "_id": id, "username": "bench\(index)", "role": "user", "display_name": "B",
                            ]
                            try await publisher.emit(pattern: "create_user_request", data: document, queue: queue)
                        }
                    }
                    try await publishes.waitForAll()
                }
                let sent = sentBox.withLockedValue { $0 }
                while applied.withLockedValue({ $0.count }) < ids.count {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let done = applied.withLockedValue { $0 }
                let last = done.values.max() ?? start
                let latencies = ids.compactMap { id in done[id].flatMap { end in sent[id].map { end - $0 } } }
                BenchReport.print(
                    "sync, batch size \(batchSize)", count: ids.count, elapsed: last - start, latencies: latencies)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            try? await BenchQueues.delete(QueueTopology(queue: queue), broker: amqp)
            for start in stride(from: 0, to: ids.count, by: 500) {
                _ = try await client.query(
                    "UNWIND $ids AS id MATCH (n) WHERE (n:User OR n:UserSyncState) AND n.user_id = id DETACH DELETE n",
                    parameters: ["ids": .list(ids[start..<min(start + 500, ids.count)].map(BoltValue.string))])
            }
            await client.shutdown()
        }
    }
}
