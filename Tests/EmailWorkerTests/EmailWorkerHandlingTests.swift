import Foundation
import Messaging
import MetricsTestKit
import NIOConcurrencyHelpers
import SMTPClient
import Testing

@testable import EmailWorker

/// A transport that records messages and answers with scripted outcomes.
final class ScriptedTransport: MailTransport {
    private let state: NIOLockedValueBox<(sent: [SMTPMessage], outcomes: [Result<SMTPReply, SMTPError>])>

    init(_ outcomes: [Result<SMTPReply, SMTPError>] = []) {
        self.state = NIOLockedValueBox(([], outcomes))
    }

    var sent: [SMTPMessage] { self.state.withLockedValue { $0.sent } }

    func send(_ message: SMTPMessage) async throws -> SMTPReply {
        let outcome = self.state.withLockedValue { state -> Result<SMTPReply, SMTPError> in
            state.sent.append(message)
            return state.outcomes.isEmpty ? .success(SMTPReply(code: 250, lines: ["ok"])) : state.outcomes.removeFirst()
        }
        return try outcome.get()
    }
}

@Suite("Email worker handling")
struct EmailWorkerHandlingTests {
    static func worker(
        _ transport: ScriptedTransport, ledger: any SentEmailLedger = InMemorySentEmailLedger(window: .seconds(60)),
        metrics: TestMetrics = TestMetrics()
    )
        async throws -> EmailRequestHandler
    {
        EmailRequestHandler(
            templates: try await EmailTemplates.load(),
            transport: transport,
            from: try SMTPAddress("noreply@decode.test"),
            fromName: "Decode",
            ledger: ledger,
            metricsFactory: metrics
        )
    }

    static let request = EmailRequest(type: "create-account", data: .init(email: "a@b.io", otpCode: "3f9a1c"))

    @Test func sendsTheRenderedMailFromTheConfiguredSender() async throws {
        let transport = ScriptedTransport()
        try await Self.worker(transport).handle(Self.request, idempotencyKey: UUID().uuidString)
        let message = try #require(transport.sent.first)
        #expect(message.from.address == "noreply@decode.test")
        #expect(message.fromName == "Decode")
        #expect(message.to.map(\.address) == ["a@b.io"])
        #expect(message.subject == "Verify Your Email - Create Your Decode Account")
        #expect(message.text.contains("3f9a1c"))
        #expect(message.html?.contains("3f9a1c") == true)
    }

    @Test func invalidRequestsFailPermanentlyWithoutSending() async throws {
        let transport = ScriptedTransport()
        let worker = try await Self.worker(transport)
        let error = await #expect(throws: MessageHandlingError.self) {
            try await worker.handle(
                EmailRequest(type: "nope", data: .init(email: "a@b.io")), idempotencyKey: UUID().uuidString)
        }
        #expect(error?.disposition == .permanent)
        #expect(transport.sent.isEmpty)
    }

    @Test func classifiesSMTPRepliesKeepingCodeAndText() async throws {
        let transient = SMTPError(
            .rejected, "the message was refused", reply: SMTPReply(code: 451, enhancedCode: "4.3.0", lines: ["busy"]))
        let permanent = SMTPError(
            .rejected, "a recipient was refused",
            reply: SMTPReply(code: 550, enhancedCode: "5.1.1", lines: ["no such user"]))
        let transport = ScriptedTransport([
            .failure(transient), .failure(permanent), .failure(SMTPError(.timeout, "no reply")),
        ])
        let worker = try await Self.worker(transport)
        for (disposition, text) in [
            (MessageHandlingError.Disposition.transient, "451 4.3.0 busy"), (.permanent, "550 5.1.1 no such user"),
            (.transient, "timeout"),
        ] {
            let error = await #expect(throws: MessageHandlingError.self) {
                try await worker.handle(Self.request, idempotencyKey: UUID().uuidString)
            }
            #expect(error?.disposition == disposition)
            #expect(error?.reason.contains(text) == true, "\(String(describing: error))")
        }
        #expect(transport.sent.count == 3, "a failed send frees its idempotency key for the retry")
    }

    @Test func aRedeliveredRequestIsNotSentTwiceWithinTheWindow() async throws {
        let transport = ScriptedTransport()
        let worker = try await Self.worker(transport)
        try await worker.handle(Self.request, idempotencyKey: "m-1")
        try await worker.handle(Self.request, idempotencyKey: "m-1")
        try await worker.handle(Self.request, idempotencyKey: "m-2")
        #expect(transport.sent.count == 2)
    }

    @Test func inMemoryLedgerForgetsAfterTheWindow() async throws {
        let clock = NIOLockedValueBox(ContinuousClock.now)
        let ledger = InMemorySentEmailLedger(window: .seconds(60), now: { clock.withLockedValue { $0 } })
        #expect(try await ledger.claim("k") == .claimed)
        #expect(try await ledger.claim("k") == .inProgress)
        try await ledger.markSent("k")
        clock.withLockedValue { $0 += .seconds(59) }
        #expect(try await ledger.claim("k") == .alreadySent)
        clock.withLockedValue { $0 += .seconds(2) }
        #expect(try await ledger.claim("k") == .claimed)
        try await ledger.release("k")
        #expect(try await ledger.claim("k") == .claimed)
    }

    @Test func countsSentFailedAndTemplateUsedWithTheEmailType() async throws {
        let metrics = TestMetrics()
        let refusal = SMTPError(.rejected, "busy", reply: SMTPReply(code: 451, lines: ["busy"]))
        let worker = try await Self.worker(ScriptedTransport([.failure(refusal)]), metrics: metrics)
        _ = try? await worker.handle(Self.request, idempotencyKey: "a")
        try await worker.handle(Self.request, idempotencyKey: "a")
        _ = try? await worker.handle(EmailRequest(type: "bogus", data: nil), idempotencyKey: "b")
        func total(_ label: String, _ tags: [(String, String)]) -> Int64 {
            metrics.counters(label: label)
                .filter { counter in tags.allSatisfy { tag in counter.dimensions.contains { $0 == tag } } }
                .reduce(0) { $0 + $1.totalValue }
        }
        let type = ("email_type", "create-account")
        #expect(total("email.sent", [type, ("status", "success")]) == 1)
        #expect(total("email.failed", [type, ("status", "failed")]) == 1)
        #expect(total("email.failed", [("email_type", "unknown"), ("status", "failed")]) == 1)
        #expect(total("email.template.used", [type, ("template", "create-account")]) == 2)
        let timers = metrics.timers(label: "email.processing.duration")
        #expect(timers.contains { $0.dimensions.contains { $0 == ("status", "success") } && !$0.values.isEmpty })
        #expect(timers.contains { $0.dimensions.contains { $0 == ("status", "failed") } && !$0.values.isEmpty })
    }
}
