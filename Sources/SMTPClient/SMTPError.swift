/// Every failure of the SMTP client: what went wrong, the server's reply when there was one, and
/// whether a later attempt may succeed. Its description never contains credentials or message bodies.
public struct SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is. New kinds may come in later versions: compare with `==`, or
    /// `switch` with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case connectionFailed
            case connectionClosed
            case timeout
            case tlsRequired
            case tlsFailed
            case authenticationFailed
            case rejected
            case protocolViolation
            case invalidMessage
            case messageTooLarge
            case shutdown
        }

        let base: Base

        /// The TCP connection could not be opened.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The server closed the connection (or it broke) before the exchange finished.
        public static let connectionClosed = Code(base: .connectionClosed)
        /// The server did not answer a step within its timeout.
        public static let timeout = Code(base: .timeout)
        /// TLS is required but the server does not offer STARTTLS.
        public static let tlsRequired = Code(base: .tlsRequired)
        /// The TLS handshake failed (certificate, host name, protocol).
        public static let tlsFailed = Code(base: .tlsFailed)
        /// AUTH was refused, or no mechanism both sides know is offered.
        public static let authenticationFailed = Code(base: .authenticationFailed)
        /// The server answered a command with a 4xx or 5xx reply.
        public static let rejected = Code(base: .rejected)
        /// The server broke the protocol (malformed or unexpected reply).
        public static let protocolViolation = Code(base: .protocolViolation)
        /// The message cannot be sent as it is: a header or address with CR, LF or NUL, no recipient.
        public static let invalidMessage = Code(base: .invalidMessage)
        /// The message is larger than the server's `SIZE` limit.
        public static let messageTooLarge = Code(base: .messageTooLarge)
        /// The client was shut down.
        public static let shutdown = Code(base: .shutdown)

        /// The code's name, e.g. `rejected`, for logs.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A log-safe explanation.
    public var message: String
    /// The server's reply that ended the exchange, if any.
    public var reply: SMTPReply?
    /// The error of the layer below (NIO, TLS), if any.
    public var underlying: (any Error)?

    /// Creates an error; `message` must be safe to log (no credentials, no message content).
    public init(_ code: Code, _ message: String, reply: SMTPReply? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.reply = reply
        self.underlying = underlying
    }

    /// Whether trying again later may succeed: 4xx replies, broken or timed-out connections, TLS
    /// handshakes that failed on the way; not 5xx replies, invalid messages or missing STARTTLS.
    public var isTransient: Bool {
        if let reply = self.reply {
            return !reply.isPermanentFailure
        }
        switch self.code.base {
        case .connectionFailed, .connectionClosed, .timeout, .tlsFailed, .protocolViolation, .shutdown:
            return true
        case .tlsRequired, .authenticationFailed, .rejected, .invalidMessage, .messageTooLarge:
            return false
        }
    }

    /// The code, message, server reply and underlying error in one log-safe line.
    public var description: String {
        var text = "SMTP \(self.code): \(self.message)"
        if let reply = self.reply {
            text += " (server: \(reply))"
        }
        if let underlying = self.underlying {
            text += " [\(underlying)]"
        }
        return text
    }

    /// Same code, message and reply (the underlying error is not compared).
    public static func == (lhs: SMTPError, rhs: SMTPError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.reply == rhs.reply
    }
}
