import NIOCore
import Testing

@testable import SMTPClient

@Suite("SMTP state machine")
struct SMTPStateMachineTests {
    static let credentials = SMTPCredentials(user: "mailer", password: "s3cret")

    static func reply(_ code: Int, _ lines: String...) -> SMTPReply {
        SMTPReply(code: code, lines: lines.isEmpty ? [""] : lines)
    }

    static func machine(tls: SMTPSessionSettings.TLSMode, credentials: SMTPCredentials? = nil) -> SMTPStateMachine {
        SMTPStateMachine(settings: SMTPSessionSettings(clientName: "worker.test", tls: tls, credentials: credentials))
    }

    static func transaction(_ recipients: [String] = ["a@b.io"]) -> SMTPTransaction {
        SMTPTransaction(
            from: "noreply@decode.test", recipients: recipients,
            content: ByteBuffer(string: "Subject: x\r\n\r\nhi\r\n.\r\n"),
            eightBit: false)
    }

    @Test func plainHandshakeWithoutAuthIsReadyAfterEhlo() {
        var machine = Self.machine(tls: .none)
        #expect(machine.replyReceived(Self.reply(220, "sink ready")) == .send([.ehlo("worker.test")]))
        let ehlo = Self.reply(250, "sink", "PIPELINING", "8BITMIME")
        #expect(machine.replyReceived(ehlo) == .succeed(.handshake(SMTPCapabilities(ehloReply: ehlo))))
        #expect(machine.isUsable)
    }

    @Test func fallsBackToHeloWhenEhloIsUnknown() {
        var machine = Self.machine(tls: .startTLSIfOffered)
        _ = machine.replyReceived(Self.reply(220))
        #expect(machine.replyReceived(Self.reply(502, "command not implemented")) == .send([.helo("worker.test")]))
        #expect(machine.replyReceived(Self.reply(250, "hello")) == .succeed(.handshake(SMTPCapabilities())))
    }

    @Test func requiredTLSFailsWhenStartTLSIsNotOffered() {
        var machine = Self.machine(tls: .startTLSRequired)
        _ = machine.replyReceived(Self.reply(220))
        guard case .fail(let error, close: true) = machine.replyReceived(Self.reply(250, "sink", "PIPELINING")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .tlsRequired)
        #expect(!error.isTransient)
    }

    @Test func startTLSThenEhloAgainThenAuthPlain() {
        var machine = Self.machine(tls: .startTLSRequired, credentials: Self.credentials)
        _ = machine.replyReceived(Self.reply(220))
        #expect(machine.replyReceived(Self.reply(250, "srv", "STARTTLS", "AUTH LOGIN")) == .send([.startTLS]))
        #expect(machine.replyReceived(Self.reply(220, "go ahead")) == .startTLS)
        #expect(machine.tlsEstablished() == .send([.ehlo("worker.test")]))
        // Over TLS, PLAIN is preferred when offered: one round trip.
        let plain = SMTPAuthMechanism.plainResponse(Self.credentials)
        #expect(
            machine.replyReceived(Self.reply(250, "srv", "AUTH LOGIN PLAIN CRAM-MD5"))
                == .send([.auth(mechanism: "PLAIN", initialResponse: plain)]))
        #expect(plain == "AG1haWxlcgBzM2NyZXQ=")
        guard case .succeed(.handshake) = machine.replyReceived(Self.reply(235, "2.7.0 ok")) else {
            Issue.record("expected the handshake to complete")
            return
        }
    }

    @Test func opportunisticTLSGoesOnInPlainWhenStartTLSIsRefused() {
        var machine = Self.machine(tls: .startTLSIfOffered)
        _ = machine.replyReceived(Self.reply(220))
        let ehlo = Self.reply(250, "srv", "STARTTLS", "SIZE 100")
        #expect(machine.replyReceived(ehlo) == .send([.startTLS]))
        #expect(
            machine.replyReceived(Self.reply(454, "TLS not available"))
                == .succeed(.handshake(SMTPCapabilities(ehloReply: ehlo))))
    }

    @Test func authLoginAnswersBothChallenges() {
        var machine = Self.machine(tls: .implicit, credentials: Self.credentials)
        _ = machine.replyReceived(Self.reply(220))
        #expect(
            machine.replyReceived(Self.reply(250, "srv", "AUTH=LOGIN"))
                == .send([.auth(mechanism: "LOGIN", initialResponse: nil)]))
        #expect(machine.replyReceived(Self.reply(334, "VXNlcm5hbWU6")) == .send([.authResponse("bWFpbGVy")]))
        #expect(machine.replyReceived(Self.reply(334, "UGFzc3dvcmQ6")) == .send([.authResponse("czNjcmV0")]))
        guard case .succeed(.handshake) = machine.replyReceived(Self.reply(235)) else {
            Issue.record("expected the handshake to complete")
            return
        }
    }

    @Test func cramMD5IsPreferredWithoutTLSAndMatchesRFC2195() {
        // RFC 2195's example: user tim, password tanstaaftanstaaf.
        let credentials = SMTPCredentials(user: "tim", password: "tanstaaftanstaaf")
        var machine = Self.machine(tls: .startTLSIfOffered, credentials: credentials)
        _ = machine.replyReceived(Self.reply(220))
        #expect(
            machine.replyReceived(Self.reply(250, "srv", "AUTH PLAIN LOGIN CRAM-MD5"))
                == .send([.auth(mechanism: "CRAM-MD5", initialResponse: nil)]))
        let challenge = "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"
        #expect(
            machine.replyReceived(Self.reply(334, challenge))
                == .send([.authResponse("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw")]))
    }

    @Test func refusedLoginFailsPermanentlyWithTheReply() {
        var machine = Self.machine(tls: .implicit, credentials: Self.credentials)
        _ = machine.replyReceived(Self.reply(220))
        _ = machine.replyReceived(Self.reply(250, "srv", "AUTH PLAIN"))
        let refusal = SMTPReply(code: 535, enhancedCode: "5.7.8", lines: ["bad credentials"])
        guard case .fail(let error, close: true) = machine.replyReceived(refusal) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .authenticationFailed)
        #expect(error.reply == refusal)
        #expect(!error.isTransient)
        #expect(!"\(error)".contains("s3cret"))
    }

    @Test func authIsSkippedWhenTheServerOffersNone() {
        var machine = Self.machine(tls: .none, credentials: Self.credentials)
        _ = machine.replyReceived(Self.reply(220))
        #expect(machine.replyReceived(Self.reply(250, "sink")) == .succeed(.handshake(SMTPCapabilities())))
    }

    @Test func sendsOneCommandAtATimeWithoutPipelining() {
        var machine = Self.ready(["SIZE 1000"])
        let transaction = Self.transaction()
        let size = transaction.content.readableBytes
        #expect(
            machine.sendMail(transaction) == .send([.mailFrom("noreply@decode.test", parameters: ["SIZE=\(size)"])]))
        #expect(machine.replyReceived(Self.reply(250)) == .send([.rcptTo("a@b.io")]))
        #expect(machine.replyReceived(Self.reply(250)) == .send([.data]))
        #expect(machine.replyReceived(Self.reply(354)) == .sendContent(transaction.content))
        #expect(machine.awaitingEndOfData)
        let accepted = Self.reply(250, "queued as 1")
        #expect(machine.replyReceived(accepted) == .succeed(.mail(accepted)))
        #expect(machine.reset() == .send([.rset]))
        #expect(machine.replyReceived(Self.reply(250)) == .succeed(.reset))
    }

    @Test func pipelinesMailRcptAndData() {
        var machine = Self.ready(["PIPELINING", "8BITMIME"])
        var transaction = Self.transaction(["a@b.io", "c@d.io"])
        transaction.eightBit = true
        #expect(
            machine.sendMail(transaction)
                == .send([
                    .mailFrom("noreply@decode.test", parameters: ["BODY=8BITMIME"]), .rcptTo("a@b.io"),
                    .rcptTo("c@d.io"),
                    .data,
                ]))
        #expect(machine.replyReceived(Self.reply(250)) == .wait)
        #expect(machine.replyReceived(Self.reply(250)) == .wait)
        #expect(machine.replyReceived(Self.reply(250)) == .wait)
        #expect(machine.replyReceived(Self.reply(354)) == .sendContent(transaction.content))
        #expect(machine.replyReceived(Self.reply(250)) == .succeed(.mail(Self.reply(250))))
    }

    @Test func pipelinedRefusedRecipientEndsTheTransactionWithItsReply() {
        var machine = Self.ready(["PIPELINING"])
        _ = machine.sendMail(Self.transaction())
        #expect(machine.replyReceived(Self.reply(250)) == .wait)
        let refusal = SMTPReply(code: 550, enhancedCode: "5.1.1", lines: ["no such user"])
        #expect(machine.replyReceived(refusal) == .wait)
        guard case .fail(let error, close: false) = machine.replyReceived(Self.reply(554, "no valid recipients")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.reply == refusal)
        #expect(!error.isTransient)
        #expect(machine.isUsable)
    }

    @Test func transientRefusalOfTheContentIsTransient() {
        var machine = Self.ready([])
        _ = machine.sendMail(Self.transaction())
        _ = machine.replyReceived(Self.reply(250))
        _ = machine.replyReceived(Self.reply(250))
        _ = machine.replyReceived(Self.reply(354))
        guard case .fail(let error, close: false) = machine.replyReceived(Self.reply(451, "4.3.0 try again later"))
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.isTransient)
        #expect(error.reply?.code == 451)
    }

    @Test func refusesAMessageOverTheSizeLimitWithoutSendingIt() {
        var machine = Self.ready(["SIZE 10"])
        guard case .fail(let error, close: false) = machine.sendMail(Self.transaction()) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .messageTooLarge)
        #expect(machine.isUsable)
    }

    @Test func serviceClosingReplyFailsTransientlyAndCloses() {
        var machine = Self.ready([])
        _ = machine.sendMail(Self.transaction())
        guard case .fail(let error, close: true) = machine.replyReceived(Self.reply(421, "shutting down")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.isTransient)
    }

    @Test func timeoutAndCloseFailTransiently() {
        var machine = Self.ready([])
        _ = machine.sendMail(Self.transaction())
        guard case .fail(let error, close: true) = machine.timedOut() else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .timeout)
        #expect(error.isTransient)
        var other = Self.machine(tls: .none)
        guard case .fail(let closed, close: false) = other.closed() else {
            Issue.record("expected a failure")
            return
        }
        #expect(closed.code == .connectionClosed)
    }

    @Test func quitEndsTheSession() {
        var machine = Self.ready([])
        #expect(machine.quit() == .send([.quit]))
        #expect(machine.replyReceived(Self.reply(221)) == .succeed(.quit))
        #expect(!machine.isUsable)
    }

    @Test func unexpectedReplyIsAProtocolViolation() {
        var machine = Self.ready([])
        guard case .fail(let error, close: true) = machine.replyReceived(Self.reply(250)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .protocolViolation)
    }

    static func ready(_ extensions: [String]) -> SMTPStateMachine {
        var machine = Self.machine(tls: .none)
        _ = machine.replyReceived(Self.reply(220))
        let ehlo = SMTPReply(code: 250, lines: ["srv"] + extensions)
        _ = machine.replyReceived(ehlo)
        return machine
    }

    @Test func aReplyInjectedBehindTheStartTLSAnswerIsRefused() {
        // Plain-text bytes after "220 go ahead" would otherwise be read as if they came over TLS.
        var machine = Self.machine(tls: .startTLSRequired)
        _ = machine.replyReceived(Self.reply(220))
        _ = machine.replyReceived(Self.reply(250, "srv", "STARTTLS"))
        #expect(machine.replyReceived(Self.reply(220, "go ahead")) == .startTLS)
        guard case .fail(let error, close: true) = machine.replyReceived(Self.reply(250, "injected")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .protocolViolation)
    }
}
