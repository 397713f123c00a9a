import AMQPClient
import AMQPProtocol

/// The queues around one main queue: the main queue exactly as NestJS declares it (durable, no
/// arguments), one delay queue per retry (`<queue>.retry.<n>`, message TTL, dead-lettering back to
/// the main queue through the default exchange) and the dead-letter queue `<queue>.dlq`.
public struct QueueTopology: Sendable, Equatable {
    public var queue: String
    public var retry: RetryPolicy

    public init(queue: String, retry: RetryPolicy = RetryPolicy()) {
        self.queue = queue
        self.retry = retry
    }

    /// `<queue>.dlq`.
    public var deadLetterQueue: String { "\(self.queue).dlq" }

    /// `<queue>.retry.<attempt>`.
    public func retryQueue(attempt: Int) -> String { "\(self.queue).retry.\(attempt)" }

    /// The name of every queue of the topology, in the order of ``steps``.
    public var queues: [String] {
        self.steps.compactMap { step in
            guard case .queue(let name, _, _, _, _) = step else { return nil }
            return name
        }
    }

    /// Every declaration, main queue first.
    public var steps: [AMQPTopologyStep] {
        var steps: [AMQPTopologyStep] = [.queue(self.queue), .queue(self.deadLetterQueue)]
        if self.retry.maxRetries > 0 {
            for attempt in 1...self.retry.maxRetries {
                steps.append(
                    .queue(
                        self.retryQueue(attempt: attempt),
                        arguments: [
                            "x-message-ttl": .int64(self.retry.delay(forAttempt: attempt).milliseconds),
                            "x-dead-letter-exchange": .longString(""),
                            "x-dead-letter-routing-key": .longString(self.queue),
                        ]
                    )
                )
            }
        }
        return steps
    }
}
