import NIOConcurrencyHelpers

/// Spaces sends out to at most `perSecond` messages per second across all handlers of the process,
/// so a burst does not trip a provider's limits. Each caller reserves the next free slot and sleeps
/// until it.
public final class SendRateLimiter: Sendable {
    private let interval: Duration
    private let nextSlot = NIOLockedValueBox(ContinuousClock.now)

    /// - Parameter perSecond: messages per second, above 0.
    public init(perSecond: Double) {
        let nanoseconds = 1_000_000_000 / max(perSecond, 0.001)
        self.interval = .nanoseconds(Int64(nanoseconds))
    }

    /// Returns when this caller may send.
    public func waitForTurn() async throws {
        let slot = self.reserve(now: .now)
        if slot > .now {
            try await Task.sleep(until: slot, clock: .continuous)
        }
    }

    /// Takes the next free slot at or after `now`.
    func reserve(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        self.nextSlot.withLockedValue { next in
            let slot = max(next, now)
            next = slot + self.interval
            return slot
        }
    }
}
