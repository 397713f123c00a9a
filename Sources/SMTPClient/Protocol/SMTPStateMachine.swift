import NIOCore

/// One mail transaction: the envelope and the DATA content, already dot-stuffed and terminated.
public struct SMTPTransaction: Sendable, Equatable {
    /// The envelope sender sent in MAIL FROM (where bounces go); a bare address.
    public var from: String
    /// The envelope recipients, one RCPT TO each: the addresses the message is delivered to.
    public var recipients: [String]
    /// What follows DATA, ending with `CRLF . CRLF`.
    public var content: ByteBuffer
    /// Adds `BODY=8BITMIME` to MAIL FROM (when the server offers it).
    public var eightBit: Bool

    /// Creates a transaction from an envelope and already dot-stuffed content.
    public init(from: String, recipients: [String], content: ByteBuffer, eightBit: Bool) {
        self.from = from
        self.recipients = recipients
        self.content = content
        self.eightBit = eightBit
    }
}

/// What an operation of the connection ended with.
public enum SMTPCompletion: Sendable, Equatable {
    /// Greeting, EHLO (or HELO), STARTTLS and AUTH are done.
    case handshake(SMTPCapabilities)
    /// The server accepted the message (the reply to the final dot).
    case mail(SMTPReply)
    /// RSET was accepted: the connection is ready for the next transaction.
    case reset
    /// The session ended (QUIT answered, or the connection was already closed).
    case quit
}

/// The SMTP client session as a value type (RFC 5321, 3207, 4954, 2920): it is told what arrived
/// and answers what to do. It never touches a socket, so every path is tested without I/O.
public struct SMTPStateMachine: Sendable {
    /// What the channel handler must do next.
    public enum Action: Sendable, Equatable {
        /// Write these commands; one reply is awaited per command.
        case send([SMTPCommand])
        /// Write the DATA content (one reply awaited).
        case sendContent(ByteBuffer)
        /// Put TLS in front of the pipeline, then call ``tlsEstablished()``.
        case startTLS
        /// Complete the operation in flight.
        case succeed(SMTPCompletion)
        /// Fail the operation in flight; close the connection when `close` is true.
        case fail(SMTPError, close: Bool)
        /// Close the connection (after QUIT, or a failure with nothing in flight).
        case close
        /// Nothing to do: wait for the next event.
        case wait
    }

    enum AuthStep: Sendable {
        case plain
        case loginUser
        case loginPassword
        case cramMD5
        /// Every response sent: only 235 or a refusal may follow.
        case awaitingResult
    }

    enum TransactionStep: Sendable, Equatable {
        case mailFrom
        case rcptTo(String)
        case data
        case content
    }

    enum State: Sendable {
        case awaitingGreeting
        case ehlo(afterTLS: Bool)
        case helo
        case startTLS(SMTPCapabilities)
        case tlsHandshake
        case authenticating(AuthStep, SMTPCapabilities)
        case ready(SMTPCapabilities)
        /// Replies still expected, in order; the first failure seen; content to send after 354.
        case transaction(SMTPCapabilities, expected: [TransactionStep], failure: SMTPError?, content: ByteBuffer)
        case resetting(SMTPCapabilities)
        case quitting
        case closed
    }

    /// Client name, TLS mode and credentials.
    public let settings: SMTPSessionSettings
    var state: State = .awaitingGreeting
    private(set) var tlsActive: Bool

    /// A session waiting for the server's greeting (after the TLS handshake when implicit).
    public init(settings: SMTPSessionSettings) {
        self.settings = settings
        self.tlsActive = settings.tls == .implicit
    }

    /// The capabilities after the handshake, while the connection is usable.
    public var capabilities: SMTPCapabilities? {
        switch self.state {
        case .ready(let capabilities): capabilities
        case .awaitingGreeting, .ehlo, .helo, .startTLS, .tlsHandshake, .authenticating, .transaction, .resetting,
            .quitting, .closed:
            nil
        }
    }

    // MARK: Replies

    /// A complete reply arrived.
    public mutating func replyReceived(_ reply: SMTPReply) -> Action {
        if reply.code == 421, !self.isQuitting {
            // The server is closing the channel (RFC 5321 3.8): whatever was in flight failed, transiently.
            self.state = .closed
            return .fail(SMTPError(.rejected, "the server is closing the connection", reply: reply), close: true)
        }
        switch self.state {
        case .awaitingGreeting:
            guard reply.code == 220 else {
                return self.failAndClose(SMTPError(.rejected, "the server refused the session", reply: reply))
            }
            self.state = .ehlo(afterTLS: self.tlsActive)
            return .send([.ehlo(self.settings.clientName)])

        case .ehlo:
            if reply.isPositiveCompletion {
                return self.afterGreeting(SMTPCapabilities(ehloReply: reply))
            }
            if reply.isPermanentFailure {
                // An old server without ESMTP: fall back to HELO.
                self.state = .helo
                return .send([.helo(self.settings.clientName)])
            }
            return self.failAndClose(SMTPError(.rejected, "EHLO was refused", reply: reply))

        case .helo:
            guard reply.isPositiveCompletion else {
                return self.failAndClose(SMTPError(.rejected, "HELO was refused", reply: reply))
            }
            return self.afterGreeting(SMTPCapabilities())

        case .startTLS(let capabilities):
            guard reply.code == 220 else {
                if self.settings.tls == .startTLSRequired {
                    return self.failAndClose(SMTPError(.tlsRequired, "STARTTLS was refused", reply: reply))
                }
                // Opportunistic: go on in plain text with what the server announced before.
                return self.authenticateOrFinish(capabilities)
            }
            self.state = .tlsHandshake
            return .startTLS

        case .authenticating(let step, let capabilities):
            return self.authReplyReceived(reply, step: step, capabilities: capabilities)

        case .transaction(let capabilities, let expected, let failure, let content):
            return self.transactionReplyReceived(
                reply, capabilities: capabilities, expected: expected, failure: failure, content: content)

        case .resetting(let capabilities):
            guard reply.isPositiveCompletion else {
                return self.failAndClose(SMTPError(.rejected, "RSET was refused", reply: reply))
            }
            self.state = .ready(capabilities)
            return .succeed(.reset)

        case .quitting:
            self.state = .closed
            return .succeed(.quit)

        case .tlsHandshake, .ready, .closed:
            return self.failAndClose(
                SMTPError(.protocolViolation, "a reply arrived when none was expected", reply: reply))
        }
    }

    private var isQuitting: Bool {
        if case .quitting = self.state { return true }
        return false
    }

    /// After EHLO/HELO: STARTTLS when wanted, else AUTH when configured and offered, else ready.
    private mutating func afterGreeting(_ capabilities: SMTPCapabilities) -> Action {
        if !self.tlsActive {
            switch self.settings.tls {
            case .startTLSRequired:
                guard capabilities.startTLS else {
                    return self.failAndClose(
                        SMTPError(.tlsRequired, "TLS is required but the server does not offer STARTTLS"))
                }
                self.state = .startTLS(capabilities)
                return .send([.startTLS])
            case .startTLSIfOffered where capabilities.startTLS:
                self.state = .startTLS(capabilities)
                return .send([.startTLS])
            case .none, .startTLSIfOffered, .implicit:
                break
            }
        }
        return self.authenticateOrFinish(capabilities)
    }

    private mutating func authenticateOrFinish(_ capabilities: SMTPCapabilities) -> Action {
        guard let credentials = self.settings.credentials, !credentials.user.isEmpty,
            !capabilities.authMechanisms.isEmpty
        else {
            self.state = .ready(capabilities)
            return .succeed(.handshake(capabilities))
        }
        guard let mechanism = SMTPAuthMechanism.choose(offered: capabilities.authMechanisms, tlsActive: self.tlsActive)
        else {
            return self.failAndClose(
                SMTPError(
                    .authenticationFailed,
                    "no AUTH mechanism in common (server offers \(capabilities.authMechanisms.sorted()))"
                )
            )
        }
        switch mechanism {
        case .plain:
            self.state = .authenticating(.plain, capabilities)
            return .send([
                .auth(mechanism: mechanism.rawValue, initialResponse: SMTPAuthMechanism.plainResponse(credentials))
            ])
        case .login:
            self.state = .authenticating(.loginUser, capabilities)
            return .send([.auth(mechanism: mechanism.rawValue, initialResponse: nil)])
        case .cramMD5:
            self.state = .authenticating(.cramMD5, capabilities)
            return .send([.auth(mechanism: mechanism.rawValue, initialResponse: nil)])
        }
    }

    private mutating func authReplyReceived(
        _ reply: SMTPReply, step: AuthStep, capabilities: SMTPCapabilities
    ) -> Action {
        if reply.code == 235 {
            self.state = .ready(capabilities)
            return .succeed(.handshake(capabilities))
        }
        guard reply.code == 334, let credentials = self.settings.credentials else {
            return self.failAndClose(SMTPError(.authenticationFailed, "the server refused the login", reply: reply))
        }
        switch step {
        case .plain, .awaitingResult:
            return self.failAndClose(
                SMTPError(.protocolViolation, "an unexpected AUTH challenge", reply: reply))
        case .loginUser:
            self.state = .authenticating(.loginPassword, capabilities)
            return .send([.authResponse(SMTPAuthMechanism.base64(credentials.user))])
        case .loginPassword:
            self.state = .authenticating(.awaitingResult, capabilities)
            return .send([.authResponse(SMTPAuthMechanism.base64(credentials.password))])
        case .cramMD5:
            guard let response = SMTPAuthMechanism.cramMD5Response(challenge: reply.text, credentials: credentials)
            else {
                return self.failAndClose(SMTPError(.protocolViolation, "the CRAM-MD5 challenge is not base64"))
            }
            self.state = .authenticating(.awaitingResult, capabilities)
            return .send([.authResponse(response)])
        }
    }

    // MARK: TLS

    /// The TLS handshake after STARTTLS (or the implicit one) succeeded: EHLO again (RFC 3207 4.2).
    public mutating func tlsEstablished() -> Action {
        guard case .tlsHandshake = self.state else {
            return self.failAndClose(SMTPError(.protocolViolation, "TLS came up at an unexpected moment"))
        }
        self.tlsActive = true
        self.state = .ehlo(afterTLS: true)
        return .send([.ehlo(self.settings.clientName)])
    }

    // MARK: Failures

    /// The step's timer fired before its reply.
    public mutating func timedOut() -> Action {
        self.failAndClose(SMTPError(.timeout, "no reply from the server in time (\(self.stepName))"))
    }

    /// The channel reported an error (decoder, TLS, socket).
    public mutating func errorCaught(_ error: SMTPError) -> Action {
        self.failAndClose(error)
    }

    /// The connection closed.
    public mutating func closed() -> Action {
        switch self.state {
        case .quitting:
            self.state = .closed
            return .succeed(.quit)
        case .closed:
            return .wait
        case .ready:
            self.state = .closed
            return .wait
        case .awaitingGreeting, .ehlo, .helo, .startTLS, .tlsHandshake, .authenticating, .transaction, .resetting:
            let step = self.stepName
            self.state = .closed
            return .fail(SMTPError(.connectionClosed, "the server closed the connection (\(step))"), close: false)
        }
    }

    /// Whether the connection can take another operation.
    public var isUsable: Bool {
        if case .ready = self.state { return true }
        return false
    }

    mutating func failAndClose(_ error: SMTPError) -> Action {
        self.state = .closed
        return .fail(error, close: true)
    }

    /// The step waiting for a reply, for errors.
    var stepName: String {
        switch self.state {
        case .awaitingGreeting: "greeting"
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .startTLS: "STARTTLS"
        case .tlsHandshake: "TLS handshake"
        case .authenticating: "AUTH"
        case .ready: "idle"
        case .transaction(_, let expected, _, _):
            switch expected.first {
            case .mailFrom: "MAIL FROM"
            case .rcptTo: "RCPT TO"
            case .data: "DATA"
            case .content, nil: "end of data"
            }
        case .resetting: "RSET"
        case .quitting: "QUIT"
        case .closed: "closed"
        }
    }

    /// Whether the step in flight is the end of DATA (it gets the longer timeout).
    public var awaitingEndOfData: Bool {
        if case .transaction(_, let expected, _, _) = self.state, expected.first == .content { return true }
        return false
    }
}
