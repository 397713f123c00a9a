import Foundation
import NIOConcurrencyHelpers

/// Slows down token guessing: after ``maxFailures`` wrong tokens from one client address within
/// ``window``, that address gets 429 with `Retry-After` until the oldest of them is older than the
/// window, without the token being looked at. Wrong sign-ins and wrong bearer tokens both count; a
/// right one clears the address's failures.
///
/// Nothing waits in the request path (a sleep there would let an attacker hold tasks and
/// connections open): a refused request is answered at once. The table is bounded
/// (``maxAddresses``); when it is full the address with the oldest failures is dropped.
public final class SignInThrottle: Sendable {
    public static let maxFailures = 5
    public static let window: TimeInterval = 60
    static let maxAddresses = 10_000

    private let failures = NIOLockedValueBox<[String: [Date]]>([:])
    private let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Seconds the address must wait before its next try; nil when it may try now.
    public func retryAfter(address: String) -> Int? {
        let now = self.now()
        return self.failures.withLockedValue { table -> Int? in
            let recent = (table[address] ?? []).filter { now.timeIntervalSince($0) < Self.window }
            table[address] = recent.isEmpty ? nil : recent
            guard recent.count >= Self.maxFailures, let oldest = recent.first else { return nil }
            return max(1, Int((Self.window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
    }

    /// A wrong token from `address`.
    public func recordFailure(address: String) {
        let now = self.now()
        self.failures.withLockedValue { table in
            if table[address] == nil, table.count >= Self.maxAddresses {
                // Forget the expired first; if none, the address whose last failure is oldest.
                table = table.filter { now.timeIntervalSince($0.value.last ?? .distantPast) < Self.window }
                if table.count >= Self.maxAddresses,
                    let stalest = table.min(by: { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) })
                {
                    table[stalest.key] = nil
                }
            }
            var recent = (table[address] ?? []).filter { now.timeIntervalSince($0) < Self.window }
            recent.append(now)
            // More than the limit need not be kept: the oldest `maxFailures` decide the wait.
            table[address] = Array(recent.suffix(Self.maxFailures))
        }
    }

    /// A right token from `address`.
    public func recordSuccess(address: String) {
        self.failures.withLockedValue { $0[address] = nil }
    }
}
