import FlowKit

/// The notification service's settings (COMPAT.md 1.2); the defaults are the original's.
public struct NotificationConfiguration: Sendable {
    public var http = HTTPBinding(host: "0.0.0.0", port: 4005)
    public var redisURI = "redis://localhost:6379/0"
    /// Empty: every token is refused.
    public var jwtSecret = ""
    public var jwtIssuer = AccessTokenVerifier.defaultIssuer
    public var jwtAudience = AccessTokenVerifier.defaultAudience
    /// The auth service asked whether a token's session is still active; nil: not asked.
    public var authServiceURL: String?
    /// The REST API's CORS origin.
    public var frontendURL = "*"
    /// Browser origins the Socket.IO endpoint accepts (`*`: any; the original hard-codes `*`).
    public var socketCORSOrigins = ["*"]
    public var socketEventsPerSecond: Double = 20
    public var socketMaxEventBytes = 16_384
    /// Seconds a presence entry lives without a refresh (refreshed every third of it).
    public var presenceTTLSeconds = 90
    /// This instance's id in presence members and cross-instance emits.
    public var instanceID: String
    /// The queue consumed (`notification_queue`; benchmarks use their own).
    public var queue = NotificationFlow.queue
    public var prefetch: UInt16 = 250
    /// Batches handled at once.
    public var concurrency = 4
    /// Most messages stored with one `insertMany`.
    public var batchSize = 100
    /// Seconds after which a redelivered message no longer matches what it stored.
    public var redeliveryWindowSeconds = 3_600

    public init(instanceID: String) {
        self.instanceID = instanceID
    }
}
