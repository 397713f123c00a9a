/// Every RedisClient failure: what kind, and the server's error text when it sent one.
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The server answered `-ERR`, `-WRONGTYPE`, ... (see ``RedisError/message``).
        case server
        case connectionFailed
        case connectionClosed
        case timeout
        case authenticationFailed
        case protocolViolation
        case invalidURI
        /// The server does not speak RESP3 (`HELLO 3`), which pub/sub here needs.
        case unsupported
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
