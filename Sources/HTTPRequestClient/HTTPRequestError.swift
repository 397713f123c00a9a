/// Every HTTPRequestClient failure: what kind, an explanation and, when NIO gave one, the error
/// underneath.
public struct HTTPRequestError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. New kinds may come in later versions: compare with `==`, or
    /// `switch` with a `default`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        /// The kind's name, e.g. `timeout`, for logs.
        public let description: String

        /// The TCP connection or the TLS handshake failed: refused, unresolvable, an untrusted
        /// certificate, or not within the timeout (``HTTPRequestError/underlying`` holds NIO's error).
        public static let connectionFailed = Kind(description: "connectionFailed")
        /// The peer closed the connection, or it failed, before the whole answer arrived.
        public static let connectionClosed = Kind(description: "connectionClosed")
        /// No whole answer came within the timeout; the connection is closed.
        public static let timeout = Kind(description: "timeout")
        /// The answer's body is larger than the client's `bodyLimit`; the connection is closed
        /// without reading the rest.
        public static let bodyTooLarge = Kind(description: "bodyTooLarge")
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The client's explanation, e.g. `no answer within the timeout`; never a header or body.
    public var message: String
    /// NIO's error for `connectionFailed`, and for `connectionClosed` when the channel failed.
    public var underlying: (any Error)?

    /// Creates an error of `kind` with an explanation.
    public init(_ kind: Kind, _ message: String, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    /// The kind, message and underlying error in one line, for logs.
    public var description: String {
        "HTTP request \(self.kind): \(self.message)" + (self.underlying.map { " (\($0))" } ?? "")
    }
}
