import AMQPClient
import AMQPProtocol
import Foundation
import Messaging
import NIOCore
import Testing

/// The messaging layer against RabbitMQ: what ends up acked, retried and dead-lettered.
@Suite("Queue consumer against RabbitMQ")
struct QueueConsumerIntegrationTests {
    static let payload = NotificationPayload(
        userID: "665f1c2e9b1d4a0012345678",
        type: "new_follow",
        title: "You have a new follower",
        message: "alice just followed you"
    )

    @Test func emittedEventIsHandledAndAcked() async throws {
        try await BrokerLock.shared {
            let received = Recorder<(NotificationPayload, MessageContext)>()
            let queue = TestEnvironment.uniqueName("test.events")
            let handler = MessageHandler(pattern: "create_notification", payload: NotificationPayload.self) {
                payload,
                context in
                await received.append((payload, context))
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler], afterShutdown: Self.expectNothingLeft) {
                harness in
                try await MessagePublisher(client: harness.client).emit(
                    pattern: "create_notification",
                    data: Self.payload,
                    queue: queue,
                    messageID: "m-1"
                )
                try await eventually("the handler ran") { await received.count == 1 }
                let (payload, context) = try #require(await received.values.first)
                #expect(payload == Self.payload)
                #expect(context.messageID == "m-1")
                #expect(context.pattern == "create_notification")
                #expect(context.retryCount == 0)
                #expect(!context.redelivered)
            }
        }
    }

    /// After the consumer's connection closed: nothing ready and nothing delivered without an ack
    /// (an unacked delivery is counted by the broker until it is requeued, and as ready afterwards).
    @Sendable static func expectNothingLeft(_ topology: QueueTopology) async throws {
        #expect(try await MessagingHarness.counts(of: topology.queue) == .empty)
    }

    @Test func moreMessagesThanThePrefetchAreAllHandledAndAcked() async throws {
        try await BrokerLock.shared {
            let handled = Recorder<Int>()
            let queue = TestEnvironment.uniqueName("test.prefetch")
            let handler = MessageHandler(pattern: "count", payload: Int.self) { value, _ in
                await handled.append(value)
            }
            // The harness's prefetch is 10: the broker sends the rest only as acks free the window.
            let total = 25
            try await MessagingHarness.run(queue: queue, handlers: [handler], afterShutdown: Self.expectNothingLeft) {
                harness in
                for value in 0..<total {
                    try await harness.publishRaw(#"{"pattern":"count","data":\#(value)}"#)
                }
                try await eventually("all \(total) handled") { await handled.count == total }
            }
            #expect(Set(await handled.values) == Set(0..<total))
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func noMoreHandlersRunAtOnceThanTheConcurrencyLimit() async throws {
        try await BrokerLock.shared {
            let gate = Gate()
            let running = RunningCount()
            let queue = TestEnvironment.uniqueName("test.concurrency")
            let handler = MessageHandler(pattern: "blocking", payload: Int.self) { _, _ in
                await running.enter()
                await gate.wait()
                await running.leave()
            }
            // Harness: prefetch 10, concurrency 4. Eight messages all fit in the prefetch window.
            try await MessagingHarness.run(queue: queue, handlers: [handler], afterShutdown: Self.expectNothingLeft) {
                harness in
                for value in 0..<8 {
                    try await harness.publishRaw(#"{"pattern":"blocking","data":\#(value)}"#)
                }
                do {
                    // All eight are delivered to the consumer (none ready), while the handlers are held.
                    try await eventually("all eight delivered") {
                        try await MessagingHarness.counts(of: queue) == QueueCounts(ready: 0, unacknowledged: 8)
                    }
                    try await eventually("four handlers started") { await running.entered >= 4 }
                    #expect(await running.entered == 4)
                } catch {
                    await gate.open()  // a failed check must not leave the handlers (and the shutdown) hanging
                    throw error
                }
                await gate.open()
                try await eventually("all eight finished") { await running.left == 8 }
            }
            #expect(await running.maximum == 4)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func drainTimeoutCancelsStuckHandlersAndLeavesTheirMessagesUnacked() async throws {
        try await BrokerLock.shared {
            let started = Recorder<Int>()
            let cancelled = Recorder<Int>()
            let queue = TestEnvironment.uniqueName("test.drain-timeout")
            let handler = MessageHandler(pattern: "stuck", payload: Int.self) { value, _ in
                await started.append(value)
                do {
                    // Never finishes on its own: only the drain timeout's cancellation ends it.
                    try await Task.sleep(for: .seconds(3600))
                } catch {
                    await cancelled.append(value)
                    throw error
                }
            }
            try await MessagingHarness.run(
                queue: queue,
                drainTimeout: .milliseconds(300),
                handlers: [handler],
                afterShutdown: { topology in
                    // Both messages went back to the broker for redelivery, not acked, not retried.
                    let counts = try await MessagingHarness.counts(of: topology.queue)
                    #expect(counts.ready + counts.unacknowledged == 2)
                    #expect(try await MessagingHarness.depth(of: topology.deadLetterQueue) == 0)
                    #expect(try await MessagingHarness.depth(of: topology.retryQueue(attempt: 1)) == 0)
                }
            ) { harness in
                for value in 0..<2 {
                    try await harness.publishRaw(#"{"pattern":"stuck","data":\#(value)}"#)
                }
                try await eventually("both started") { await started.count == 2 }
            }
            #expect(Set(await cancelled.values) == [0, 1])
        }
    }

    @Test func transientFailureIsRetriedWithBackoffThenDeadLettered() async throws {
        try await BrokerLock.shared {
            let attempts = Recorder<(Int, [String])>()
            let queue = TestEnvironment.uniqueName("test.retry")
            let handler = MessageHandler(pattern: "email_request", payload: [String: String].self) { _, context in
                await attempts.append((context.retryCount, Self.expiredIn(context.properties)))
                throw MessageHandlingError.transient("SMTP 451 try again later")
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { harness in
                try await harness.publishRaw(#"{"pattern":"email_request","data":{"type":"welcome-message"}}"#)
                try await eventually("the message is dead-lettered") {
                    try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 1
                }
                let seen = await attempts.values
                #expect(seen.map(\.0) == [0, 1, 2])
                // Each retry waited out its delay queue: the broker's x-death records that the copy
                // expired there (retry.1, then retry.2) before it came back; no clock involved.
                #expect(seen.map(\.1) == [[], ["\(queue).retry.1"], ["\(queue).retry.1", "\(queue).retry.2"]])

                let letters = try await DeadLetterQueue(client: harness.client, topology: harness.topology).list()
                let letter = try #require(letters.first)
                #expect(letters.count == 1)
                #expect(letter.kind == "retries_exhausted")
                #expect(letter.retryCount == 2)
                #expect(letter.reason == "SMTP 451 try again later")
                #expect(letter.pattern == "email_request")
                #expect(letter.firstFailureAt != nil)
                #expect(letter.properties.headers?["x-original-queue"]?.stringValue == queue)
                #expect(
                    String(buffer: letter.body) == #"{"pattern":"email_request","data":{"type":"welcome-message"}}"#)
                // Listing does not consume.
                #expect(try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 1)
                #expect(try await MessagingHarness.depth(of: queue) == 0)
            }
        }
    }

    /// The queues a message expired in before coming back, from the broker's `x-death` header.
    static func expiredIn(_ properties: AMQPBasicProperties) -> [String] {
        guard case .array(let deaths)? = properties.headers?["x-death"] else { return [] }
        return deaths.compactMap { death -> String? in
            guard case .table(let entry) = death, entry["reason"]?.stringValue == "expired" else { return nil }
            return entry["queue"]?.stringValue
        }.sorted()
    }

    @Test func deferredWorkComesBackWithoutUsingUpItsRetries() async throws {
        try await BrokerLock.shared {
            let attempts = Recorder<(retries: Int, deferrals: Int64)>()
            let queue = TestEnvironment.uniqueName("test.deferred")
            let handler = MessageHandler(pattern: "email_request", payload: [String: String].self) { _, context in
                let deferrals = context.properties.headers?[MessageHeaders.deferralCount]?.intValue ?? 0
                await attempts.append((context.retryCount, deferrals))
                if deferrals < 3 { throw MessageHandlingError.deferred("claimed by another delivery") }
            }
            let policy = RetryPolicy(baseDelay: .milliseconds(20), factor: 2, maxRetries: 1, jitter: 0)
            try await MessagingHarness.run(queue: queue, retry: policy, handlers: [handler]) { harness in
                try await harness.publishRaw(#"{"pattern":"email_request","data":{"type":"welcome-message"}}"#)
                try await eventually("the fourth delivery is handled") { await attempts.values.count == 4 }
                let seen = await attempts.values
                // Three deferrals, more than the one retry allowed, and none of them counted as a retry.
                #expect(seen.map(\.retries) == [0, 0, 0, 0])
                #expect(seen.map(\.deferrals) == [0, 1, 2, 3])
                #expect(try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 0)
            }
        }
    }

    @Test func workDeferredTooOftenCountsAsTransientAndIsDeadLettered() async throws {
        try await BrokerLock.shared {
            let attempts = Recorder<Int>()
            let queue = TestEnvironment.uniqueName("test.deferred.max")
            let handler = MessageHandler(pattern: "email_request", payload: [String: String].self) { _, context in
                await attempts.append(context.retryCount)
                throw MessageHandlingError.deferred("claimed by another delivery")
            }
            let policy = RetryPolicy(baseDelay: .milliseconds(5), factor: 1, maxRetries: 1, jitter: 0)
            try await MessagingHarness.run(queue: queue, retry: policy, handlers: [handler]) { harness in
                try await harness.publishRaw(#"{"pattern":"email_request","data":{"type":"welcome-message"}}"#)
                // About 32 trips through the broker (each deferral, the retry, the dead letter).
                try await eventually("the message is dead-lettered", timeout: .seconds(90)) {
                    try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 1
                }
                let letter = try #require(
                    try await DeadLetterQueue(client: harness.client, topology: harness.topology).list().first)
                #expect(letter.kind == "retries_exhausted")
                #expect(
                    letter.properties.headers?[MessageHeaders.deferralCount]?.intValue
                        == Int64(MessageHeaders.maxDeferrals))
                // The deferrals, then the one retry, then the dead letter.
                #expect(await attempts.values.count == MessageHeaders.maxDeferrals + 2)
            }
        }
    }

    @Test func permanentFailureIsDeadLetteredAtOnce() async throws {
        try await BrokerLock.shared {
            let attempts = Recorder<Int>()
            let queue = TestEnvironment.uniqueName("test.permanent")
            let handler = MessageHandler(pattern: "email_request", payload: [String: String].self) { _, context in
                await attempts.append(context.retryCount)
                throw MessageHandlingError.permanent("550 mailbox unavailable")
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { harness in
                try await harness.publishRaw(#"{"pattern":"email_request","data":{}}"#)
                try await eventually("dead-lettered") {
                    try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == 1
                }
                #expect(await attempts.values == [0])
                let letter = try #require(
                    try await DeadLetterQueue(client: harness.client, topology: harness.topology).list().first)
                #expect(letter.kind == "permanent")
                #expect(letter.reason == "550 mailbox unavailable")
                #expect(letter.retryCount == 0)
            }
        }
    }

    @Test func invalidMessagesAreDeadLetteredWithTheirReasonAndTheConsumerGoesOn() async throws {
        try await BrokerLock.shared {
            let handled = Recorder<NotificationPayload>()
            let queue = TestEnvironment.uniqueName("test.invalid")
            let handler = MessageHandler(pattern: "create_notification", payload: NotificationPayload.self) {
                payload, _ in
                await handled.append(payload)
            }
            let cases: [(body: String, kind: String, reason: String)] = [
                ("not json at all", "malformed_json", "the body is not valid UTF-8 JSON"),
                (
                    #"{"pattern":"create_notification","data":"\ud800"}"#, "malformed_json",
                    "the body is not valid UTF-8 JSON"
                ),
                (#"[1,2,3]"#, "not_an_object", "the body is not a JSON object"),
                (#"{"data":{}}"#, "missing_pattern", "the body has no \"pattern\""),
                (
                    #"{"pattern":"delete_everything","data":{}}"#, "unknown_pattern",
                    "no handler for pattern 'delete_everything' on \(queue)"
                ),
                (
                    #"{"pattern":"create_notification","data":{"user_id":"x","type":"t","title":5,"message":"m"}}"#,
                    "permanent", "data.title is not a string"
                ),
                (
                    #"{"pattern":"create_notification","data":{"type":"t","title":"a","message":"m"}}"#, "permanent",
                    "data.user_id is missing"
                ),
            ]
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { harness in
                for (index, invalid) in cases.enumerated() {
                    try await harness.publishRaw(
                        invalid.body, properties: AMQPBasicProperties(messageID: "invalid-\(index)"))
                }
                try await harness.client.publish(
                    ByteBuffer(bytes: [0x7B, 0xFF, 0xFE, 0x7D]),
                    routingKey: queue,
                    properties: AMQPBasicProperties(messageID: "invalid-utf8")
                )
                try await harness.client.publish(
                    ByteBuffer(repeating: UInt8(ascii: " "), count: (1 << 20) + 1),
                    routingKey: queue,
                    properties: AMQPBasicProperties(messageID: "too-large")
                )
                let valid = try NestEnvelope.encodeEvent(pattern: "create_notification", data: Self.payload)
                try await harness.publishRaw(String(decoding: valid, as: UTF8.self))
                try await eventually("the valid message after the invalid ones was handled") {
                    await handled.count == 1
                }
                try await eventually("every invalid message is dead-lettered") {
                    try await MessagingHarness.depth(of: harness.topology.deadLetterQueue) == UInt32(cases.count + 2)
                }
                let letters = try await DeadLetterQueue(client: harness.client, topology: harness.topology).list()
                let byID = Dictionary(uniqueKeysWithValues: letters.map { ($0.messageID ?? "", $0) })
                for (index, invalid) in cases.enumerated() {
                    let letter = try #require(byID["invalid-\(index)"])
                    #expect(letter.kind == invalid.kind, "case \(index)")
                    #expect(letter.reason == invalid.reason, "case \(index)")
                    #expect(letter.retryCount == 0)
                }
                #expect(byID["invalid-utf8"]?.kind == "malformed_json")
                #expect(byID["too-large"]?.kind == "too_large")
                #expect(try await MessagingHarness.depth(of: queue) == 0)
            }
        }
    }

    @Test func sameMessageIDIsHandledOnce() async throws {
        try await BrokerLock.shared {
            let handled = Recorder<String>()
            let queue = TestEnvironment.uniqueName("test.idempotent")
            let handler = MessageHandler(pattern: "create_notification", payload: NotificationPayload.self) {
                payload, _ in
                await handled.append(payload.title)
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { harness in
                let publisher = MessagePublisher(client: harness.client)
                try await publisher.emit(
                    pattern: "create_notification", data: Self.payload, queue: queue, messageID: "dup")
                try await publisher.emit(
                    pattern: "create_notification", data: Self.payload, queue: queue, messageID: "dup")
                // Two identical NestJS emits without message_id are two events.
                let body = String(
                    decoding: try NestEnvelope.encodeEvent(pattern: "create_notification", data: Self.payload),
                    as: UTF8.self)
                try await harness.publishRaw(body)
                try await harness.publishRaw(body)
                try await eventually("all four were consumed") { try await MessagingHarness.depth(of: queue) == 0 }
                try await eventually("three handled") { await handled.count == 3 }
                try await Task.sleep(for: .milliseconds(200))
                #expect(await handled.count == 3)
            }
        }
    }

    @Test func replayMovesDeadLettersBackWithTheRetryCountReset() async throws {
        try await BrokerLock.shared {
            let attempts = Recorder<Int>()
            let failing = FailSwitch()
            let queue = TestEnvironment.uniqueName("test.replay")
            let handler = MessageHandler(pattern: "email_request", payload: [String: String].self) { _, context in
                await attempts.append(context.retryCount)
                if await failing.isOn {
                    throw MessageHandlingError.permanent("relay refused")
                }
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { harness in
                for index in 0..<3 {
                    try await harness.publishRaw(
                        #"{"pattern":"email_request","data":{}}"#,
                        properties: AMQPBasicProperties(messageID: "r-\(index)"))
                }
                let dlq = DeadLetterQueue(client: harness.client, topology: harness.topology)
                try await eventually("three dead letters") { try await dlq.depth() == 3 }
                // Replaying letters that fail again ends: each is replayed once per run.
                #expect(try await dlq.replay() == 3)
                try await eventually("back in the DLQ") {
                    let handled = await attempts.count
                    return try await dlq.depth() == 3 && handled == 6
                }
                await failing.turnOff()
                #expect(try await dlq.replay(messageIDs: ["r-1"]) == 1)
                try await eventually("r-1 handled again") { await attempts.count == 7 }
                #expect(try await dlq.depth() == 2)
                #expect(try await dlq.replay() == 2)
                try await eventually("all handled") { await attempts.count == 9 }
                #expect(await attempts.values == Array(repeating: 0, count: 9))
                try await eventually("the DLQ is empty") { try await dlq.depth() == 0 }
                try await harness.publishRaw(#"{"pattern":"nothing","data":{}}"#)
                try await eventually("one more dead letter") { try await dlq.depth() == 1 }
                #expect(try await dlq.purge() == 1)
                #expect(try await dlq.depth() == 0)
            }
        }
    }

    @Test func gracefulShutdownLetsInFlightHandlersFinishAndAck() async throws {
        try await BrokerLock.shared {
            let finished = Recorder<Int>()
            let started = Recorder<Int>()
            let queue = TestEnvironment.uniqueName("test.drain")
            let handler = MessageHandler(pattern: "slow", payload: Int.self) { value, _ in
                await started.append(value)
                try await Task.sleep(for: .milliseconds(500))
                await finished.append(value)
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler], afterShutdown: Self.expectNothingLeft) {
                harness in
                for value in 0..<3 {
                    try await harness.publishRaw(#"{"pattern":"slow","data":\#(value)}"#)
                }
                try await eventually("all three started") { await started.count == 3 }
            }
            // The harness shut down while the handlers slept: they finished and their messages are acked.
            #expect(Set(await finished.values) == [0, 1, 2])
        }
    }
}

/// Holds handlers until the test opens it.
actor Gate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if self.isOpen { return }
        await withCheckedContinuation { self.waiting.append($0) }
    }

    func open() {
        self.isOpen = true
        for continuation in self.waiting {
            continuation.resume()
        }
        self.waiting = []
    }
}

/// Handlers inside a section at once, and the most ever seen.
actor RunningCount {
    private(set) var entered = 0
    private(set) var left = 0
    private(set) var maximum = 0

    func enter() {
        self.entered += 1
        self.maximum = max(self.maximum, self.entered - self.left)
    }

    func leave() { self.left += 1 }
}

actor FailSwitch {
    private(set) var isOn = true
    func turnOff() { self.isOn = false }
}

/// NestJS `ClientProxy.send` requests: answered on `reply_to` with the same `correlation_id`.
@Suite("NestJS requests against RabbitMQ")
struct NestRequestIntegrationTests {
    @Test func requestsAreAnsweredOnReplyToWithTheCorrelationID() async throws {
        try await BrokerLock.shared {
            let queue = TestEnvironment.uniqueName("test.requests")
            let replies = TestEnvironment.uniqueName("test.replies")
            let handler = MessageHandler(pattern: "update_user_request", payload: [String: String].self) { payload, _ in
                if payload["_id"] == nil {
                    throw MessageHandlingError.permanent("no _id")
                }
            }
            try await MessagingHarness.run(queue: queue, handlers: [handler]) { harness in
                try await harness.client.declare([
                    .queue(name: replies, durable: false, exclusive: false, autoDelete: true, arguments: [:])
                ])
                try await harness.publishRaw(
                    #"{"pattern":"update_user_request","data":{"_id":"665f1c2e9b1d4a0012345678"},"id":"req-1"}"#,
                    properties: AMQPBasicProperties(correlationID: "corr-1", replyTo: replies)
                )
                try await harness.publishRaw(
                    #"{"pattern":"update_user_request","data":{},"id":"req-2"}"#,
                    properties: AMQPBasicProperties(correlationID: "corr-2", replyTo: replies)
                )
                var answers: [String: [String: Any]] = [:]
                var correlations: [String: String] = [:]
                try await eventually("both requests answered") {
                    if let result = try await harness.client.withChannel({
                        try await $0.get(queue: replies, noAck: true)
                    }),
                        let object = try JSONSerialization.jsonObject(
                            with: Data(result.delivery.body.readableBytesView)) as? [String: Any],
                        let id = object["id"] as? String
                    {
                        answers[id] = object
                        correlations[id] = result.delivery.properties.correlationID
                    }
                    return answers.count == 2
                }
                #expect(answers["req-1"]?["isDisposed"] as? Bool == true)
                #expect(answers["req-1"]?["err"] == nil)
                #expect(correlations["req-1"] == "corr-1")
                #expect(answers["req-2"]?["status"] as? String == "error")
                #expect(answers["req-2"]?["err"] as? String == "no _id")
                #expect(correlations["req-2"] == "corr-2")
            }
        }
    }
}
