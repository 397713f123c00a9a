import NIOCore

/// Mail transactions, RSET and QUIT (RFC 5321 3.3, RFC 2920 pipelining).
extension SMTPStateMachine {
    /// Starts a mail transaction; with PIPELINING MAIL, RCPT and DATA go out together (RFC 2920).
    public mutating func sendMail(_ transaction: SMTPTransaction) -> Action {
        guard case .ready(let capabilities) = self.state else {
            return .fail(SMTPError(.protocolViolation, "the connection is not ready for a new message"), close: false)
        }
        guard !transaction.recipients.isEmpty else {
            return .fail(SMTPError(.invalidMessage, "the message has no recipient"), close: false)
        }
        if let limit = capabilities.sizeLimit, transaction.content.readableBytes > limit {
            return .fail(
                SMTPError(
                    .messageTooLarge,
                    "the message has \(transaction.content.readableBytes) bytes; the server accepts \(limit)"
                ),
                close: false
            )
        }
        var parameters: [String] = []
        if capabilities.sizeAnnounced {
            parameters.append("SIZE=\(transaction.content.readableBytes)")
        }
        if transaction.eightBit, capabilities.eightBitMIME {
            parameters.append("BODY=8BITMIME")
        }
        let mail = SMTPCommand.mailFrom(transaction.from, parameters: parameters)
        let steps = [TransactionStep.mailFrom] + transaction.recipients.map { .rcptTo($0) } + [.data]
        if capabilities.pipelining {
            self.state = .transaction(capabilities, expected: steps, failure: nil, content: transaction.content)
            return .send([mail] + transaction.recipients.map { .rcptTo($0) } + [.data])
        }
        self.state = .transaction(capabilities, expected: steps, failure: nil, content: transaction.content)
        return .send([mail])
    }

    mutating func transactionReplyReceived(
        _ reply: SMTPReply,
        capabilities: SMTPCapabilities,
        expected: [TransactionStep],
        failure: SMTPError?,
        content: ByteBuffer
    ) -> Action {
        guard let step = expected.first else {
            return self.failAndClose(
                SMTPError(.protocolViolation, "a reply arrived when none was expected", reply: reply))
        }
        var rest = Array(expected.dropFirst())
        let pipelined = capabilities.pipelining
        switch step {
        case .mailFrom, .rcptTo:
            var failure = failure
            if !reply.isPositiveCompletion, failure == nil {
                let what = step == .mailFrom ? "the sender was refused" : "a recipient was refused"
                failure = SMTPError(.rejected, what, reply: reply)
            }
            if pipelined {
                self.state = .transaction(capabilities, expected: rest, failure: failure, content: content)
                return .wait
            }
            if let failure {
                // Nothing else was sent: the transaction ends here; RSET before the next one.
                self.state = .ready(capabilities)
                return .fail(failure, close: false)
            }
            self.state = .transaction(capabilities, expected: rest, failure: nil, content: content)
            switch rest.first {
            case .rcptTo(let address): return .send([.rcptTo(address)])
            case .data: return .send([.data])
            case .mailFrom, .content, nil:
                return self.failAndClose(SMTPError(.protocolViolation, "transaction steps out of order"))
            }

        case .data:
            if reply.code == 354 {
                if let failure {
                    // Pipelined and DATA accepted although MAIL or a RCPT failed: end the empty message.
                    var terminator = ByteBuffer()
                    terminator.writeString(".\r\n")
                    rest = [.content]
                    self.state = .transaction(capabilities, expected: rest, failure: failure, content: terminator)
                    return .sendContent(terminator)
                }
                self.state = .transaction(capabilities, expected: [.content], failure: nil, content: content)
                return .sendContent(content)
            }
            self.state = .ready(capabilities)
            return .fail(failure ?? SMTPError(.rejected, "DATA was refused", reply: reply), close: false)

        case .content:
            self.state = .ready(capabilities)
            if let failure {
                return .fail(failure, close: false)
            }
            guard reply.isPositiveCompletion else {
                return .fail(SMTPError(.rejected, "the message was refused", reply: reply), close: false)
            }
            return .succeed(.mail(reply))
        }
    }

    /// `RSET`: clears any transaction state before the next message on a reused connection.
    public mutating func reset() -> Action {
        guard case .ready(let capabilities) = self.state else {
            return .fail(SMTPError(.protocolViolation, "the connection is not ready for RSET"), close: false)
        }
        self.state = .resetting(capabilities)
        return .send([.rset])
    }

    /// `QUIT`, then close.
    public mutating func quit() -> Action {
        switch self.state {
        case .closed:
            return .succeed(.quit)
        case .ready:
            self.state = .quitting
            return .send([.quit])
        case .awaitingGreeting, .ehlo, .helo, .startTLS, .tlsHandshake, .authenticating, .transaction, .resetting,
            .quitting:
            self.state = .closed
            return .close
        }
    }
}
