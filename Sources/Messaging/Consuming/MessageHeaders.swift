import AMQPProtocol

/// The headers decode-async puts on retried and dead-lettered messages.
public enum MessageHeaders {
    /// How many retries the message has had (0 on first delivery).
    public static let retryCount = "x-retry-count"
    /// ISO-8601 time of the first failure.
    public static let firstFailureAt = "x-first-failure-at"
    /// The last failure's reason, at most ``maxErrorLength`` characters.
    public static let lastError = "x-last-error"
    /// The NestJS pattern of the message, when it had one.
    public static let originalPattern = "x-original-pattern"
    /// The queue the message was consumed from.
    public static let originalQueue = "x-original-queue"
    /// Why it was dead-lettered: `permanent`, `retries_exhausted` or a rejection kind.
    public static let deathReason = "x-death-reason"
    /// ISO-8601 time it reached the dead-letter queue.
    public static let deadLetteredAt = "x-dead-lettered-at"

    /// How many times an operator replayed the message from the dead-letter queue (kept through
    /// later failures, so a letter that fails again shows it was replayed).
    public static let replayCount = "x-replay-count"

    /// How many times the message was deferred (``MessageHandlingError/deferred(_:)``).
    public static let deferralCount = "x-deferral-count"
    /// Most deferrals before a deferred failure counts as a transient one.
    public static let maxDeferrals = 30

    /// Longest error text kept in a header.
    public static let maxErrorLength = 500

    static let all: Set<String> = [
        retryCount, firstFailureAt, lastError, originalPattern, originalQueue, deathReason, deadLetteredAt,
        deferralCount,
    ]

    static func truncate(_ text: String) -> String {
        text.count <= maxErrorLength ? text : String(text.prefix(maxErrorLength - 1)) + "…"
    }

    static func retryCount(of properties: AMQPBasicProperties) -> Int {
        properties.headers?[retryCount]?.intValue.map(Int.init) ?? 0
    }
}
