import FlowKit

/// The email worker's settings (COMPAT.md 1.3); the defaults are the original's.
public struct EmailConfiguration: Sendable {
    public var http = HTTPBinding(host: "0.0.0.0", port: 4003)
    public var smtpHost = "smtp.gmail.com"
    public var smtpPort = 587
    public var smtpUser = ""
    public var smtpPassword = ""
    /// The sender (`Name <address>` or an address); empty: not configured.
    public var smtpFrom = ""
    /// Implicit TLS (port 465).
    public var smtpSecure = false
    public var smtpRequireTLS = true
    public var smtpTLSVerify = true
    public var smtpClientName = "localhost"
    public var smtpTimeoutSeconds = 30
    public var smtpPoolSize = 5
    public var smtpMaxMessagesPerConnection = 100
    public var smtpIdleTimeoutSeconds = 30
    public var maxRetries = 3
    public var retryBaseDelayMilliseconds = 1000
    public var concurrency = 5
    /// Messages per second; 0: no limit.
    public var rateLimit = 0
    public var idempotencyWindowSeconds = 86_400
    /// How long a claim outlives a worker that died while sending (the request waits that long).
    public var claimTTLSeconds = 180
    /// Where sent request keys are kept; without it they are kept in memory (one instance).
    public var redisURI: String?
    /// Templates read from this folder instead of the bundled ones.
    public var templatesDirectory: String?

    public init() {}
}
