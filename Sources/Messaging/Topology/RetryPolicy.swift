/// Exponential backoff with jitter for transient failures: attempt `n` (1-based) waits
/// `baseDelay * factor^(n-1)`, shortened by up to `jitter` (a fraction) so retries of a burst spread out.
public struct RetryPolicy: Sendable, Equatable {
    public var baseDelay: Duration
    public var factor: Int
    /// Retries before a message is dead-lettered (0: dead-letter on the first transient failure).
    public var maxRetries: Int
    /// 0 to 1: the largest share of a delay that jitter removes.
    public var jitter: Double

    /// Defaults: 1 s, factor 4, 3 retries (1 s, 4 s, 16 s), 20 % jitter.
    public init(baseDelay: Duration = .seconds(1), factor: Int = 4, maxRetries: Int = 3, jitter: Double = 0.2) {
        self.baseDelay = baseDelay
        self.factor = max(1, factor)
        self.maxRetries = max(0, maxRetries)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The longest delay of retry `attempt` (1...maxRetries): the retry queue's TTL.
    public func delay(forAttempt attempt: Int) -> Duration {
        var delay = self.baseDelay
        for _ in 1..<max(1, attempt) {
            delay *= self.factor
        }
        return delay
    }

    /// The delay of one message's retry `attempt` with jitter, `random` in 0...1.
    public func jitteredDelay(forAttempt attempt: Int, random: Double) -> Duration {
        let full = self.delay(forAttempt: attempt)
        return full * (1 - self.jitter * min(max(random, 0), 1))
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000
    }
}
