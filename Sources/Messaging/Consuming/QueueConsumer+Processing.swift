import AMQPClient
import AMQPProtocol
import Crypto
import Foundation
import Logging
import Metrics
import NIOCore
import Synchronization

extension QueueConsumer {
    /// A delivery that passed the checks every message gets (size, envelope, pattern, not already
    /// done), ready for its handler.
    struct PreparedDelivery: Sendable {
        var received: AMQPClientDelivery
        var envelope: NestEnvelope
        var handler: MessageHandler
        var body: Data
        var context: MessageContext
        var logger: Logger
        var start: ContinuousClock.Instant
    }

    /// Handles one delivery to its end: ack, retry, or dead letter. Never throws.
    func process(_ received: AMQPClientDelivery) async {
        guard let prepared = await self.prepare(received) else { return }
        switch prepared.handler.body {
        case .single(let handle):
            await self.complete(prepared, await Self.run(handle, prepared))
        case .batch:
            await self.handleBatch([prepared])
        }
    }

    /// Handles a batch of deliveries: each one is checked alone, then every handler gets its own
    /// messages of the batch at once (a batch handler) or one by one, concurrently (a single
    /// handler). Each message keeps its own fate. Never throws.
    func process(batch: [AMQPClientDelivery]) async {
        var prepared: [PreparedDelivery] = []
        for received in batch {
            if let ready = await self.prepare(received) {
                prepared.append(ready)
            }
        }
        var byPattern: [String: [PreparedDelivery]] = [:]
        var patterns: [String] = []
        for delivery in prepared {
            if byPattern[delivery.envelope.pattern] == nil { patterns.append(delivery.envelope.pattern) }
            byPattern[delivery.envelope.pattern, default: []].append(delivery)
        }
        await withDiscardingTaskGroup { group in
            for pattern in patterns {
                guard let deliveries = byPattern[pattern], let first = deliveries.first else { continue }
                switch first.handler.body {
                case .batch:
                    group.addTask { await self.handleBatch(deliveries) }
                case .single(let handle):
                    for delivery in deliveries {
                        group.addTask { await self.complete(delivery, await Self.run(handle, delivery)) }
                    }
                }
            }
        }
    }

    private static func run(
        _ handle: @Sendable (Data, MessageContext) async throws -> HandlerOutcome, _ delivery: PreparedDelivery
    ) async -> Result<HandlerOutcome, any Error> {
        do {
            return .success(try await handle(delivery.body, delivery.context))
        } catch {
            return .failure(error)
        }
    }

    /// Runs a batch handler over deliveries of one pattern and completes each as it is settled;
    /// what the handler leaves unsettled fails transiently (retried, never acked unfinished).
    private func handleBatch(_ deliveries: [PreparedDelivery]) async {
        guard case .batch(let handle) = deliveries.first?.handler.body else { return }
        let settled = Mutex([Bool](repeating: false, count: deliveries.count))
        let settler = BatchSettler { position, result in
            guard deliveries.indices.contains(position) else { return }
            let first = settled.withLock { flags -> Bool in
                defer { flags[position] = true }
                return !flags[position]
            }
            guard first else { return }
            await self.complete(deliveries[position], result)
        }
        await handle(deliveries.map { (body: $0.body, context: $0.context) }, settler)
        let unsettled = settled.withLock { flags in flags.indices.filter { !flags[$0] } }
        for position in unsettled {
            await settler.settle(
                position, .failure(MessageHandlingError.transient("the batch handler did not settle the message")))
        }
    }

    /// Size, envelope, pattern and "already done" checks; a message that fails one is dead-lettered
    /// (or acked, when already done) here and nil is returned.
    func prepare(_ received: AMQPClientDelivery) async -> PreparedDelivery? {
        let start = ContinuousClock.now
        let delivery = received.delivery
        let body = Data(delivery.body.readableBytesView)
        let bodyHash = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        var logger = self.logger
        logger[metadataKey: "queue"] = "\(self.queue)"
        if let messageID = delivery.properties.messageID {
            logger[metadataKey: "message_id"] = "\(messageID)"
        }

        // Size and envelope: a message that fails here can never succeed.
        guard body.count <= self.configuration.maxBodySize else {
            let rejection = MessageRejection(
                .tooLarge, "the body has \(body.count) bytes, more than \(self.configuration.maxBodySize)")
            await self.deadLetter(
                received, pattern: nil, messageType: "unknown", reason: rejection.reason, kind: rejection.kind.rawValue,
                logger: logger)
            return nil
        }
        let envelope: NestEnvelope
        do throws(MessageRejection) {
            envelope = try NestEnvelope.parse(body)
        } catch let rejection {
            await self.deadLetter(
                received,
                pattern: nil,
                messageType: "unknown",
                reason: rejection.reason,
                kind: rejection.kind.rawValue,
                logger: logger
            )
            return nil
        }
        logger[metadataKey: "pattern"] = "\(envelope.pattern)"
        guard let handler = self.handlers[envelope.pattern] else {
            await self.deadLetter(
                received,
                pattern: envelope.pattern,
                messageType: "unknown",
                reason: "no handler for pattern '\(envelope.pattern)' on \(self.queue)",
                kind: MessageRejection.Kind.unknownPattern.rawValue,
                logger: logger
            )
            return nil
        }

        // A redelivery of work this instance already finished: only the ack was lost.
        let doneKey = delivery.properties.messageID ?? (delivery.redelivered ? "sha256:\(bodyHash)" : nil)
        if let doneKey, self.recent.contains(doneKey) {
            logger.info("already processed; acknowledging the redelivery")
            received.ack()
            return nil
        }

        let context = MessageContext(
            queue: self.queue,
            pattern: envelope.pattern,
            messageID: delivery.properties.messageID,
            redelivered: delivery.redelivered,
            retryCount: MessageHeaders.retryCount(of: delivery.properties),
            bodyHash: bodyHash,
            properties: delivery.properties
        )
        return PreparedDelivery(
            received: received, envelope: envelope, handler: handler, body: body, context: context, logger: logger,
            start: start)
    }

    /// Acks a handled message, or sends a failed one to a retry queue or the dead-letter queue.
    func complete(_ prepared: PreparedDelivery, _ result: Result<HandlerOutcome, any Error>) async {
        let received = prepared.received
        let delivery = received.delivery
        switch result {
        case .success(let outcome):
            self.recent.insert(delivery.properties.messageID ?? "sha256:\(prepared.context.bodyHash)")
            received.ack()
            self.recordSuccess(messageType: outcome.messageType, since: prepared.start)
            await self.reply(to: delivery, envelope: prepared.envelope, result: .success(()))
        case .failure(let error):
            let (messageType, underlying) = Self.unwrap(error, pattern: prepared.envelope.pattern)
            if underlying is CancellationError || Task.isCancelled {
                // Cut off by the drain timeout: neither acked nor retried; the broker redelivers it.
                prepared.logger.warning("handler cancelled at shutdown; leaving the message unacked")
                return
            }
            self.recordFailure(messageType: messageType, since: prepared.start)
            let deadLettered = await self.failed(
                received, context: prepared.context, messageType: messageType, error: underlying,
                logger: prepared.logger)
            if deadLettered {
                // A NestJS requester hears about the failure once, when no retry will follow.
                await self.reply(to: delivery, envelope: prepared.envelope, result: .failure(underlying))
            }
        }
    }

    private static func unwrap(_ error: any Error, pattern: String) -> (String, any Error) {
        if let failure = error as? HandlerFailure {
            return (failure.messageType, failure.underlying)
        }
        return (pattern, error)
    }

    /// Transient failures go to the next retry queue while retries remain; everything else to the DLQ.
    /// Returns whether the message was dead-lettered (false when retried or returned to its queue).
    private func failed(
        _ received: AMQPClientDelivery,
        context: MessageContext,
        messageType: String,
        error: any Error,
        logger: Logger
    ) async -> Bool {
        let (permanent, reason) = Self.classify(error)
        let policy = self.configuration.topology.retry
        let deferrals = received.delivery.properties.headers?[MessageHeaders.deferralCount]?.intValue.map(Int.init) ?? 0
        let deferred =
            (error as? MessageHandlingError)?.disposition == .deferred && policy.maxRetries > 0
            && deferrals < MessageHeaders.maxDeferrals
        if deferred || (!permanent && context.retryCount < policy.maxRetries) {
            // A deferral waits as long as the last retry and keeps the retry count.
            let attempt = deferred ? policy.maxRetries : context.retryCount + 1
            let delay = policy.jitteredDelay(forAttempt: attempt, random: Double.random(in: 0...1))
            var headers = self.historyHeaders(of: received.delivery, pattern: context.pattern, reason: reason)
            headers[MessageHeaders.retryCount] = .int32(Int32(deferred ? context.retryCount : attempt))
            if deferred {
                headers[MessageHeaders.deferralCount] = .int32(Int32(deferrals + 1))
            }
            var properties = received.delivery.properties
            properties.headers = headers
            properties.deliveryMode = 2
            properties.expiration = String(delay.milliseconds)
            let retryQueue = self.configuration.topology.retryQueue(attempt: attempt)
            do {
                try await self.publishCopy(
                    received.delivery.body, to: retryQueue, properties: properties, logger: logger)
            } catch {
                await self.requeue(
                    received, messageType: messageType, reason: "retry_failed", error: error, logger: logger)
                return false
            }
            received.ack()
            logger.warning(
                "handler failed; retrying",
                metadata: ["attempt": "\(attempt)", "delay_ms": "\(delay.milliseconds)", "error": "\(reason)"]
            )
            Counter(label: "queue.message.retried", dimensions: self.dimensions(messageType)).increment()
            return false
        }
        let kind = permanent ? "permanent" : "retries_exhausted"
        return await self.deadLetter(
            received, pattern: context.pattern, messageType: messageType, reason: reason, kind: kind, logger: logger)
    }

    static func classify(_ error: any Error) -> (permanent: Bool, reason: String) {
        switch error {
        case let handling as MessageHandlingError:
            return (handling.disposition == .permanent, handling.reason)
        case let rejection as MessageRejection:
            return (true, rejection.reason)
        case let decoding as DecodingError:
            return (true, NestEnvelope.describe(decoding))
        case let amqp as AMQPClientError:
            return (!amqp.isTransient, String(describing: amqp))
        default:
            return (false, String(describing: error))
        }
    }

    /// Publishes the message to `<queue>.dlq` with its history, then acks it; returns whether it was
    /// dead-lettered. When the copy cannot be stored, the message goes back to its queue instead.
    @discardableResult
    func deadLetter(
        _ received: AMQPClientDelivery,
        pattern: String?,
        messageType: String,
        reason: String,
        kind: String,
        logger: Logger
    ) async -> Bool {
        var headers = self.historyHeaders(of: received.delivery, pattern: pattern, reason: reason)
        headers[MessageHeaders.deathReason] = .longString(kind)
        headers[MessageHeaders.originalQueue] = .longString(self.queue)
        headers[MessageHeaders.deadLetteredAt] = .longString(Self.now())
        var properties = received.delivery.properties
        properties.headers = headers
        properties.deliveryMode = 2
        properties.expiration = nil
        do {
            try await self.publishCopy(
                received.delivery.body,
                to: self.configuration.topology.deadLetterQueue,
                properties: properties,
                logger: logger
            )
        } catch {
            await self.requeue(
                received, messageType: messageType, reason: "dead_letter_failed", error: error, logger: logger)
            return false
        }
        received.ack()
        logger.error("message dead-lettered", metadata: ["reason": "\(reason)", "kind": "\(kind)"])
        Counter(label: "queue.message.dead_lettered", dimensions: self.dimensions(messageType) + [("reason", kind)])
            .increment()
        Counter(label: "queue.message.failed", dimensions: self.dimensions(messageType) + [("operation", "consume")])
            .increment()
        return true
    }

    /// Publishes a retry or dead-letter copy, mandatory and confirmed. When the broker does not take
    /// it (returned because the queue is gone, nacked, channel lost), declares the topology again and
    /// publishes once more.
    ///
    /// - Throws: the declaration's or the second publish's error: the copy is not stored.
    private func publishCopy(
        _ body: ByteBuffer,
        to queue: String,
        properties: AMQPBasicProperties,
        logger: Logger
    ) async throws {
        do {
            try await self.client.publish(body, routingKey: queue, mandatory: true, properties: properties)
        } catch {
            logger.warning(
                "copy not stored; declaring the queues again", metadata: ["to": "\(queue)", "error": "\(error)"])
            try await self.client.declare(self.configuration.topology.steps)
            try await self.client.publish(body, routingKey: queue, mandatory: true, properties: properties)
        }
    }

    /// The retry or dead-letter copy could not be stored: the message goes back to its queue
    /// (`basic.nack` with requeue), never acked away, after ``requeuePause``: while the broker keeps
    /// refusing the copy (a full dead-letter queue with `reject-publish`, a policy), each message
    /// comes round once a second per handler, not as fast as the broker can redeliver it.
    private func requeue(
        _ received: AMQPClientDelivery,
        messageType: String,
        reason: String,
        error: any Error,
        logger: Logger
    ) async {
        logger.error(
            "copy not stored after declaring the queues again; returning the message to the queue",
            metadata: ["reason": "\(reason)", "error": "\(error)"]
        )
        Counter(label: "queue.message.requeued", dimensions: self.dimensions(messageType) + [("reason", reason)])
            .increment()
        try? await Task.sleep(for: Self.requeuePause)
        received.nack(requeue: true)
    }

    /// How long a message whose copy was refused is held before it goes back to its queue.
    static let requeuePause = Duration.seconds(1)

    /// Carries the retry history forward: first failure time, last error, pattern, count.
    private func historyHeaders(of delivery: AMQPDelivery, pattern: String?, reason: String) -> AMQPFieldTable {
        var headers = delivery.properties.headers ?? [:]
        if headers[MessageHeaders.firstFailureAt] == nil {
            headers[MessageHeaders.firstFailureAt] = .longString(Self.now())
        }
        headers[MessageHeaders.lastError] = .longString(MessageHeaders.truncate(reason))
        if let pattern {
            headers[MessageHeaders.originalPattern] = .longString(pattern)
        }
        if headers[MessageHeaders.retryCount] == nil {
            headers[MessageHeaders.retryCount] = .int32(0)
        }
        return headers
    }

    /// Answers a NestJS request (`send`): `{"id","response","isDisposed":true}` or `{"id","err","status":"error"}`.
    private func reply(to delivery: AMQPDelivery, envelope: NestEnvelope, result: Result<Void, any Error>) async {
        guard let id = envelope.id, let replyTo = delivery.properties.replyTo else { return }
        struct Success: Encodable {
            var id: String
            var response: Bool?
            var isDisposed = true
        }
        struct Failure: Encodable {
            var id: String
            var err: String
            var status = "error"
        }
        let body: Data?
        switch result {
        case .success: body = try? JSONEncoder().encode(Success(id: id, response: nil))
        case .failure(let error): body = try? JSONEncoder().encode(Failure(id: id, err: Self.classify(error).reason))
        }
        guard let body else { return }
        try? await self.client.publish(
            ByteBuffer(bytes: body),
            routingKey: replyTo,
            properties: AMQPBasicProperties(
                contentType: "application/json", correlationID: delivery.properties.correlationID)
        )
    }

    private func dimensions(_ messageType: String) -> [(String, String)] {
        [("queue_name", self.queue), ("message_type", messageType)]
    }

    private func recordSuccess(messageType: String, since start: ContinuousClock.Instant) {
        Counter(label: "queue.message.consumed", dimensions: self.dimensions(messageType)).increment()
        Timer(label: "queue.message.processing.duration", dimensions: self.dimensions(messageType))
            .record(duration: .now - start)
    }

    private func recordFailure(messageType: String, since start: ContinuousClock.Instant) {
        Counter(label: "queue.message.consumed", dimensions: self.dimensions(messageType)).increment()
        Timer(
            label: "queue.message.processing.duration", dimensions: self.dimensions(messageType) + [("error", "true")]
        )
        .record(duration: .now - start)
    }

    static func now() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
