import AMQPProtocol

/// Every failure of the AMQP client, as one type: what happened (``code``), the broker's reply code
/// and text when the broker said it, and the underlying error when there is one.
///
/// Descriptions never contain credentials or message bodies.
public struct AMQPClientError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case invalidURI
            case connectionFailed
            case authenticationFailed
            case connectionClosedByServer
            case connectionClosed
            case connectionLost
            case heartbeatTimeout
            case channelClosedByServer
            case channelClosed
            case protocolViolation
            case timeout
            case publishNacked
            case unroutable
            case consumerCancelled
            case notConnected
            case tooManyChannels
            case invalidArgument
        }

        let base: Base

        /// The `amqp://` or `amqps://` URI could not be parsed; ``AMQPClientError/message`` names the part.
        public static let invalidURI = Code(base: .invalidURI)
        /// The TCP or TLS connection to the broker could not be set up.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The broker refused the user name or password (or the SASL mechanism).
        public static let authenticationFailed = Code(base: .authenticationFailed)
        /// The broker sent `connection.close` (see ``AMQPClientError/replyCode``).
        public static let connectionClosedByServer = Code(base: .connectionClosedByServer)
        /// The connection was closed by this client.
        public static let connectionClosed = Code(base: .connectionClosed)
        /// The socket closed without a `connection.close`.
        public static let connectionLost = Code(base: .connectionLost)
        /// Nothing was received for two heartbeat intervals.
        public static let heartbeatTimeout = Code(base: .heartbeatTimeout)
        /// The broker sent `channel.close` (see ``AMQPClientError/replyCode``); only that channel is gone.
        public static let channelClosedByServer = Code(base: .channelClosedByServer)
        /// The channel was closed by this client.
        public static let channelClosed = Code(base: .channelClosed)
        /// The broker sent a frame or answer AMQP 0-9-1 does not allow at that point; the connection is closed.
        public static let protocolViolation = Code(base: .protocolViolation)
        /// The connection and handshake did not finish within `connectionTimeout`.
        public static let timeout = Code(base: .timeout)
        /// The broker answered a publish with `basic.nack`.
        public static let publishNacked = Code(base: .publishNacked)
        /// A mandatory publish was returned: no queue is bound for its routing key.
        public static let unroutable = Code(base: .unroutable)
        /// The broker cancelled the consumer (e.g. its queue was deleted).
        public static let consumerCancelled = Code(base: .consumerCancelled)
        /// No connection is open and none came up within the wait allowed.
        public static let notConnected = Code(base: .notConnected)
        /// Every channel number up to the negotiated `channel_max` is in use.
        public static let tooManyChannels = Code(base: .tooManyChannels)
        /// A method could not be encoded (e.g. a name over 255 bytes); nothing was sent.
        public static let invalidArgument = Code(base: .invalidArgument)

        /// The code's name, e.g. `connectionLost`, for logs.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The broker's reply code (e.g. 404 NOT_FOUND, 406 PRECONDITION_FAILED), when it sent one.
    public var replyCode: UInt16?
    /// The broker's reply text, when it sent one.
    public var replyText: String?
    /// A short explanation from the client.
    public var message: String?
    /// The error that caused this one.
    public var underlying: (any Error)?

    init(
        _ code: Code,
        replyCode: UInt16? = nil,
        replyText: String? = nil,
        message: String? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.replyCode = replyCode
        self.replyText = replyText
        self.message = message
        self.underlying = underlying
    }

    static func closedByServer(_ close: AMQPClose, channel: Bool) -> AMQPClientError {
        AMQPClientError(
            channel ? .channelClosedByServer : .connectionClosedByServer,
            replyCode: close.replyCode,
            replyText: close.replyText
        )
    }

    /// Whether retrying later on a new connection or channel may succeed (network, timeouts,
    /// broker-side resource errors), as opposed to a request the broker will always refuse.
    public var isTransient: Bool {
        switch self.code.base {
        case .connectionFailed, .connectionLost, .heartbeatTimeout, .timeout, .notConnected, .connectionClosed,
            .channelClosed, .publishNacked, .consumerCancelled:
            return true
        case .connectionClosedByServer, .channelClosedByServer:
            // 320 CONNECTION_FORCED, 505/506 resource errors and 541 INTERNAL_ERROR are transient;
            // 403, 404, 405, 406 and other soft/hard errors are the request's fault.
            return [320, 506, 541].contains(self.replyCode ?? 0)
        case .invalidURI, .authenticationFailed, .protocolViolation, .unroutable, .tooManyChannels, .invalidArgument:
            return false
        }
    }

    /// The code, reply code and text, message and underlying error in one line; no credentials or bodies.
    public var description: String {
        var text = "AMQP \(self.code)"
        if let replyCode {
            text += " \(replyCode)"
        }
        if let replyText {
            text += " \(replyText)"
        }
        if let message {
            text += ": \(message)"
        }
        if let underlying {
            text += " (\(underlying))"
        }
        return text
    }
}
