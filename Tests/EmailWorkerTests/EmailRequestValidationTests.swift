import Messaging
import SMTPClient
import Testing

@testable import EmailWorker

@Suite("Email request validation")
struct EmailRequestValidationTests {
    static func request(_ type: String?, email: String?, code: String? = nil) -> EmailRequest {
        EmailRequest(type: type, data: EmailRequest.Fields(email: email, otpCode: code))
    }

    @Test func acceptsEverySeededType() throws {
        for type in EmailType.allCases {
            let valid = try Self.request(type.rawValue, email: "a@b.io", code: type.requiresOTPCode ? "3f9a1c" : nil)
                .validated()
            #expect(valid.type == type)
            #expect(valid.recipient.address == "a@b.io")
        }
    }

    @Test func refusesPermanentlyWithAReason() {
        let cases: [(EmailRequest, String)] = [
            (Self.request(nil, email: "a@b.io"), "no type"),
            (Self.request("newsletter", email: "a@b.io"), "Unknown email type request: newsletter"),
            (Self.request("create-account", email: nil, code: "3f9a1c"), "data.email is missing"),
            (Self.request("create-account", email: "Alice <a@b.io>", code: "3f9a1c"), "not one valid address"),
            (Self.request("create-account", email: "a@b.io\r\nBcc: x@y.io", code: "3f9a1c"), "not one valid address"),
            (Self.request("create-account", email: "a@b.io, c@d.io", code: "3f9a1c"), "not one valid address"),
            (Self.request("create-account", email: "a@b.io"), "data.otpCode is missing"),
            (Self.request("fingerprint-verify", email: "a@b.io", code: "<script>"), "not a short code"),
            (
                Self.request("fingerprint-verify", email: "a@b.io", code: String(repeating: "a", count: 40)),
                "not a short code"
            ),
            (EmailRequest(type: "welcome-message", data: nil), "data.email is missing"),
        ]
        for (request, reason) in cases {
            do {
                _ = try request.validated()
                Issue.record("accepted \(request)")
            } catch {
                #expect(error.disposition == .permanent)
                #expect(error.reason.contains(reason), "\(error.reason)")
            }
        }
    }

    @Test func welcomeNeedsNoCode() throws {
        let valid = try Self.request("welcome-message", email: "a@b.io").validated()
        #expect(valid.otpCode == nil)
    }

    @Test func rateLimiterSpacesSlotsAndForgetsIdleTime() {
        let limiter = SendRateLimiter(perSecond: 4)
        let start = ContinuousClock.now + .seconds(1)
        let slots = (0..<3).map { _ in limiter.reserve(now: start) }
        #expect(slots == [start, start + .milliseconds(250), start + .milliseconds(500)])
        // After a quiet spell the next sender goes at once: no burst credit, no backlog.
        let later = start + .seconds(10)
        #expect(limiter.reserve(now: later) == later)
    }
}
