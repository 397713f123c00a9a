import Logging
import Messaging
import ServiceLifecycle

/// A flow's consuming side as one `Service`: prepares what the flow's handlers need (indexes, a
/// graph schema), retrying with backoff until the store answers, then consumes its queue until
/// graceful shutdown, with the flow's background loops running beside the consumer.
///
/// Shutdown or cancellation while preparing ends the worker without consuming: nothing was taken
/// from the queue, so nothing is lost.
public struct QueueWorker: Service {
    /// Backoff between preparation attempts: from `first`, doubled up to `limit`.
    public struct Backoff: Sendable {
        public var first: Duration
        public var limit: Duration

        public init(first: Duration = .milliseconds(250), limit: Duration = .seconds(10)) {
            self.first = first
            self.limit = limit
        }
    }

    let consumer: QueueConsumer
    let preparing: String
    let prepare: @Sendable () async throws -> Void
    let backoff: Backoff
    let alongside: [@Sendable () async -> Void]
    let afterConsuming: @Sendable () -> Void
    let logger: Logger

    /// - Parameters:
    ///   - preparing: what `prepare` sets up, for the log (`"indexes"`, `"graph schema"`).
    ///   - alongside: loops that run while the consumer does; each must end after `afterConsuming`.
    ///   - afterConsuming: called once the consumer has stopped (e.g. to end the `alongside` loops).
    public init(
        consumer: QueueConsumer,
        preparing: String,
        prepare: @escaping @Sendable () async throws -> Void,
        backoff: Backoff = Backoff(),
        alongside: [@Sendable () async -> Void] = [],
        afterConsuming: @escaping @Sendable () -> Void = {},
        logger: Logger
    ) {
        self.consumer = consumer
        self.preparing = preparing
        self.prepare = prepare
        self.backoff = backoff
        self.alongside = alongside
        self.afterConsuming = afterConsuming
        self.logger = logger
    }

    /// Whether preparation is done and the consumer is registered with the broker.
    public var isReady: Bool { self.consumer.isReady }

    public func run() async throws {
        guard await self.prepared() else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for loop in self.alongside {
                group.addTask { await loop() }
            }
            defer { self.afterConsuming() }
            try await self.consumer.run()
        }
    }

    /// Runs `prepare` until it succeeds; false when graceful shutdown or cancellation came first.
    private func prepared() async -> Bool {
        var delay = self.backoff.first
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await self.prepare()
                return true
            } catch {
                self.logger.warning(
                    "\(self.preparing) not set up yet; retrying",
                    metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                let wait = delay
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                } catch {
                    return false
                }
                delay = min(delay * 2, self.backoff.limit)
            }
        }
        return false
    }
}
