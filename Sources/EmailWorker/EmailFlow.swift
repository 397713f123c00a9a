import AMQPClient
import FlowKit
import Logging
import Messaging
import Observability
import RedisClient
import SMTPClient
import ServiceLifecycle

/// The email worker's composition.
public enum EmailFlow {
    /// The email worker's parts: the SMTP pool, the idempotency ledger (Redis when `REDIS_URI` is
    /// set) and the `email_queue` consumer, in start order (shutdown runs in reverse, so the consumer
    /// drains before the pool closes), and the readiness of each.
    ///
    /// - Throws: ``FlowConfigurationError`` when the sender is missing or invalid or the templates do not load.
    public static func build(configuration: EmailConfiguration, dependencies: FlowDependencies) async throws
        -> FlowParts
    {
        let sender = try self.sender(configuration)
        let templates = try await self.templates(configuration)
        let smtp = SMTPClient(
            configuration: self.smtpConfiguration(configuration), logger: Logger(label: "decode-async.smtp"))
        var services: [any Service] = [smtp]
        let window = Duration.seconds(configuration.idempotencyWindowSeconds)
        let ledger: any SentEmailLedger
        var readiness: [ReadinessCheck] = []
        if let uri = configuration.redisURI {
            let redis = RedisClient(configuration: try RedisConfiguration(uri: uri))
            services.append(redis)
            ledger = RedisSentEmailLedger(
                redis: redis, window: window, claimTTL: .seconds(configuration.claimTTLSeconds))
            readiness.append(ReadinessCheck.shared(name: "redis") { try await redis.ping() })
        } else {
            ledger = InMemorySentEmailLedger(window: window)
        }
        let requests = EmailRequestHandler(
            templates: templates,
            transport: smtp,
            from: sender.address,
            fromName: sender.displayName,
            ledger: ledger,
            rateLimiter: configuration.rateLimit > 0
                ? SendRateLimiter(perSecond: Double(configuration.rateLimit)) : nil,
            logger: Logger(label: "decode-async.email")
        )
        let retry = RetryPolicy(
            baseDelay: .milliseconds(configuration.retryBaseDelayMilliseconds), maxRetries: configuration.maxRetries)
        let consumer = QueueConsumer(
            configuration: .init(
                topology: QueueTopology(queue: EmailRequestHandler.queue, retry: retry),
                prefetch: UInt16(min(configuration.concurrency * 2, Int(UInt16.max))),
                concurrency: configuration.concurrency
            ),
            client: dependencies.broker,
            handlers: [requests.makeHandler()],
            logger: Logger(label: "decode-async.email.consumer")
        )
        services.append(consumer)
        readiness += [
            ReadinessCheck(name: "email_queue") {
                guard consumer.isReady else { throw ReadinessFailure("not consuming email_queue yet") }
            },
            ReadinessCheck.shared(name: "smtp", timeout: .seconds(configuration.smtpTimeoutSeconds)) {
                try await smtp.verify()
            },
        ]
        return FlowParts(services: services, checks: readiness)
    }

    /// The bundled templates, or those in `EMAIL_TEMPLATES_DIR`.
    public static func templates(_ configuration: EmailConfiguration) async throws -> EmailTemplates {
        if let directory = configuration.templatesDirectory {
            return try await EmailTemplates.load(directory: directory)
        }
        return try await EmailTemplates.load()
    }

    public static func sender(_ configuration: EmailConfiguration) throws
        -> (displayName: String?, address: SMTPAddress)
    {
        guard !configuration.smtpFrom.isEmpty else {
            throw FlowConfigurationError("no sender: set SMTP_FROM (or SMTP_USER)")
        }
        do {
            return try SMTPAddress.mailbox(configuration.smtpFrom)
        } catch {
            throw FlowConfigurationError("SMTP_FROM is not a sender address: \(error.message)")
        }
    }

    public static func smtpConfiguration(_ configuration: EmailConfiguration) -> SMTPConfiguration {
        let tlsMode: SMTPSessionSettings.TLSMode =
            configuration.smtpSecure
            ? .implicit : (configuration.smtpRequireTLS ? .startTLSRequired : .startTLSIfOffered)
        let credentials =
            configuration.smtpUser.isEmpty
            ? nil : SMTPCredentials(user: configuration.smtpUser, password: configuration.smtpPassword)
        return SMTPConfiguration(
            host: configuration.smtpHost,
            port: configuration.smtpPort,
            tlsMode: tlsMode,
            verifyCertificates: configuration.smtpTLSVerify,
            credentials: credentials,
            clientName: configuration.smtpClientName,
            commandTimeout: .seconds(configuration.smtpTimeoutSeconds),
            dataTimeout: .seconds(max(configuration.smtpTimeoutSeconds * 4, 60)),
            maxConnections: configuration.smtpPoolSize,
            maxMessagesPerConnection: configuration.smtpMaxMessagesPerConnection,
            idleTimeout: .seconds(configuration.smtpIdleTimeoutSeconds)
        )
    }
}
