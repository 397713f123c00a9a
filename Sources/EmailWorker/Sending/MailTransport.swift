import SMTPClient

/// Where rendered mails go: the pooled ``SMTPClient`` in production.
public protocol MailTransport: Sendable {
    /// Sends one message; returns the server's acceptance reply.
    ///
    /// - Throws: ``SMTPError`` (transient or permanent) or any other error (treated as transient).
    func send(_ message: SMTPMessage) async throws -> SMTPReply
}

extension SMTPClient: MailTransport {}
