/// Every BoltClient failure: what kind, the Neo4j status code when the server sent one, and a message.
/// Credentials never appear in it.
public struct BoltError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is. New kinds may come in later versions: compare with `==`, or
    /// `switch` with a `default`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case server
            case ignored
            case connectionFailed
            case connectionClosed
            case timeout
            case authenticationFailed
            case protocolViolation
            case invalidURI
            case unsupportedVersion
            case routing
            case poolClosed
            case typeMismatch
        }

        let base: Base

        /// The server answered FAILURE; ``BoltError/code`` holds its status code.
        public static let server = Kind(base: .server)
        /// The server ignored the request because an earlier one in the pipeline failed.
        public static let ignored = Kind(base: .ignored)
        /// The TCP or TLS connection to the server could not be set up.
        public static let connectionFailed = Kind(base: .connectionFailed)
        /// The connection closed (or broke) before the answer arrived.
        public static let connectionClosed = Kind(base: .connectionClosed)
        /// A request got no answer within `requestTimeout`; the connection is closed.
        public static let timeout = Kind(base: .timeout)
        /// The server refused the credentials (a `Neo.ClientError.Security.*` failure).
        public static let authenticationFailed = Kind(base: .authenticationFailed)
        /// The server sent bytes or messages Bolt does not allow at that point; the connection is closed.
        public static let protocolViolation = Kind(base: .protocolViolation)
        /// The `bolt://` or `neo4j://` URI could not be parsed; ``BoltError/message`` says why.
        public static let invalidURI = Kind(base: .invalidURI)
        /// The server speaks none of the offered Bolt versions.
        public static let unsupportedVersion = Kind(base: .unsupportedVersion)
        /// No routing table or no server for the requested role.
        public static let routing = Kind(base: .routing)
        /// The client was shut down and takes no more work.
        public static let poolClosed = Kind(base: .poolClosed)
        /// A record field does not have the requested type.
        public static let typeMismatch = Kind(base: .typeMismatch)

        /// The kind's name, e.g. `server`, for logs.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The Neo4j status code, e.g. `Neo.ClientError.Schema.ConstraintValidationFailed`.
    public var code: String?
    /// The server's failure message, or the client's explanation; never credentials.
    public var message: String

    /// Creates an error of `kind`, with the Neo4j status code when there is one.
    public init(_ kind: Kind, code: String? = nil, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// Builds the error of a FAILURE: Bolt 5.7+ sends `neo4j_code`, older versions `code`.
    static func failure(_ metadata: [String: BoltValue]) -> BoltError {
        let code =
            metadata["neo4j_code"]?.stringValue ?? metadata["code"]?.stringValue
            ?? "Neo.DatabaseError.General.UnknownError"
        let message = metadata["message"]?.stringValue ?? ""
        let kind: Kind = code.hasPrefix("Neo.ClientError.Security.") ? .authenticationFailed : .server
        return BoltError(kind, code: code, message)
    }

    /// `Neo.TransientError...`, plus the cluster errors a fresh routing table fixes, plus a lost connection.
    public var isRetryable: Bool {
        switch self.kind.base {
        case .connectionFailed, .connectionClosed, .timeout, .routing: return true
        case .server:
            guard let code else { return false }
            if code.hasPrefix("Neo.TransientError.") {
                // Neo4j marks these two transient, but they are terminations a retry must not undo.
                return code != "Neo.TransientError.Transaction.Terminated"
                    && code != "Neo.TransientError.Transaction.LockClientStopped"
            }
            return self.needsRoutingRefresh
        default: return false
        }
    }

    /// A write reached a server that is no longer (or never was) the leader.
    public var needsRoutingRefresh: Bool {
        code == "Neo.ClientError.Cluster.NotALeader" || code == "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
    }

    /// The error's classification, the second part of its code (`ClientError`, `TransientError`, `DatabaseError`).
    public var classification: String? {
        self.code.flatMap { $0.split(separator: ".").dropFirst().first.map(String.init) }
    }

    /// The kind, status code and message in one line, for logs.
    public var description: String {
        if let code { return "Bolt \(self.kind) \(code): \(self.message)" }
        return "Bolt \(self.kind): \(self.message)"
    }
}
