/// Every RedisClient failure: what kind, and the server's error text when it sent one.
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is. New kinds may come in later versions: compare with `==`, or
    /// `switch` with a `default`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case server
            case connectionFailed
            case connectionClosed
            case timeout
            case authenticationFailed
            case protocolViolation
            case invalidURI
            case unsupported
        }

        let base: Base

        /// The server answered `-ERR`, `-WRONGTYPE`, ... (see ``RedisError/message``).
        public static let server = Kind(base: .server)
        /// The TCP or TLS connection could not be set up.
        public static let connectionFailed = Kind(base: .connectionFailed)
        /// The connection closed (or could not be written to) before the reply arrived.
        public static let connectionClosed = Kind(base: .connectionClosed)
        /// No reply came within `commandTimeout`; that connection is closed.
        public static let timeout = Kind(base: .timeout)
        /// The server refused the user name or password (`WRONGPASS`, `NOAUTH`, `NOPERM`).
        public static let authenticationFailed = Kind(base: .authenticationFailed)
        /// The server sent bytes that are not valid RESP, or a reply nothing asked for.
        public static let protocolViolation = Kind(base: .protocolViolation)
        /// The `redis://` or `rediss://` URI could not be parsed; ``RedisError/message`` says why.
        public static let invalidURI = Kind(base: .invalidURI)
        /// The server does not speak RESP3 (`HELLO 3`), which pub/sub here needs.
        public static let unsupported = Kind(base: .unsupported)

        /// The kind's name, e.g. `timeout`, for logs.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The server's error text for `server` errors, otherwise the client's explanation; never a password.
    public var message: String

    /// Creates an error of `kind` with an explanation.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The server error's first word (`WRONGTYPE`, `NOAUTH`, `ERR`).
    public var serverCode: String? {
        self.kind == .server ? self.message.split(separator: " ").first.map(String.init) : nil
    }

    /// Whether trying again later may work.
    public var isRetryable: Bool {
        [.connectionFailed, .connectionClosed, .timeout].contains(self.kind)
            || ["LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN"].contains(self.serverCode ?? "")
    }

    /// The kind and message in one line, for logs.
    public var description: String { "Redis \(self.kind): \(self.message)" }
}
