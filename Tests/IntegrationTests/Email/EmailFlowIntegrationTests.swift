import AMQPClient
import EmailWorker
import Foundation
import Messaging
import SMTPClient
import Testing

/// The whole email flow: NestJS-style emits (published by pika) on a queue, the real consumer with
/// the email worker's handler, a real SMTP server, and the dead-letter queue.
@Suite("Email flow through RabbitMQ and SMTP")
struct EmailFlowIntegrationTests {
    static let retry = RetryPolicy(baseDelay: .milliseconds(100), factor: 2, maxRetries: 3, jitter: 0)

    static func worker(port: Int) async throws -> (EmailRequestHandler, SMTPClient) {
        let smtp = SMTPClient(
            configuration: SMTPConfiguration(
                host: "127.0.0.1", port: port, tlsMode: .startTLSIfOffered, commandTimeout: .seconds(10)))
        let worker = EmailRequestHandler(
            templates: try await EmailTemplates.load(),
            transport: smtp,
            from: try SMTPAddress("noreply@decode.test"),
            ledger: InMemorySentEmailLedger(window: .seconds(60))
        )
        return (worker, smtp)
    }

    /// Publishes `{"pattern":"email_request","data":{"type":...,"data":{...}}}` as NestJS `emit` does.
    static func emit(_ queue: String, type: String, fields: [String: String]) async throws {
        let data = try JSONSerialization.data(withJSONObject: ["type": type, "data": fields], options: [.sortedKeys])
        try await TestEnvironment.run([
            PikaInteropTests.python, PikaInteropTests.peer, "publish-nest", queue, "email_request",
            String(decoding: data, as: UTF8.self),
        ])
    }

    static func deadLetters(_ harness: MessagingHarness) async throws -> [DeadLetterQueue.Letter] {
        try await DeadLetterQueue(client: harness.client, topology: harness.topology).list()
    }

    @Test func everyTypeArrivesWithRecipientSubjectBothPartsAndTheCode() async throws {
        try await BrokerLock.shared {
            try await SMTPPeer.with("plain") { peer in
                let (worker, smtp) = try await Self.worker(port: peer.port)
                let queue = TestEnvironment.uniqueName("test.email")
                var expected: [String: (email: String, code: String?)] = [:]
                try await MessagingHarness.run(
                    queue: queue, retry: Self.retry, handlers: [worker.makeHandler()],
                    afterShutdown: QueueConsumerIntegrationTests.expectNothingLeft
                ) { harness in
                    for (index, type) in EmailType.allCases.enumerated() {
                        // One address carries characters HTML must escape (legal in a local part).
                        let email =
                            type == .newEmailChangeVerify ? "o'brien&sons@example.org" : "user\(index)@example.org"
                        var fields = ["email": email]
                        if type.requiresOTPCode {
                            fields["otpCode"] = String(UUID().uuidString.lowercased().prefix(6))
                        }
                        expected[type.rawValue] = (email, fields["otpCode"])
                        try await Self.emit(queue, type: type.rawValue, fields: fields)
                    }
                    let mails = try await peer.waitForMails(EmailType.allCases.count)
                    #expect(mails.count == EmailType.allCases.count)
                    let templates = try await EmailTemplates.load()
                    for mail in mails {
                        let type = try #require(EmailType(rawValue: mail.emailType))
                        let sent = try #require(expected[type.rawValue])
                        #expect(mail.rcptTos == [sent.email])
                        #expect(mail.to == sent.email)
                        #expect(mail.mailFrom == "noreply@decode.test")
                        #expect(mail.subject == (try templates.render(type, email: sent.email, otpCode: nil)).subject)
                        #expect(mail.contentType == "multipart/alternative")
                        #expect(mail.plainText.contains("This email was sent to \(sent.email)."))
                        #expect(mail.htmlText.contains("<!DOCTYPE html>"))
                        if let code = sent.code {
                            #expect(mail.plainText.contains("\n\(code)\n"))
                            #expect(mail.htmlText.contains(">\(code)</h2>"))
                        }
                    }
                    let special = try #require(mails.first { $0.emailType == EmailType.newEmailChangeVerify.rawValue })
                    #expect(special.htmlText.contains("<strong>o&#39;brien&amp;sons@example.org</strong>"))
                    #expect(!special.htmlText.contains("o'brien&sons"))
                    #expect(special.plainText.contains("This address, o'brien&sons@example.org, was entered"))
                    #expect(try await Self.deadLetters(harness).isEmpty)
                }
                await smtp.shutdown()
            }
        }
    }

    @Test func markupInARequestIsDeadLetteredAndNeverSent() async throws {
        try await BrokerLock.shared {
            try await SMTPPeer.with("plain") { peer in
                let (worker, smtp) = try await Self.worker(port: peer.port)
                let queue = TestEnvironment.uniqueName("test.email")
                try await MessagingHarness.run(
                    queue: queue, retry: Self.retry, handlers: [worker.makeHandler()],
                    afterShutdown: QueueConsumerIntegrationTests.expectNothingLeft
                ) { harness in
                    try await Self.emit(
                        queue, type: "create-account",
                        fields: ["email": "<script>alert(1)</script>@x.io", "otpCode": "3f9a1c"])
                    try await Self.emit(
                        queue, type: "create-account", fields: ["email": "a@b.io", "otpCode": "<script>"])
                    try await Self.emit(queue, type: "newsletter", fields: ["email": "a@b.io"])
                    try await eventually("three dead letters") { try await Self.deadLetters(harness).count == 3 }
                    let reasons = try await Self.deadLetters(harness).compactMap(\.reason)
                    #expect(reasons.contains { $0.contains("data.email is not one valid address") })
                    #expect(reasons.contains { $0.contains("data.otpCode is not a short code") })
                    #expect(reasons.contains { $0.contains("Unknown email type request: newsletter") })
                    #expect(
                        try await Self.deadLetters(harness).allSatisfy { $0.kind == "permanent" && $0.retryCount == 0 })
                    let received = try peer.mails()
                    #expect(received.isEmpty)
                }
                await smtp.shutdown()
            }
        }
    }

    @Test func transientRefusalIsRetriedThenDelivered() async throws {
        try await BrokerLock.shared {
            try await SMTPPeer.with("flaky", failures: 2) { peer in
                let (worker, smtp) = try await Self.worker(port: peer.port)
                let queue = TestEnvironment.uniqueName("test.email")
                try await MessagingHarness.run(
                    queue: queue, retry: Self.retry, handlers: [worker.makeHandler()],
                    afterShutdown: QueueConsumerIntegrationTests.expectNothingLeft
                ) { harness in
                    try await Self.emit(
                        queue, type: "forgot-password-verify", fields: ["email": "a@b.io", "otpCode": "ab12cd"])
                    let mails = try await peer.waitForMails(1)
                    #expect(mails.count == 1)
                    #expect(mails.first?.plainText.contains("ab12cd") == true)
                    #expect(try await Self.deadLetters(harness).isEmpty)
                }
                await smtp.shutdown()
            }
        }
    }

    @Test func permanentRefusalDeadLettersAtOnceWithTheReply() async throws {
        try await BrokerLock.shared {
            try await SMTPPeer.with("reject") { peer in
                let (worker, smtp) = try await Self.worker(port: peer.port)
                let queue = TestEnvironment.uniqueName("test.email")
                try await MessagingHarness.run(
                    queue: queue, retry: Self.retry, handlers: [worker.makeHandler()],
                    afterShutdown: QueueConsumerIntegrationTests.expectNothingLeft
                ) { harness in
                    try await Self.emit(
                        queue, type: "fingerprint-verify", fields: ["email": "gone@b.io", "otpCode": "ab12cd"])
                    try await eventually("a dead letter") { try await Self.deadLetters(harness).count == 1 }
                    let letter = try #require(try await Self.deadLetters(harness).first)
                    #expect(letter.kind == "permanent")
                    #expect(letter.retryCount == 0)
                    #expect(letter.reason?.contains("550 5.1.1 <gone@b.io>: Recipient address rejected") == true)
                }
                await smtp.shutdown()
            }
        }
    }

    @Test func serverDownLongerThanTheRetriesDeadLettersAndReplayDelivers() async throws {
        try await BrokerLock.shared {
            let reserved = try ReservedPort()
            let (worker, smtp) = try await Self.worker(port: reserved.port)
            let queue = TestEnvironment.uniqueName("test.email")
            try await MessagingHarness.run(
                queue: queue, retry: Self.retry, handlers: [worker.makeHandler()],
                afterShutdown: QueueConsumerIntegrationTests.expectNothingLeft
            ) { harness in
                try await Self.emit(
                    queue, type: "username-change-verify", fields: ["email": "a@b.io", "otpCode": "9f8e7d"])
                try await eventually("a dead letter after the retries") {
                    try await Self.deadLetters(harness).count == 1
                }
                let letter = try #require(try await Self.deadLetters(harness).first)
                #expect(letter.kind == "retries_exhausted")
                #expect(letter.retryCount == Self.retry.maxRetries)
                #expect(letter.reason?.contains("connectionFailed") == true)

                // The server comes back; replaying the dead letter delivers the mail.
                reserved.release()
                // Another process may take the freed port for a moment (an outgoing connection's
                // ephemeral port): try again for a while rather than fail on EADDRINUSE.
                var started: SMTPPeer?
                for attempt in 1...20 {
                    do {
                        started = try await SMTPPeer.start("plain", port: reserved.port)
                        break
                    } catch  where attempt < 20 {
                        try await Task.sleep(for: .milliseconds(500))
                    }
                }
                let peer = try #require(started)
                do {
                    let replayed = try await DeadLetterQueue(client: harness.client, topology: harness.topology)
                        .replay()
                    #expect(replayed == 1)
                    let mails = try await peer.waitForMails(1)
                    #expect(mails.first?.subject == "Username Change Request - Verify Your Identity")
                    #expect(mails.first?.plainText.contains("9f8e7d") == true)
                    #expect(try await Self.deadLetters(harness).isEmpty)
                } catch {
                    await peer.stop()
                    throw error
                }
                await peer.stop()
            }
            await smtp.shutdown()
        }
    }
}
