import Foundation
import NIOSSL
import SMTPClient
import Testing

/// The SMTP client against real aiosmtpd servers started by the tests (plain, STARTTLS + AUTH,
/// implicit TLS, failing on purpose); what arrived is read back through Python's email parser.
@Suite("SMTP client against aiosmtpd")
struct SMTPClientIntegrationTests {
    static func configuration(
        _ peer: SMTPPeer, tls: SMTPSessionSettings.TLSMode = .startTLSIfOffered, credentials: SMTPCredentials? = nil,
        trustPeer: Bool = true
    ) -> SMTPConfiguration {
        var configuration = SMTPConfiguration(
            host: peer.mode == "secure" || peer.mode == "implicit" ? "localhost" : "127.0.0.1",
            port: peer.port, tlsMode: tls, credentials: credentials, clientName: "decode-async.test",
            commandTimeout: .seconds(10), maxConnections: 2, maxMessagesPerConnection: 3, idleTimeout: .seconds(5))
        if trustPeer, FileManager.default.fileExists(atPath: peer.certificatePath) {
            configuration.tls.trustRoots = .file(peer.certificatePath)
        }
        return configuration
    }

    static func message(
        to recipient: String = "reader@example.org", subject: String = "Grüße – your code", text: String? = nil
    ) throws -> SMTPMessage {
        SMTPMessage(
            from: try SMTPAddress("noreply@decode.test"), fromName: "Decode Team", to: [try SMTPAddress(recipient)],
            subject: subject,
            text: text ?? ".leading dot\nline two\n" + String(repeating: "long ", count: 300) + "\n..two dots\n",
            html: "<p>Grüße <b>&amp;</b></p>\n<p>.dot</p>\n")
    }

    @Test func plainServerReceivesExactlyWhatWasSent() async throws {
        try await SMTPPeer.with("plain") { peer in
            let client = SMTPClient(configuration: Self.configuration(peer))
            let message = try Self.message()
            let reply = try await client.send(message)
            #expect(reply.code == 250)
            #expect(reply.enhancedCode == "2.0.0")
            await client.shutdown()
            let mail = try #require(try await peer.waitForMails(1).first)
            #expect(mail.mailFrom == "noreply@decode.test")
            #expect(mail.rcptTos == ["reader@example.org"])
            #expect(mail.subject == "Grüße – your code")
            #expect(mail.from == "Decode Team <noreply@decode.test>")
            #expect(mail.contentType == "multipart/alternative")
            #expect(mail.plainText == message.text)
            #expect(mail.htmlText == message.html)
            #expect(mail.date.hasSuffix("+0000"))
            #expect(mail.messageID.hasSuffix("@decode.test>"))
            #expect(!mail.bareLF)
            #expect(mail.longestLine <= 998)
            // aiosmtpd offers SIZE and 8BITMIME: both are used.
            #expect(mail.mailOptions.contains { $0.hasPrefix("SIZE=") })
            #expect(mail.mailOptions.contains("BODY=8BITMIME"))
            #expect(!mail.tls)
        }
    }

    @Test func quotedPrintablePartsDecodeToTheOriginalText() async throws {
        try await SMTPPeer.with("plain") { peer in
            var configuration = Self.configuration(peer)
            configuration.use8BitMIME = false
            let client = SMTPClient(configuration: configuration)
            let text = "Grüße = déjà vu \t\n" + String(repeating: "é", count: 200) + "\n.\n trailing space \n"
            let message = try Self.message(text: text)
            try await client.send(message)
            await client.shutdown()
            let mail = try #require(try await peer.waitForMails(1).first)
            #expect(mail.plainText == text)
            #expect(mail.htmlText == message.html)
            #expect(!mail.mailOptions.contains("BODY=8BITMIME"))
            #expect(mail.longestLine <= 78)
        }
    }

    @Test func pipelinedTransactionsAgainstAServerThatOffersPipelining() async throws {
        try await SMTPPeer.with("plain", pipelining: true) { peer in
            let connection = try await SMTPConnection.connect(configuration: Self.configuration(peer))
            #expect(connection.capabilities.pipelining)
            for index in 0..<3 {
                try await connection.send(try Self.message(subject: "pipelined \(index)"))
                try await connection.reset()
            }
            await connection.quit()
            let mails = try await peer.waitForMails(3)
            #expect(mails.map(\.subject) == ["pipelined 0", "pipelined 1", "pipelined 2"])
        }
        try await SMTPPeer.with("reject", pipelining: true) { peer in
            let connection = try await SMTPConnection.connect(configuration: Self.configuration(peer))
            let error = await #expect(throws: SMTPError.self) { try await connection.send(try Self.message()) }
            // The refused RCPT is the reason, not the DATA refusal that follows it in the pipeline.
            #expect(error?.reply?.code == 550)
            #expect(error?.isTransient == false)
            // The session is still usable after the failed transaction.
            try await connection.reset()
            await connection.quit()
        }
    }

    @Test func startTLSAndAuthWithAVerifiedCertificate() async throws {
        try await SMTPPeer.with("secure") { peer in
            let credentials = SMTPCredentials(user: "mailer", password: "s3cret-pw")
            let client = SMTPClient(
                configuration: Self.configuration(peer, tls: .startTLSRequired, credentials: credentials))
            try await client.verify()
            try await client.send(try Self.message())
            await client.shutdown()
            let mail = try #require(try await peer.waitForMails(1).first)
            #expect(mail.tls)
            #expect(mail.authenticated)
            #expect(mail.subject == "Grüße – your code")
        }
    }

    @Test func certificateVerificationRefusesAnUntrustedServerUnlessSwitchedOff() async throws {
        try await SMTPPeer.with("secure") { peer in
            let credentials = SMTPCredentials(user: "mailer", password: "s3cret-pw")
            let strict = SMTPClient(
                configuration: Self.configuration(
                    peer, tls: .startTLSRequired, credentials: credentials, trustPeer: false))
            let error = await #expect(throws: SMTPError.self) { try await strict.verify() }
            #expect(error?.code == .tlsFailed)
            var lax = Self.configuration(peer, tls: .startTLSRequired, credentials: credentials, trustPeer: false)
            lax.tls.certificateVerification = .none
            try await SMTPClient(configuration: lax).verify()
        }
    }

    @Test func wrongPasswordIsAPermanentAuthenticationFailure() async throws {
        try await SMTPPeer.with("secure") { peer in
            let client = SMTPClient(
                configuration: Self.configuration(
                    peer, tls: .startTLSRequired, credentials: SMTPCredentials(user: "mailer", password: "wrong")))
            let error = await #expect(throws: SMTPError.self) { try await client.send(try Self.message()) }
            #expect(error?.code == .authenticationFailed)
            #expect(error?.reply?.code == 535)
            #expect(error?.isTransient == false)
            #expect(error.map { "\($0)" }?.contains("wrong") == false)
            let received = try peer.mails()
            #expect(received.isEmpty)
        }
    }

    @Test func requiredTLSRefusesAServerWithoutStartTLS() async throws {
        try await SMTPPeer.with("plain") { peer in
            let client = SMTPClient(configuration: Self.configuration(peer, tls: .startTLSRequired))
            let error = await #expect(throws: SMTPError.self) { try await client.send(try Self.message()) }
            #expect(error?.code == .tlsRequired)
            let received = try peer.mails()
            #expect(received.isEmpty)
        }
    }

    @Test func implicitTLSFromTheFirstByte() async throws {
        try await SMTPPeer.with("implicit") { peer in
            let client = SMTPClient(configuration: Self.configuration(peer, tls: .implicit))
            try await client.send(try Self.message())
            await client.shutdown()
            let mail = try #require(try await peer.waitForMails(1).first)
            #expect(mail.tls)
        }
    }

    @Test func poolReusesConnectionsUpToTheMessageLimit() async throws {
        try await SMTPPeer.with("plain") { peer in
            let client = SMTPClient(configuration: Self.configuration(peer))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<7 {
                    group.addTask {
                        try await client.send(try Self.message(subject: "message \(index)", text: "n\(index)\n"))
                    }
                }
                try await group.waitForAll()
            }
            // One more after the burst: an idle connection is reused (after RSET).
            try await client.send(try Self.message(subject: "message 7", text: "n7\n"))
            await client.shutdown()
            let mails = try await peer.waitForMails(8)
            #expect(Set(mails.map(\.subject)) == Set((0..<8).map { "message \($0)" }))
            let perConnection = Dictionary(grouping: mails, by: { $0.clientPort ?? -1 }).mapValues(\.count)
            #expect(perConnection.values.allSatisfy { $0 <= 3 }, "\(perConnection)")
            #expect(perConnection.count >= 3)
            #expect(perConnection.values.contains { $0 > 1 }, "connections are reused: \(perConnection)")
        }
    }

    @Test func transientAndPermanentRepliesKeepCodeAndText() async throws {
        try await SMTPPeer.with("flaky", failures: 1) { peer in
            let client = SMTPClient(configuration: Self.configuration(peer))
            let error = await #expect(throws: SMTPError.self) { try await client.send(try Self.message()) }
            #expect(error?.isTransient == true)
            #expect(error?.reply?.code == 451)
            #expect(error?.reply?.enhancedCode == "4.3.0")
            // The same pool sends the next attempt (RSET first) and the server now accepts it.
            try await client.send(try Self.message())
            await client.shutdown()
            #expect(try await peer.waitForMails(1).count == 1)
        }
        try await SMTPPeer.with("reject") { peer in
            let client = SMTPClient(configuration: Self.configuration(peer))
            let error = await #expect(throws: SMTPError.self) { try await client.send(try Self.message()) }
            #expect(error?.isTransient == false)
            #expect(error?.reply?.code == 550)
            #expect(
                error?.reply?.description.contains("5.1.1 <reader@example.org>: Recipient address rejected") == true)
            await client.shutdown()
        }
    }

    @Test func aServerThatIsDownIsATransientConnectionFailure() async throws {
        let reserved = try ReservedPort()
        defer { reserved.release() }
        let client = SMTPClient(
            configuration: SMTPConfiguration(host: "127.0.0.1", port: reserved.port, tlsMode: .startTLSIfOffered))
        let error = await #expect(throws: SMTPError.self) { try await client.verify() }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isTransient == true)
    }
}
