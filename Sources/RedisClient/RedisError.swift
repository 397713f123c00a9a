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
        public static let connectionFailed = Kind(base: .connectionFailed)
        public static let connectionClosed = Kind(base: .connectionClosed)
        public static let timeout = Kind(base: .timeout)
        public static let authenticationFailed = Kind(base: .authenticationFailed)
        public static let protocolViolation = Kind(base: .protocolViolation)
        public static let invalidURI = Kind(base: .invalidURI)
        /// The server does not speak RESP3 (`HELLO 3`), which pub/sub here needs.
        public static let unsupported = Kind(base: .unsupported)

        public var description: String { self.base.rawValue }
    }

    public var kind: Kind
    public var message: String

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

    public var description: String { "Redis \(self.kind): \(self.message)" }
}
