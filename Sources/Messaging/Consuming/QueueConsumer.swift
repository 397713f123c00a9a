import AMQPClient
import AMQPProtocol
import Crypto
import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Consumes one queue with registered pattern handlers, in the style of swift-jobs: bounded
/// concurrency, ack only after the handler returned, retries with backoff for transient failures,
/// the dead-letter queue for permanent ones, and a graceful drain on shutdown.
///
/// Nothing a message contains can stop the consumer: malformed JSON, a body that is not an object,
/// a missing or unknown pattern, data that does not decode and oversized bodies are dead-lettered
/// at once with the reason.
public final class QueueConsumer: Service, Sendable {
    public struct Configuration: Sendable {
        public var topology: QueueTopology
        /// Unacknowledged deliveries the broker may send ahead (`basic.qos`).
        public var prefetch: UInt16
        /// Handlers running at once; with batches (``batchSize`` above 1), batches being handled at once.
        public var concurrency: Int
        /// Most deliveries handled together (1: one at a time). A batch is what is ready right now,
        /// up to this size: no fixed wait, so a lone message goes through alone at once. Set
        /// ``prefetch`` well above it so the broker keeps sending while a batch is handled.
        public var batchSize: Int
        /// Larger bodies are dead-lettered without parsing.
        public var maxBodySize: Int
        /// How long in-flight handlers may finish after shutdown begins; the rest are left unacked
        /// and the broker redelivers them.
        public var drainTimeout: Duration
        /// How often the dead-letter queue's depth is read for the `queue.dlq.depth` gauge.
        public var depthPollInterval: Duration

        public init(
            topology: QueueTopology,
            prefetch: UInt16 = 20,
            concurrency: Int = 10,
            batchSize: Int = 1,
            maxBodySize: Int = 1 << 20,
            drainTimeout: Duration = .seconds(30),
            depthPollInterval: Duration = .seconds(30)
        ) {
            self.topology = topology
            self.prefetch = prefetch
            self.concurrency = max(1, concurrency)
            self.batchSize = max(1, batchSize)
            self.maxBodySize = maxBodySize
            self.drainTimeout = drainTimeout
            self.depthPollInterval = depthPollInterval
        }
    }

    let configuration: Configuration
    let client: AMQPClient
    let handlers: [String: MessageHandler]
    let logger: Logger
    let recent = RecentWork<String>()
    private let declared = NIOLockedValueBox(false)

    /// Whether the queues are declared and the consumer is registered (for `/ready`).
    public var isReady: Bool { self.declared.withLockedValue { $0 } && self.client.isConnected }

    public init(configuration: Configuration, client: AMQPClient, handlers: [MessageHandler], logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.handlers = Dictionary(handlers.map { ($0.pattern, $0) }) { first, _ in first }
        self.logger = logger
    }

    var queue: String { self.configuration.topology.queue }

    // MARK: Service

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.declareTopology() }
        } catch is CancellationError {
            return
        }
        let consumer = self.client.consume(queue: self.queue, prefetch: self.configuration.prefetch)
        self.declared.withLockedValue { $0 = true }
        self.logger.info(
            "consuming", metadata: ["queue": "\(self.queue)", "patterns": "\(self.handlers.keys.sorted())"])
        await withDiscardingTaskGroup { outer in
            outer.addTask { await self.pollDeadLetterDepth() }
            await withGracefulShutdownHandler {
                if self.configuration.batchSize > 1 {
                    await self.consumeInBatches(consumer)
                } else {
                    await self.consume(consumer)
                }
            } onGracefulShutdown: {
                consumer.stop()
            }
            outer.cancelAll()
        }
        self.logger.info("stopped consuming", metadata: ["queue": "\(self.queue)"])
    }

    private func declareTopology() async throws {
        var backoff = Duration.milliseconds(500)
        while true {
            do {
                try await self.client.declare(self.configuration.topology.steps)
                return
            } catch let error as AMQPClientError {
                guard error.isTransient else {
                    // e.g. 406 PRECONDITION_FAILED from queue.declare: a queue exists with other
                    // arguments. The broker's text names the queue and the argument; retrying cannot help.
                    self.logger.error(
                        "the broker refused the queue topology; not retrying",
                        metadata: ["queue": "\(self.queue)", "error": "\(error)"]
                    )
                    throw error
                }
                self.logger.warning("declaring queues failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
    }

    /// Runs handlers with at most `concurrency` in flight; on shutdown waits `drainTimeout` for them.
    private func consume(_ consumer: AMQPRecoveringConsumer) async {
        // Child tasks return true only for the drain timer.
        await withTaskGroup(of: Bool.self) { group in
            var inFlight = 0
            for await delivery in consumer {
                if inFlight >= self.configuration.concurrency {
                    _ = await group.next()
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask {
                    await self.process(delivery)
                    return false
                }
            }
            await self.drain(&group, inFlight: inFlight)
        }
    }

    /// Takes deliveries in batches of what is ready (up to `batchSize`), with at most `concurrency`
    /// batches in flight; on shutdown waits `drainTimeout` for them.
    private func consumeInBatches(_ consumer: AMQPRecoveringConsumer) async {
        let ready = ReadyBatches<AMQPClientDelivery>(maxSize: self.configuration.batchSize)
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await delivery in consumer {
                    ready.append(delivery)
                }
                ready.finish()
                return false
            }
            var inFlight = 1  // the reader
            while let batch = await ready.next() {
                while inFlight > self.configuration.concurrency {
                    _ = await group.next()
                    inFlight -= 1
                }
                inFlight += 1
                group.addTask {
                    await self.process(batch: batch)
                    return false
                }
            }
            await self.drain(&group, inFlight: inFlight)
        }
    }

    /// The consumer was cancelled (shutdown): lets in-flight work finish, within the drain timeout.
    private func drain(_ group: inout TaskGroup<Bool>, inFlight: Int) async {
        var inFlight = inFlight
        guard inFlight > 0 else { return }
        group.addTask {
            try? await Task.sleep(for: self.configuration.drainTimeout)
            return true
        }
        while let timerFired = await group.next() {
            if timerFired {
                self.logger.warning(
                    "handlers still running after the drain timeout; leaving their messages unacked",
                    metadata: ["queue": "\(self.queue)"]
                )
                group.cancelAll()
                break
            }
            inFlight -= 1
            if inFlight == 0 {
                group.cancelAll()
                break
            }
        }
    }

    private func pollDeadLetterDepth() async {
        let gauge = Gauge(
            label: "queue.dlq.depth", dimensions: [("queue_name", self.configuration.topology.deadLetterQueue)])
        while !Task.isCancelled {
            if let count = try? await self.client.withChannel({ channel in
                try await channel.queueDeclare(self.configuration.topology.deadLetterQueue, passive: true).messageCount
            }) {
                gauge.record(Int(count))
            }
            try? await Task.sleep(for: self.configuration.depthPollInterval)
        }
    }
}
