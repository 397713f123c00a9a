/// What a handler throws to say how its failure should be treated.
///
/// Any other error a handler throws counts as transient (retried), except `DecodingError` and
/// ``MessageRejection``, which are permanent.
public struct MessageHandlingError: Error, Sendable, CustomStringConvertible {
    /// Retry later (a dependency is down) or give up now (the message itself is wrong).
    public enum Disposition: String, Sendable {
        case transient
        case permanent
        /// Not now, and not the message's fault: another delivery holds the work (a claim that will
        /// resolve or expire). Tried again after the longest retry delay without using up a retry,
        /// at most ``MessageHeaders/maxDeferrals`` times, then treated as transient.
        case deferred
    }

    public var disposition: Disposition
    /// Log-safe reason, kept in the dead letter's headers.
    public var reason: String

    /// A failure that may pass on a later attempt (timeouts, unavailable servers, 4xx SMTP replies).
    public static func transient(_ reason: String) -> MessageHandlingError {
        MessageHandlingError(disposition: .transient, reason: reason)
    }

    /// A failure no retry can fix (invalid payload, 5xx SMTP replies); dead-lettered at once.
    public static func permanent(_ reason: String) -> MessageHandlingError {
        MessageHandlingError(disposition: .permanent, reason: reason)
    }

    /// Try again later without counting an attempt (see ``Disposition/deferred``).
    public static func deferred(_ reason: String) -> MessageHandlingError {
        MessageHandlingError(disposition: .deferred, reason: reason)
    }

    public var description: String { "\(self.disposition.rawValue): \(self.reason)" }
}
