import CoreMetrics
import Foundation
import Logging
import Messaging
import Metrics
import SMTPClient

/// Handles `email_request` messages (COMPAT.md section 4): validates the request, renders its
/// template, sends it through the transport once per idempotency key, and tells the queue consumer
/// how a failure should be treated (transient → retry with backoff, permanent → dead letter).
public struct EmailRequestHandler: Sendable {
    /// The queue and pattern of the original worker.
    public static let queue = "email_queue"
    public static let pattern = "email_request"

    let templates: EmailTemplates
    let transport: any MailTransport
    let from: SMTPAddress
    let fromName: String?
    let ledger: any SentEmailLedger
    let rateLimiter: SendRateLimiter?
    let logger: Logger
    let metrics: EmailMetrics

    /// - Parameters:
    ///   - from: `SMTP_FROM`, else `SMTP_USER`; `fromName` is its display name, if it had one.
    ///   - rateLimiter: spaces sends out; nil for no limit.
    public init(
        templates: EmailTemplates,
        transport: any MailTransport,
        from: SMTPAddress,
        fromName: String? = nil,
        ledger: any SentEmailLedger,
        rateLimiter: SendRateLimiter? = nil,
        logger: Logger = Logger(label: "decode-async.email"),
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.templates = templates
        self.transport = transport
        self.from = from
        self.fromName = fromName
        self.ledger = ledger
        self.rateLimiter = rateLimiter
        self.logger = logger
        self.metrics = EmailMetrics(factory: metricsFactory)
    }

    /// The handler to register with the `email_queue` consumer.
    public func makeHandler() -> MessageHandler {
        MessageHandler(
            pattern: Self.pattern,
            payload: EmailRequest.self,
            messageType: { $0.metricType },
            body: { request, context in
                try await self.handle(
                    request, idempotencyKey: context.idempotencyKey ?? "sha256:\(context.bodyHash)",
                    attempt: context.retryCount + 1)
            }
        )
    }

    /// Processes one request to its end. `idempotencyKey` names the request (the `message_id`, or
    /// the body's hash for NestJS emits, which carry none); `attempt` counts from 1.
    ///
    /// - Throws: ``MessageHandlingError``: permanent for invalid requests and 5xx replies,
    ///   transient for 4xx replies, broken connections and timeouts.
    public func handle(_ request: EmailRequest, idempotencyKey key: String, attempt: Int = 1) async throws {
        let start = ContinuousClock.now
        let type = request.metricType
        var logger = self.logger
        logger[metadataKey: "email_type"] = "\(type)"
        do {
            let outcome = try await self.process(request, key: key, attempt: attempt, logger: logger)
            self.metrics.recordSuccess(type: type, since: start, sent: outcome == .sent)
        } catch {
            self.metrics.recordFailure(type: type, since: start)
            throw error
        }
    }

    enum Outcome {
        case sent
        case duplicate
    }

    private func process(_ request: EmailRequest, key: String, attempt: Int, logger: Logger) async throws -> Outcome {
        let valid = try request.validated()
        let rendered: RenderedEmail
        do {
            rendered = try self.templates.render(valid.type, email: valid.recipient.address, otpCode: valid.otpCode)
        } catch {
            throw MessageHandlingError.permanent("\(valid.type.rawValue): \(error)")
        }
        self.metrics.templateUsed(valid.type)

        let claim: SentEmailClaim
        do {
            claim = try await self.ledger.claim(key)
        } catch {
            throw MessageHandlingError.transient("the idempotency store is unavailable: \(error)")
        }
        switch claim {
        case .alreadySent:
            logger.info("already sent within the idempotency window; not sending again")
            return .duplicate
        case .inProgress:
            // Another delivery claimed it: it is sending now, or it died (kill -9) and its claim
            // expires. Come back after the longest retry delay, as often as the claim lasts,
            // without using up a retry (the retries alone are shorter than the claim).
            throw MessageHandlingError.deferred("the same request is being sent by another delivery")
        case .claimed:
            break
        }

        let message = SMTPMessage(
            from: self.from,
            fromName: self.fromName,
            to: [valid.recipient],
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            headers: [("X-Decode-Email-Type", valid.type.rawValue)]
        )
        do {
            try await self.rateLimiter?.waitForTurn()
            let reply = try await self.transport.send(message)
            do {
                try await self.ledger.markSent(key)
            } catch {
                logger.warning("sent, but the idempotency store did not record it", metadata: ["error": "\(error)"])
            }
            logger.info("email sent", metadata: ["smtp_reply": "\(reply.code)", "attempt": "\(attempt)"])
            return .sent
        } catch {
            try? await self.ledger.release(key)
            throw Self.classify(error)
        }
    }

    /// SMTP failures keep the reply code and text in the reason; anything unknown is transient.
    static func classify(_ error: any Error) -> any Error {
        switch error {
        case let smtp as SMTPError:
            return smtp.isTransient
                ? MessageHandlingError.transient("\(smtp)") : MessageHandlingError.permanent("\(smtp)")
        case is MessageHandlingError, is CancellationError:
            return error
        default:
            return MessageHandlingError.transient("\(error)")
        }
    }
}
