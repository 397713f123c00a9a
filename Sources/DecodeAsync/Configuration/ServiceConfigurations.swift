import EmailWorker
import FlowKit
import Foundation
import GraphSync
import MongoStore
import NotificationService

/// Reads the notification service's settings (COMPAT.md 1.2).
extension NotificationConfiguration {
    init(_ settings: inout SettingsReader) {
        self.init(instanceID: "")
        self.http = HTTPBinding(
            host: settings.string("NOTIFICATION_HOST", default: self.http.host) ?? self.http.host,
            port: settings.port("NOTIFICATION_PORT", default: self.http.port))
        self.redisURI = Self.redisURI(&settings)
        let accessTokens = AccessTokenSettings(&settings)
        self.jwtSecret = accessTokens.secret
        self.jwtIssuer = accessTokens.issuer
        self.jwtAudience = accessTokens.audience
        self.authServiceURL = settings.uri("AUTH_SERVICE_URL", schemes: ["http", "https"])
        self.frontendURL = settings.string("FRONTEND_URL", default: self.frontendURL) ?? self.frontendURL
        let origins = self.socketCORSOrigins.joined(separator: ",")
        self.socketCORSOrigins = (settings.string("SOCKET_CORS_ORIGINS", default: origins) ?? origins)
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        self.socketEventsPerSecond = Double(
            settings.int(
                "SOCKET_EVENTS_PER_SECOND", default: Int(self.socketEventsPerSecond), range: 1...10_000,
                expected: "events per second"))
        self.socketMaxEventBytes = settings.int(
            "SOCKET_MAX_EVENT_BYTES", default: self.socketMaxEventBytes, range: 256...1_000_000,
            expected: "a size in bytes")
        self.presenceTTLSeconds = settings.int(
            "PRESENCE_TTL_SECONDS", default: self.presenceTTLSeconds, range: 3...86_400,
            expected: "seconds from 3 to 86400")
        self.instanceID =
            settings.string("INSTANCE_ID")
            ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt16.random(in: .min ... .max))"
        self.prefetch = UInt16(
            settings.int(
                "NOTIFICATION_PREFETCH", default: Int(self.prefetch), range: 1...5_000,
                expected: "a prefetch from 1 to 5000"))
        self.concurrency = settings.int(
            "NOTIFICATION_CONCURRENCY", default: self.concurrency, range: 1...256,
            expected: "a concurrency from 1 to 256")
        self.batchSize = settings.int(
            "NOTIFICATION_BATCH_SIZE", default: self.batchSize, range: 1...1_000,
            expected: "a batch size from 1 to 1000")
        self.redeliveryWindowSeconds = settings.int(
            "NOTIFICATION_REDELIVERY_WINDOW", default: self.redeliveryWindowSeconds, range: 60...604_800,
            expected: "seconds from 60 to 604800")
    }

    /// `REDIS_URI` wins; without it the gateway's `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD`/`REDIS_DB`
    /// fallback is honoured, then `redis://localhost:6379`.
    private static func redisURI(_ settings: inout SettingsReader) -> String {
        if let uri = settings.uri("REDIS_URI", schemes: ["redis", "rediss"]) {
            return uri
        }
        let host = settings.string("REDIS_HOST", default: "localhost") ?? "localhost"
        let port = settings.port("REDIS_PORT", default: 6379)
        let password = settings.string("REDIS_PASSWORD", secret: true)
        let database = settings.int("REDIS_DB", default: 0, range: 0...65535, expected: "a database number")
        let auth = password.map { ":\($0)@" } ?? ""
        return "redis://\(auth)\(host):\(port)/\(database)"
    }
}

/// Reads the email worker's settings (COMPAT.md 1.3).
extension EmailConfiguration {
    /// `sharedRedisURI`: the notification service's Redis when it runs in the same process (each
    /// variable is read once).
    init(_ settings: inout SettingsReader, sharedRedisURI: String? = nil) {
        self.init()
        self.http = HTTPBinding(
            host: settings.string("EMAIL_WORKER_HOST", default: self.http.host) ?? self.http.host,
            port: settings.port("EMAIL_WORKER_PORT", default: self.http.port))
        self.smtpHost = settings.string("SMTP_HOST", default: self.smtpHost) ?? self.smtpHost
        self.smtpPort = settings.port("SMTP_PORT", default: self.smtpPort)
        self.smtpUser = settings.string("SMTP_USER", default: self.smtpUser) ?? self.smtpUser
        self.smtpPassword = settings.string("SMTP_PASS", default: self.smtpPassword, secret: true) ?? self.smtpPassword
        self.smtpFrom = settings.string("SMTP_FROM") ?? self.smtpUser
        self.smtpSecure = settings.bool("SMTP_SECURE", default: self.smtpPort == 465)
        self.smtpRequireTLS = settings.bool("SMTP_REQUIRE_TLS", default: self.smtpRequireTLS)
        self.smtpTLSVerify = settings.bool("SMTP_TLS_VERIFY", default: self.smtpTLSVerify)
        self.smtpClientName = settings.string("SMTP_CLIENT_NAME", default: self.smtpClientName) ?? self.smtpClientName
        self.smtpTimeoutSeconds = settings.int(
            "SMTP_TIMEOUT", default: self.smtpTimeoutSeconds, range: 1...600, expected: "seconds from 1 to 600")
        self.smtpPoolSize = settings.int(
            "SMTP_POOL_SIZE", default: self.smtpPoolSize, range: 1...100, expected: "1 to 100 connections")
        self.smtpMaxMessagesPerConnection = settings.int(
            "SMTP_MAX_MESSAGES", default: self.smtpMaxMessagesPerConnection, range: 1...100_000,
            expected: "1 to 100000 messages")
        self.smtpIdleTimeoutSeconds = settings.int(
            "SMTP_IDLE_TIMEOUT", default: self.smtpIdleTimeoutSeconds, range: 1...3600,
            expected: "seconds from 1 to 3600")
        self.maxRetries = settings.int(
            "EMAIL_MAX_RETRIES", default: self.maxRetries, range: 0...20, expected: "0 to 20 retries")
        self.retryBaseDelayMilliseconds = settings.int(
            "EMAIL_RETRY_BASE_DELAY_MS", default: self.retryBaseDelayMilliseconds, range: 10...3_600_000,
            expected: "milliseconds")
        self.concurrency = settings.int(
            "EMAIL_CONCURRENCY", default: self.concurrency, range: 1...100, expected: "1 to 100 messages at once")
        self.rateLimit = settings.int(
            "EMAIL_RATE_LIMIT", default: self.rateLimit, range: 0...10_000,
            expected: "messages per second (0: no limit)")
        self.idempotencyWindowSeconds = settings.int(
            "EMAIL_IDEMPOTENCY_WINDOW", default: self.idempotencyWindowSeconds, range: 1...2_592_000,
            expected: "seconds (up to 30 days)")
        self.claimTTLSeconds = settings.int(
            "EMAIL_CLAIM_TTL", default: self.claimTTLSeconds, range: 5...3_600, expected: "seconds from 5 to 3600")
        self.redisURI = sharedRedisURI ?? settings.uri("REDIS_URI", schemes: ["redis", "rediss"])
        self.templatesDirectory = settings.string("EMAIL_TEMPLATES_DIR")
    }
}

/// Reads the graph sync's settings (COMPAT.md 1.4).
extension SyncConfiguration {
    init(_ settings: inout SettingsReader) {
        // The defaults, read before the required settings (errors are reported in reading order).
        let defaults = SyncConfiguration(neo4jURI: "", neo4jUser: "", neo4jPassword: "")
        let http = HTTPBinding(
            host: settings.string("NEO4JDB_SYNC_HOST", default: defaults.http.host) ?? defaults.http.host,
            port: settings.port("NEO4JDB_SYNC_PORT", default: defaults.http.port))
        self.init(
            neo4jURI: settings.uri("NEO4J_URI", schemes: Self.neo4jSchemes, required: true) ?? "",
            neo4jUser: settings.requiredString("NEO4J_USER", expected: "the Neo4j user name"),
            neo4jPassword: settings.requiredString("NEO4J_PASSWORD", secret: true, expected: "the Neo4j password"))
        self.http = http
        self.neo4jDatabase = settings.string("NEO4J_DATABASE")
        self.batchSize = settings.int(
            "SYNC_BATCH_SIZE", default: defaults.batchSize, range: 1...1000, expected: "a batch size from 1 to 1000")
        self.batchWait = .milliseconds(
            settings.int(
                "SYNC_BATCH_WAIT_MS", default: Int(defaults.batchWait / .milliseconds(1)), range: 0...1000,
                expected: "milliseconds from 0 to 1000"))
        self.validate = settings.bool("SYNC_VALIDATE", default: defaults.validate)
        self.adminToken = settings.string("SYNC_ADMIN_TOKEN", secret: true).flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// MongoDB, shared by the services that read it: required by notifications, optional for the sync
/// (bulk resync and the consistency check).
struct MongoConfiguration {
    var uri: String
    var database: String?
    /// Threads that run libmongoc's blocking calls.
    var threads: Int

    /// Reads `MONGO_URI` (checked by libmongoc itself), `MONGO_DB_NAME`, `MONGO_THREADS`; nil when the
    /// URI is unset and not `required`.
    static func read(_ settings: inout SettingsReader, required: Bool) -> MongoConfiguration? {
        let uri = settings.uri("MONGO_URI", schemes: ["mongodb", "mongodb+srv"], required: required)
        if let uri, let problem = MongoClient.uriProblem(uri) {
            settings.invalid("MONGO_URI", value: uri, expected: "a MongoDB URI libmongoc accepts (\(problem))")
        }
        var database = settings.string("MONGO_DB_NAME")
        if required, database == nil, let uri, !Self.namesDatabase(uri) {
            database = settings.requiredString(
                "MONGO_DB_NAME", expected: "the database holding notifications (MONGO_URI names none)")
        }
        let threads = settings.int("MONGO_THREADS", default: 4, range: 1...64, expected: "a thread count from 1 to 64")
        return uri.map { MongoConfiguration(uri: $0, database: database, threads: threads) }
    }

    /// Whether a MongoDB URI has a database path (`mongodb://host/decode?...`).
    static func namesDatabase(_ uri: String) -> Bool {
        guard let schemeEnd = uri.range(of: "://") else { return false }
        let rest = uri[schemeEnd.upperBound...].prefix { $0 != "?" }
        guard let slash = rest.firstIndex(of: "/") else { return false }
        return rest.index(after: slash) < rest.endIndex
    }
}
